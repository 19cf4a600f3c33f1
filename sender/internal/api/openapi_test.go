package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/sender/internal/api"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/openapi"
	"github.com/minipush/minipush/sender/internal/reason"
)

// The router and the document agree both ways: every route and method the
// API serves is documented, every documented one is served. A route added
// without its document fails here.
func TestRoutesMatchTheDocument(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.APIKeys = []config.APIKey{{Name: "t", Key: key}}
	rules, err := contentrules.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every optional route on: /metrics is served only with a handler.
	a := api.New(newMemStore(), &cfg, rules, api.Hooks{Metrics: http.NotFoundHandler()}, slog.New(slog.DiscardHandler))
	router, ok := a.Handler().(*mux.Router)
	if !ok {
		t.Fatalf("Handler() is a %T, want the *mux.Router to walk", a.Handler())
	}
	// The platforms' pushes are served beside the API, by the events
	// receiver: its routes are held to the document in its own package.
	c := openapitest.Must(t, openapi.Document().YAML(), openapitest.Scope(func(p string) bool {
		return !strings.HasPrefix(p, "/v1/platform-events/")
	}))
	c.CheckRoutes(router, http.Header{"Authorization": {"Bearer " + key}})
}

// GET /openapi.json serves the document as JSON, without an API key.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	code, b := do(t, hs, http.MethodGet, "/openapi.json", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s", code, b)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/v1/messages"] == nil {
		t.Fatalf("served document: openapi %q, paths %d, want 3.1.0 with /v1/messages", doc.OpenAPI, len(doc.Paths))
	}
	if string(b) != string(openapi.Document().JSON()) {
		t.Fatal("the served document differs from the embedded one")
	}
}

// The document's reason enum is the vocabulary, in its order: a reason
// added to package reason must be documented, and the other way round.
func TestReasonEnumIsTheVocabulary(t *testing.T) {
	t.Parallel()
	doc, err := openapitest.Load(openapi.Document().YAML())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range doc.Components.Schemas["Reason"].Value.Enum {
		got = append(got, fmt.Sprint(v))
	}
	if want := reason.Names(); !slices.Equal(got, want) {
		t.Fatalf("the document's Reason enum %v\nthe vocabulary            %v", got, want)
	}
}

// Every documented /v1 route refuses a query parameter it does not take
// with 400 naming it (issue 11: unknown query parameters are not ignored
// silently), before it reads a body or storage.
func TestUnknownQueryParameterOnEveryRoute(t *testing.T) {
	t.Parallel()
	hs, _, _ := serverWith(t, func(c *config.Config) {
		c.APIKeys = []config.APIKey{{Name: "t", Key: key, Scopes: config.Scopes}}
	})
	c := openapitest.Must(t, openapi.Document().YAML(), openapitest.Scope(func(p string) bool {
		return strings.HasPrefix(p, "/v1/") && !strings.HasPrefix(p, "/v1/platform-events/")
	}))
	routes := c.Documented()
	if len(routes) < 15 {
		t.Fatalf("%d documented /v1 routes, want the whole API", len(routes))
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, r := range routes {
		path := param.ReplaceAllString(r.Path, "x1") + "?app=shop&zz_unknown=1"
		code, b := do(t, hs, r.Method, path, "Bearer "+key, []byte(`{}`))
		var e struct {
			Problems []struct{ Field, Rule string }
		}
		_ = json.Unmarshal(b, &e)
		named := slices.ContainsFunc(e.Problems, func(p struct{ Field, Rule string }) bool {
			return p.Field == "zz_unknown" && p.Rule == "unknown_parameter"
		})
		if code != http.StatusBadRequest || !named {
			t.Errorf("%s: %d %s, want 400 naming zz_unknown (unknown_parameter)", r, code, b)
		}
	}
}

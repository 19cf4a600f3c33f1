package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/mockserver/internal/controlapi/openapi"
)

// The mock's control routes and its document agree both ways: every
// /_mock/… route and method served (the platforms' own control routes
// included) is documented, every documented one is served. A control route
// added without its document fails here. The UI (WithUI) is on, so that
// its routes are seen to stay out of /_mock/.
func TestControlRoutesMatchTheDocument(t *testing.T) {
	t.Parallel()
	s, err := New(WithUI(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, err := openapitest.New(t, openapi.Document().YAML(), openapitest.Scope(openapi.InScope))
	if err != nil {
		t.Fatal(err)
	}
	c.CheckRoutes(s.router, nil)
}

// GET /openapi.json serves the control API's document, open even when the
// control API needs a token.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	s, err := New(WithControlToken("control-token-0001"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s", rec.Code, rec.Body)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/_mock/messages"] == nil {
		t.Fatalf("served document: openapi %q, %d paths; want 3.1.0 with /_mock/messages", doc.OpenAPI, len(doc.Paths))
	}
}

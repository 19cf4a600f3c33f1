package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/openapi"
)

// Keys of one scope each, and the default key (send, read).
var scopedKeys = map[string]string{
	config.ScopeSend:  "scope-send-key-01",
	config.ScopeRead:  "scope-read-key-01",
	config.ScopeAdmin: "scope-admin-key-1",
}

func withScopedKeys(c *config.Config) {
	c.APIRate.PerSecond = 0
	for scope, k := range scopedKeys {
		c.APIKeys = append(c.APIKeys, config.APIKey{Name: scope + "-only", Key: k, Scopes: []string{scope}})
	}
}

// Every /v1 operation the document marks with x-scope answers 403, with a
// problem naming the Authorization header, to a key without that scope,
// and anything but 403 to a key holding only that scope: the router's
// scopes are the document's. The default key (no scopes configured) may
// send and read, not administer.
func TestScopesMatchTheDocument(t *testing.T) {
	t.Parallel()
	hs, _, _ := serverWith(t, withScopedKeys)
	doc, err := openapitest.Load(openapi.Document().YAML())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			raw, ok := op.Extensions["x-scope"]
			if !strings.HasPrefix(path, "/v1/") || op.Extensions["x-caller"] != nil {
				continue
			}
			if !ok {
				t.Errorf("%s %s has no x-scope", method, path)
				continue
			}
			var scope string
			switch v := raw.(type) {
			case string:
				scope = v
			case json.RawMessage:
				_ = json.Unmarshal(v, &scope)
			}
			concrete := strings.NewReplacer("{id}", "msg_1", "{name}", "shop").Replace(path) + "?app=shop"
			for other, k := range scopedKeys {
				code, b := do(t, hs, method, concrete, "Bearer "+k, nil)
				if other == scope {
					if code == http.StatusForbidden {
						t.Errorf("%s %s with the %s scope: 403 %s", method, path, scope, b)
					}
					continue
				}
				wellFormed(t, code, b, http.StatusForbidden)
				var e errorBody
				if err := json.Unmarshal(b, &e); err != nil || e.Problems[0].Field != "Authorization" || e.Problems[0].Rule != "scope" {
					t.Errorf("%s %s with the %s scope: %s, want a scope problem", method, path, other, b)
				}
			}
			code, _ := do(t, hs, method, concrete, "Bearer "+key, nil)
			if (code == http.StatusForbidden) != (scope == config.ScopeAdmin) {
				t.Errorf("%s %s (x-scope %s) with the default key: %d", method, path, scope, code)
			}
			checked++
		}
	}
	if checked < 15 {
		t.Fatalf("checked %d operations: the document's /v1 operations were not found", checked)
	}
}

package openapidoc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/internal/openapidoc"
)

func TestServesJSON(t *testing.T) {
	t.Parallel()
	d, err := openapidoc.New([]byte("openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /x: {get: {responses: {\"200\": {description: \"a <b> & c\"}}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(method, "/openapi.json", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %q", method, rec.Code, rec.Header().Get("Content-Type"))
		}
		if method == http.MethodHead {
			if rec.Body.Len() != 0 {
				t.Fatalf("HEAD with a body")
			}
			continue
		}
		var v struct {
			OpenAPI string `json:"openapi"`
			Paths   map[string]map[string]struct {
				Responses map[string]struct{ Description string } `json:"responses"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.OpenAPI != "3.1.0" || v.Paths["/x"]["get"].Responses["200"].Description != "a <b> & c" {
			t.Fatalf("converted document: %s", rec.Body)
		}
	}
}

func TestRefusesWhatIsNotADocument(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"a: [", "- a\n- b\n", "just text"} {
		if _, err := openapidoc.New([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

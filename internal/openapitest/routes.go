package openapitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// Route is one operation: a method on a path template ("/v1/messages/{id}").
type Route struct{ Method, Path string }

func (r Route) String() string { return r.Method + " " + r.Path }

// probeMethod is a method no route of ours serves: every route answers it
// 405 with the methods it does serve in Allow.
const probeMethod = "PROPFIND"

// varPattern matches a gorilla/mux path variable, with or without its
// pattern ({id}, {id:[0-9]+}).
var varPattern = regexp.MustCompile(`\{([^{}:]+)(:[^{}]*)?\}`)

// Served lists the routes of router whose paths are in scope, each method
// its handler serves. Methods are learnt by asking, not by reading
// matchers: each path (variables filled with a sample value) is sent a
// PROPFIND request with header (an API key, say), and the 405 it answers
// lists the methods in Allow. HEAD is left out: it follows GET. A path
// that does not answer 405 with Allow is an error: every route must.
func Served(router *mux.Router, header http.Header, inScope func(path string) bool) ([]Route, error) {
	var out []Route
	var errs []string
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return nil // a route without a path (a host or header matcher)
		}
		re, _ := route.GetPathRegexp()
		path := varPattern.ReplaceAllString(tmpl, "{$1}")
		if !inScope(path) {
			return nil
		}
		if !strings.HasSuffix(re, "$") {
			// A prefix: a subrouter's (no handler) is fine, a handler
			// serving a whole subtree cannot be documented.
			if route.GetHandler() != nil {
				errs = append(errs, fmt.Sprintf("%s: a handler on a path prefix serves undocumentable paths", tmpl))
			}
			return nil
		}
		concrete := varPattern.ReplaceAllString(tmpl, "probe1")
		req := httptest.NewRequest(probeMethod, concrete, nil)
		for k, vs := range header {
			req.Header[k] = vs
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		allow := rec.Header().Get("Allow")
		if rec.Code != http.StatusMethodNotAllowed || allow == "" {
			errs = append(errs, fmt.Sprintf("%s: %s %s answered %d (Allow %q), want 405 listing the methods served",
				tmpl, probeMethod, concrete, rec.Code, allow))
			return nil
		}
		for m := range strings.SplitSeq(allow, ",") {
			if m = strings.ToUpper(strings.TrimSpace(m)); m != "" && m != http.MethodHead {
				out = append(out, Route{m, path})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return sortRoutes(out), nil
}

// Documented lists the document's operations in scope.
func (c *Checker) Documented() []Route {
	var out []Route
	for path, item := range c.doc.Paths.Map() {
		if !c.scope(path) {
			continue
		}
		for method := range item.Operations() {
			if method != http.MethodHead {
				out = append(out, Route{strings.ToUpper(method), path})
			}
		}
	}
	return sortRoutes(out)
}

// CheckRoutes reports every route router serves that the document lacks,
// and every documented one router does not serve. header goes with the
// probes (Served).
func (c *Checker) CheckRoutes(router *mux.Router, header http.Header) {
	c.report.Helper()
	served, err := Served(router, header, c.scope)
	if err != nil {
		c.errorf("%v", err)
	}
	documented := c.Documented()
	for _, r := range served {
		if !slices.Contains(documented, r) {
			c.errorf("%s is served but not documented: add it to the OpenAPI document", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			c.errorf("%s is documented but not served", r)
		}
	}
	if len(served) == 0 {
		c.errorf("the router serves no route in scope: the walk found nothing to compare")
	}
}

func sortRoutes(rs []Route) []Route {
	slices.SortFunc(rs, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return slices.Compact(rs)
}

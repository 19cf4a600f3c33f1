package mockserver

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// exactPaths is a table in front of the router for the platform paths that
// the router sends to one handler by their path alone (every platform API:
// /cgi-bin/message/subscribe/send, /gateway.do, …): one map read instead of
// the router trying each of its hundreds of routes' regular expressions in
// turn and copying the request twice to attach the match (about 5 % of a
// send's handler in a profile). Every other path — prefixes, variables,
// the control API and the UI, whose subrouters add middleware — goes to the
// router as before.
type exactPaths struct {
	routes map[string]*mux.Route
	next   http.Handler
}

func (d *exactPaths) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt, ok := d.routes[r.URL.Path]; ok {
		rt.GetHandler().ServeHTTP(w, r)
		return
	}
	d.next.ServeHTTP(w, r)
}

// probeMethods are the methods a path must route the same way under to be
// in the table (a route that depends on the method is left to the router).
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodHead, http.MethodPatch, http.MethodOptions}

// newExactPaths builds the table from r's top-level routes whose template
// is a plain path (no variables, not a prefix) and that r itself matches
// first for that path under every method (no earlier route, prefix or
// matcher takes it).
func newExactPaths(r *mux.Router) *exactPaths {
	d := &exactPaths{routes: map[string]*mux.Route{}, next: r}
	_ = r.Walk(func(rt *mux.Route, _ *mux.Router, ancestors []*mux.Route) error {
		if len(ancestors) > 0 || rt.GetHandler() == nil {
			return nil
		}
		tpl, err := rt.GetPathTemplate()
		if err != nil || strings.ContainsAny(tpl, "{}") {
			return nil
		}
		if re, err := rt.GetPathRegexp(); err != nil || !strings.HasSuffix(re, "$") {
			return nil // a prefix
		}
		if _, dup := d.routes[tpl]; dup || !routesFirst(r, rt, tpl) {
			return nil
		}
		d.routes[tpl] = rt
		return nil
	})
	return d
}

// routesFirst reports whether r sends a request for path to rt under every
// probe method.
func routesFirst(r *mux.Router, rt *mux.Route, path string) bool {
	for _, m := range probeMethods {
		req := &http.Request{Method: m, URL: &url.URL{Path: path}, Header: http.Header{}, Host: "mock"}
		var match mux.RouteMatch
		if !r.Match(req, &match) || match.Route != rt || match.MatchErr != nil {
			return false
		}
	}
	return true
}

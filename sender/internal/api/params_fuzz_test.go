package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// routes are the API's paths with their parameter marked {}.
var routes = []string{"/v1/messages", "/v1/messages/{}", "/v1/messages/{}/retry", "/v1/broadcasts", "/v1/broadcasts/{}",
	"/v1/groups/{}", "/healthz", "/readyz", "/v1/{}", "/{}"}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch}

// FuzzPathAndQuery drives every route with any method, path parameter and
// query: the answer is never a 5xx, always a well-formed body, and a 400
// for a bad parameter names a parameter the request has (a query key, or
// the path's id or name).
func FuzzPathAndQuery(f *testing.F) {
	for _, s := range []struct {
		m, r    uint8
		seg, rq string
	}{
		{0, 0, "", "status=failed&app=shop&limit=1"}, {0, 0, "", "stauts=x"}, {0, 0, "", "limit=1&limit=2"},
		{0, 0, "", "cursor=%zz"}, {0, 1, "msg_0123", ""}, {0, 1, strings.Repeat("m", 70), ""}, {1, 2, "bad id", "x=1"},
		{0, 5, "g", "app=shop"}, {3, 5, "g\x01", "app=shop&force"}, {2, 5, "g", ""}, {0, 4, "bc_1", "a=%"},
		{5, 6, "", ""}, {0, 8, "nothing", ""}, {0, 0, "", "a;b=c"}, {0, 0, "", "=x&&app=%E4%B8%AD"},
	} {
		f.Add(s.m, s.r, s.seg, s.rq)
	}
	h, _, _ := handlerWith(f, func(c *config.Config) { c.APIRate.PerSecond = 0 })
	f.Fuzz(func(t *testing.T, m, r uint8, seg, rawQuery string) {
		method, route := methods[int(m)%len(methods)], routes[int(r)%len(routes)]
		path := strings.Replace(route, "{}", seg, 1)
		req := &http.Request{Method: method, URL: &url.URL{Path: path, RawPath: strings.Replace(route, "{}", url.PathEscape(seg), 1),
			RawQuery: rawQuery}, Header: http.Header{"Authorization": {"Bearer " + key}}, Host: "api.test",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		code, b := rec.Code, rec.Body.Bytes()
		if code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, rawQuery, code, b)
		}
		if code == http.StatusMovedPermanently || method == http.MethodHead || code == http.StatusNoContent {
			return // gorilla/mux cleans paths with redirects; HEAD has no body
		}
		if !json.Valid(b) {
			t.Fatalf("%s %s?%s: %d with a body that is not JSON: %q", method, path, rawQuery, code, b)
		}
		if code != http.StatusBadRequest {
			return
		}
		var e errorBody
		_ = json.Unmarshal(b, &e)
		// The names the query holds, as sent and as decoded; a problem may
		// cut a name short, or percent-encode one that is not UTF-8.
		var names []string
		for part := range strings.SplitSeq(rawQuery, "&") {
			k, _, _ := strings.Cut(part, "=")
			names = append(names, k, url.QueryEscape(k))
			if u, err := url.QueryUnescape(k); err == nil {
				names = append(names, u, url.QueryEscape(u))
			}
		}
		for _, p := range e.Problems {
			switch {
			case p.Field == "id" || p.Field == "name":
			case p.Field == "app" || p.Field == "more" || p.Field == "query":
				// A required ?app=, the note on left-out problems, a
				// parameter without a name.
			case slices.ContainsFunc(names, func(n string) bool { return p.Field != "" && strings.HasPrefix(n, p.Field) }):
			default:
				t.Fatalf("%s %s?%s: 400 names %q, which the request does not have: %s", method, path, rawQuery, p.Field, b)
			}
		}
	})
}

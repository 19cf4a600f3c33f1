package mockserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// The exact-path table serves a path only where the router would have
// chosen the same route: for every path in it, under every method and with
// the body types platforms send, the router matches that very route. Every
// platform's send path is in it (the hot paths it is for), and the control
// token still guards the control paths in it.
func TestExactPathsRouteAsTheRouter(t *testing.T) {
	t.Parallel()
	s, err := New(WithUI(true), WithControlToken("control-token-0001"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if len(s.exact.routes) < 50 {
		t.Fatalf("only %d paths in the table", len(s.exact.routes))
	}
	for path, rt := range s.exact.routes {
		for _, m := range append(probeMethods, "PROPFIND") {
			for _, ct := range []string{"", "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/xml"} {
				req := &http.Request{Method: m, URL: &url.URL{Path: path}, Header: http.Header{}, Host: "api.example"}
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				var match mux.RouteMatch
				if !s.router.Match(req, &match) || match.Route != rt {
					t.Errorf("%s %s (%q): the router takes another route", m, path, ct)
				}
			}
		}
	}
	for _, p := range []string{"/cgi-bin/message/subscribe/send", "/cgi-bin/message/custom/send",
		"/cgi-bin/message/wxopen/updatablemsg/send", "/api/notification/v2/subscription/notify_user/",
		"/api/apps/subscribe_notification/developer/v1/notify", "/openapi/mp/developer/message/template/send",
		"/rest/2.0/smartapp/template/message/subscribe/send", "/rest/2.0/smartapp/template/send",
		"/gateway.do", "/v3/alipay/open/app/mini/templatemessage/send", "/cgi-bin/token"} {
		if _, ok := s.exact.routes[p]; !ok {
			t.Errorf("send path %s not in the table", p)
		}
	}
	for path := range s.exact.routes {
		if !strings.HasPrefix(path, "/_mock") {
			continue
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("POST %s without the control token: HTTP %d, want 401", path, rec.Code)
		}
	}
	// A path outside the table still reaches the router (its 404 answer).
	for _, p := range []string{"/cgi-bin/message/subscribe/send/", "/no/such/path", "/cgi-bin//token"} {
		if _, ok := s.exact.routes[p]; ok {
			t.Errorf("%s in the table", p)
		}
	}
}

package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/console"
)

// TestSecureCookieOverTLS: served over TLS, the session cookie is Secure
// (and still HttpOnly, SameSite=Strict).
func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	c, err := console.New(http.NotFoundHandler(), []config.APIKey{{Name: "ops", Key: adminKey}}, []string{appName}, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	hs := httptest.NewTLSServer(c.Handler())
	t.Cleanup(hs.Close)
	hc := hs.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.PostForm(hs.URL+"/console/login", url.Values{"key": {adminKey}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cks := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cks) != 1 {
		t.Fatalf("sign in over TLS: %d, cookies %v", resp.StatusCode, cks)
	}
	if ck := cks[0]; !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: %+v, want Secure, HttpOnly, SameSite=Strict", ck)
	}
}

package controlapi_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
)

// TestSecretsAreNeverEchoed registers an app with a distinctive secret, then
// makes every kind of control call — successes and failures, including
// failures about the app and about the secret field itself — and greps
// each answer (body and headers) for the secret.
func TestSecretsAreNeverEchoed(t *testing.T) {
	t.Parallel()
	const sec = "S3CRET-zq8w-never-echo"
	m := start(t)
	check := func(what string, a answer) {
		t.Helper()
		if bytes.Contains(a.body, []byte(sec)) {
			t.Errorf("%s: answer %d holds the secret: %s", what, a.status, a.body)
		}
		for k, vs := range a.header {
			for _, v := range vs {
				if bytes.Contains([]byte(v), []byte(sec)) {
					t.Errorf("%s: header %s holds the secret", what, k)
				}
			}
		}
	}
	app := `{"platform":"wechat","app_id":"` + appID + `","secret":"` + sec + `"`
	calls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/_mock/apps", app + `}`},
		{http.MethodPost, "/_mock/apps", app + `,"users":["` + openID + `"],"templates":[{"template_id":"` + tmplID + `","keywords":["thing1"]}]}`},
		// Failures about the request. (Values of other fields may be quoted
		// back: only the secret field is secret.)
		{http.MethodPost, "/_mock/apps", app + `,"secrte":"` + sec + `"}`},
		{http.MethodPost, "/_mock/apps", `{"platform":"wechat","app_id":"` + sec + `x","secret":5}`},
		{http.MethodPost, "/_mock/apps", app + `,"templates":[{"template_id":"t","keywords":["bad"]}]}`},
		{http.MethodPost, "/_mock/apps", app},
		{http.MethodPost, "/_mock/apps", app + `} {"secret":"` + sec + `"}`},
		{http.MethodPost, "/_mock/apps", `{"secret":` + sec + `}`},
		{http.MethodPost, "/_mock/apps", `["` + sec + `"]`},
		{http.MethodPost, "/_mock/users", `{"platform":"wechat","app_id":"` + appID + `","openid":"` + openID + `"}`},
		{http.MethodPost, "/_mock/grants", `{"platform":"wechat","app_id":"` + appID + `","openid":"` + openID + `","template_id":"` + tmplID + `","count":1}`},
		{http.MethodPost, "/_mock/grants", `{"platform":"wechat","app_id":"` + appID + `","openid":"o","template_id":"t","count":1,"secret":"` + sec + `"}`},
		{http.MethodGet, "/_mock/apps", nil},
		{http.MethodGet, "/_mock/templates?platform=wechat&app_id=" + appID, nil},
		{http.MethodGet, "/_mock/grants?platform=wechat&app_id=" + appID, nil},
		{http.MethodGet, "/_mock/quotas?platform=wechat&app_id=" + appID, nil},
		{http.MethodGet, "/_mock/stats", nil},
		{http.MethodGet, "/_mock/faults", nil},
		{http.MethodGet, "/_mock/clock", nil},
		{http.MethodGet, "/_mock/content-rules", nil},
		// Platform calls that carry the secret, then the journal.
		{http.MethodGet, "/cgi-bin/token?" + url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {sec}}.Encode(), nil},
		{http.MethodGet, "/cgi-bin/token?" + url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {sec + "x"}}.Encode(), nil},
		{http.MethodPost, "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"` + appID + `","secret":"` + sec + `"}`},
		{http.MethodGet, "/_mock/requests", nil},
		{http.MethodGet, "/_mock/messages", nil},
		{http.MethodPost, "/_mock/reset", nil},
		{http.MethodGet, "/_mock/nothing?secret=" + sec, nil},
	}
	for _, c := range calls {
		check(c.method+" "+c.path, call(t, m, c.method, c.path, c.body))
	}
	// The typed client's errors carry the server's text: they must not
	// hold it either.
	bad := demoApp(0)
	bad.Secret = sec
	bad.Templates[0].Keywords = []string{"nokeyword"}
	_, err := m.Control.AddApp(ctx(t), bad)
	if err == nil {
		t.Fatal("AddApp accepted a bad keyword")
	}
	if bytes.Contains([]byte(err.Error()), []byte(sec)) {
		t.Fatalf("client error holds the secret: %v", err)
	}
}

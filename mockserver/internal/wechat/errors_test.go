package wechat_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func TestUnknownPathsAnswerInWeChatShape(t *testing.T) {
	t.Parallel()
	m := start(t)
	for _, path := range []string{
		"/cgi-bin/nope", "/cgi-bin/message/subscribe/nope", "/cgi-bin/token/extra", "/wxa/nope",
		"/wxaapi/newtmpl/nope", "/wxaapi/x", "/sns/jscode2session", "/cgi-bin/",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+path, func(t *testing.T) {
				wantMsg(t, m.do(method, path, nil), 40066, "invalid url")
			})
		}
	}
}

func TestMalformedJSONOnEveryPostEndpoint(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	paths := []string{
		"/cgi-bin/stable_token",
		sendPath(tok),
		secPath(tok),
		tmplPath("addtemplate", tok, nil),
		tmplPath("deltemplate", tok, nil),
	}
	for _, p := range paths {
		for _, body := range []string{`{`, `{"a":}`, `not json`, `{"touser":"x"}}`, "\xff\xfe"} {
			t.Run(p+"/"+body, func(t *testing.T) {
				wantMsg(t, m.do(http.MethodPost, p, body), 47001, "data format error")
			})
		}
		t.Run(p+"/empty", func(t *testing.T) {
			wantMsg(t, m.do(http.MethodPost, p, ""), 44002, "empty post data")
		})
	}
}

// TestSecretsNeverLeak drives every way a secret can reach the mock and
// checks the platform answers (do checks each body) and the journal.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.token(appA, secretA)
	for _, p := range []string{
		tokenPath("client_credential", appA, secretB),
		tokenPath("client_credential", appB, secretA),
		tokenPath("client_credential", "wxunknown", secretA),
		tokenPath("bad", appA, secretA),
	} {
		if r := m.do(http.MethodGet, p, nil); r.errCode(t) == 0 {
			t.Errorf("%s succeeded", p)
		}
	}
	for _, b := range []stableBody{
		{GrantType: "client_credential", AppID: appA, Secret: secretB},
		{GrantType: "x", AppID: appA, Secret: secretA},
		{GrantType: "client_credential", AppID: appA, Secret: secretA},
	} {
		m.do(http.MethodPost, "/cgi-bin/stable_token", b)
	}
	// A token used as a secret, a secret used as a token.
	m.send(secretA, goodMsg())
	m.do(http.MethodPost, secPath(secretA), map[string]string{"content": secretA})

	for _, path := range []string{"/_mock/requests", "/_mock/apps", "/_mock/stats", "/_mock/quotas?platform=wechat&app_id=" + appA} {
		resp, err := http.Get(m.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, s := range secrets {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s leaks a secret: %s", path, body)
			}
		}
	}
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat})
	if err != nil || reqs.Total < 10 {
		t.Fatalf("journal: %d entries, %v", reqs.Total, err)
	}
}

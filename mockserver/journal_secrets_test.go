package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

// TestJournalMasksEverySecret makes the token and send calls of all five
// platforms the way their SDKs do — app secrets in queries, JSON and form
// bodies, access tokens in queries, forms and token answers, Alipay
// signatures in requests and answers — and greps the journal for every
// secret value seen on the wire.
func TestJournalMasksEverySecret(t *testing.T) {
	t.Parallel()
	const sec = "S3cret-never-in-the-journal"
	s := seed.Demo()
	for i := range s.Apps {
		if s.Apps[i].Secret != "" {
			s.Apps[i].Secret = sec + "-" + s.Apps[i].Platform
		}
	}
	m := mocktest.Start(t, mockserver.WithSeed(s))
	secrets := []string{sec}
	do := func(method, path, contentType, body string, header http.Header) []byte {
		t.Helper()
		req, err := http.NewRequest(method, m.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	// token finds the access token in a token answer and remembers it as
	// a secret.
	token := func(answer []byte) string {
		t.Helper()
		var v any
		if err := json.Unmarshal(answer, &v); err != nil {
			t.Fatalf("token answer %s: %v", answer, err)
		}
		tok := findString(v, "access_token")
		if tok == "" {
			t.Fatalf("no access_token in %s", answer)
		}
		secrets = append(secrets, tok)
		return tok
	}
	form := "application/x-www-form-urlencoded"

	// WeChat: secret in the query, token in the answer, token in the query.
	tok := token(do(http.MethodGet, "/cgi-bin/token?"+url.Values{"grant_type": {"client_credential"},
		"appid": {seed.DemoWeChatAppID}, "secret": {sec + "-wechat"}}.Encode(), "", "", nil))
	do(http.MethodPost, "/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok), "application/json",
		`{"touser":"`+seed.DemoUserAlice+`","template_id":"`+seed.DemoTemplateOrder+`","data":{"thing1":{"value":"x"}}}`, nil)
	// Douyin: secret in a JSON body.
	token(do(http.MethodPost, "/api/apps/v2/token", "application/json",
		`{"appid":"`+seed.DemoDouyinAppID+`","secret":"`+sec+`-douyin","grant_type":"client_credential"}`, nil))
	// Kuaishou: secret and then the token in form bodies.
	tok = token(do(http.MethodPost, "/oauth2/access_token", form, url.Values{"app_id": {seed.DemoKuaishouAppID},
		"app_secret": {sec + "-kuaishou"}, "grant_type": {"client_credentials"}}.Encode(), nil))
	do(http.MethodPost, "/openapi/mp/developer/message/template/send", form, url.Values{"app_id": {seed.DemoKuaishouAppID},
		"access_token": {tok}, "template_id": {seed.DemoKuaishouTemplate}, "to_user": {seed.DemoKuaishouUser},
		"data": {`{"keyword1":"x"}`}}.Encode(), nil)
	// Baidu: client_secret in the query.
	tok = token(do(http.MethodGet, "/oauth/2.0/token?"+url.Values{"grant_type": {"client_credentials"},
		"client_id": {seed.DemoBaiduAppKey}, "client_secret": {sec + "-baidu"}, "scope": {"smartapp_snsapi_base"}}.Encode(), "", "", nil))
	do(http.MethodPost, "/rest/2.0/smartapp/template/message/subscribe/send?access_token="+url.QueryEscape(tok), form,
		url.Values{"touser_openId": {seed.DemoBaiduUser}, "template_id": {seed.DemoBaiduTemplate}}.Encode(), nil)
	// Alipay: a signed request; the answer is signed too.
	params := url.Values{"app_id": {seed.DemoAlipayAppID}, "method": {"alipay.open.app.mini.templatemessage.send"},
		"charset": {"utf-8"}, "sign_type": {"RSA2"}, "timestamp": {time.Now().Format("2006-01-02 15:04:05")},
		"version": {"1.0"}, "biz_content": {`{"to_user_id":"` + seed.DemoAlipayUser + `","user_template_id":"` + seed.DemoAlipayTemplate + `","data":"{}"}`}}
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	sig := alipaySign(t, alipayKey(t), flat)
	secrets = append(secrets, sig)
	params.Set("sign", sig)
	answer := do(http.MethodPost, "/gateway.do", form+"; charset=utf-8", params.Encode(), nil)
	var signed struct {
		Sign string `json:"sign"`
	}
	if err := json.Unmarshal(answer, &signed); err != nil || signed.Sign == "" {
		t.Fatalf("alipay answer %s carries no sign (%v)", answer, err)
	}
	secrets = append(secrets, signed.Sign)

	resp, err := http.Get(m.URL + "/_mock/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	journal, _ := io.ReadAll(resp.Body)
	var j mockapi.Requests
	if err := json.Unmarshal(journal, &j); err != nil || len(j.Requests) != 8 {
		t.Fatalf("journal (%v): %s", err, journal)
	}
	for _, c := range j.Requests {
		if c.Answer == "" || (c.Method == http.MethodPost && c.Body == "") {
			t.Errorf("%s %s: body %q answer %q, want both captured", c.Method, c.Path, c.Body, c.Answer)
		}
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), strings.ReplaceAll(s, "/", `\/`)} {
			if strings.Contains(string(journal), form) {
				t.Errorf("the journal holds the secret %q", form)
			}
		}
	}
	if !strings.Contains(string(journal), `sign=***`) || !strings.Contains(string(journal), `\"sign\":\"***\"`) {
		t.Errorf("the Alipay signatures are not shown masked: %s", journal)
	}
}

// findString returns the first string under key anywhere in v.
func findString(v any, key string) string {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v[key].(string); ok {
			return s
		}
		for _, x := range v {
			if s := findString(x, key); s != "" {
				return s
			}
		}
	case []any:
		for _, x := range v {
			if s := findString(x, key); s != "" {
				return s
			}
		}
	}
	return ""
}

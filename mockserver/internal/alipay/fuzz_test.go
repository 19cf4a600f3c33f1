package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// FuzzGateway posts arbitrary form bodies (and query strings) to the
// gateway: it must never fail with a 500, and must always answer the
// envelope — one "<x>_response" node with code and msg, and at most a
// string sign beside it.
//
// The app has 1024-bit keys: the fuzzer instruments the RSA code too, and
// 2048-bit signatures make every exec slow enough to starve the search.
func FuzzGateway(f *testing.F) {
	m := mocktest.Start(f)
	appKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	platformKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&appKey.PublicKey)
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey:     base64.StdEncoding.EncodeToString(pubDER),
		AlipayPrivateKey: base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(platformKey)),
		Templates:        []mockapi.Template{{TemplateID: templateID, Keywords: []string{"character_string1", "thing2", "time3"}}},
		Grants:           []mockapi.Grant{{OpenID: userID, TemplateID: templateID, LongTerm: true}},
	}); err != nil {
		f.Fatal(err)
	}
	c := &client{t: f, url: m.URL, appID: appID, key: appKey, alipayPub: &platformKey.PublicKey}
	valid := c.params(alipay.MethodTemplateSend, sendBiz(userID), nil)
	f.Add(encode(valid), "", "application/x-www-form-urlencoded")
	f.Add(encode(c.params(alipay.MethodOAuthToken, "", map[string]string{"grant_type": "authorization_code", "code": "x"})), "", "")
	f.Add("biz_content=%7B%22content%22%3A%22x%22%7D", encode(c.params(alipay.MethodContentDetect, "", nil)), "application/x-www-form-urlencoded;charset=UTF-8")
	f.Add("method=alipay.open.app.mini.templatemessage.send&biz_content={\"data\":\"{\\\"keyword1\\\":1}\"}", "app_id="+appID, "")
	f.Add("%zz&&==&;", "method=%", "text/plain")
	f.Add("--b\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\nalipay.system.oauth.token\r\n--b--", "", "multipart/form-data; boundary=b")
	f.Add("", "", "")
	h := m.Server.Handler()
	f.Fuzz(func(t *testing.T, body, query, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/gateway.do", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("not JSON: %v: %s", err, rec.Body)
		}
		nodes := 0
		for k, v := range env {
			switch {
			case k == "sign":
				var s string
				if json.Unmarshal(v, &s) != nil || s == "" {
					t.Fatalf("bad sign: %s", rec.Body)
				}
			case strings.HasSuffix(k, "_response"):
				nodes++
				var n map[string]any
				if json.Unmarshal(v, &n) != nil {
					t.Fatalf("node is not an object: %s", rec.Body)
				}
				// oauth.token's success node carries no code.
				if k != "alipay_system_oauth_token_response" && (n["code"] == nil || n["msg"] == nil) {
					t.Fatalf("node without code/msg: %s", rec.Body)
				}
			default:
				t.Fatalf("unexpected member %q: %s", k, rec.Body)
			}
		}
		if nodes != 1 {
			t.Fatalf("%d response nodes: %s", nodes, rec.Body)
		}
	})
}

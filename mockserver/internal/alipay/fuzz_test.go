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
	"net/url"
	"regexp"
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

// FuzzV3 sends arbitrary Authorization headers, paths and bodies to the
// OpenAPI v3 surface: never a 500 or a panic, always {code, message, links}
// on failure, and a 200 only for a request that carries a valid signature
// (which the fuzzer cannot forge, so only the seeded one).
func FuzzV3(f *testing.F) {
	m := mocktest.Start(f)
	appKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&appKey.PublicKey)
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: base64.StdEncoding.EncodeToString(pubDER), CertMode: true,
		Templates: []mockapi.Template{{TemplateID: templateID, Keywords: []string{"character_string1", "thing2", "time3"}}},
		Grants:    []mockapi.Grant{{OpenID: userID, TemplateID: templateID, LongTerm: true}},
	}); err != nil {
		f.Fatal(err)
	}
	c := &v3client{t: f, appID: appID, key: appKey}
	body := []byte(`{"to_user_id":"` + userID + `"}`)
	r := c.newReq(http.MethodPost, "/v3/alipay/open/app/mini/templatemessage/send", body, "")
	f.Add(r.scheme+" "+r.authString+",sign="+r.sign, r.path, string(body))
	f.Add("ALIPAY-SHA256withRSA app_id="+appID+",nonce=1,timestamp=1,sign=", "/v3/alipay/system/oauth/token", "{}")
	f.Add("ALIPAY-SHA256withRSA sign=,,,=,app_id", "/v3/x?y=%zz", "\x00")
	f.Add("ALIPAY-SHA256withRSA app_id="+appID+",app_cert_sn=,nonce_str=a,timestamp=99999999999999999999,expired_seconds=-1,sign=a", "/v3/", "")
	f.Add("", "/v3/alipay/open/app/mini/templatemessage/send", "")
	h := m.Server.Handler()
	f.Fuzz(func(t *testing.T, auth, path, body string) {
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/v3/") || strings.ContainsAny(path, " \r\n#") {
			return
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			return // only a valid signature gets here
		case http.StatusMovedPermanently:
			return // gorilla/mux redirects an unclean path ("/v3/.") to its clean form
		}
		var e struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Links   []json.RawMessage `json:"links"`
		}
		if rec.Code >= 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code == "" || e.Message == "" || len(e.Links) != 1 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzCertSN feeds arbitrary text to the SN functions: an error or a
// well-formed SN (32 hex digits; the root SN one or more joined with "_"),
// never a panic.
func FuzzCertSN(f *testing.F) {
	m := mocktest.Start(f)
	ans, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: alipay.DemoAppPublicKeyPEM, AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM, CertMode: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{"app_cert", "alipay_cert", "alipay_root_cert"} {
		f.Add(ans[k].(string))
	}
	f.Add("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
	f.Add("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")
	f.Add("")
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	f.Fuzz(func(t *testing.T, text string) {
		if sn, err := alipay.CertSN(text); err == nil && !hex32.MatchString(sn) {
			t.Fatalf("CertSN %q", sn)
		}
		if sn, err := alipay.RootCertSN(text); err == nil {
			for _, p := range strings.Split(sn, "_") {
				if !hex32.MatchString(p) {
					t.Fatalf("RootCertSN %q", sn)
				}
			}
		}
	})
}

package alipay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"crypto/rsa"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestV3SendDelivers(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"public key", "certificate"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			m, c, app := startMode(t, mode, mockapi.Grant{OpenID: userID, TemplateID: templateID, Count: 1})
			r := c.post(pathSendV3, sendBodyV3(userID))
			if body := c.wantV3OK(r); string(body) != "{}" {
				t.Fatalf("body %s, want {}", body)
			}
			if mode == "certificate" && r.header.Get("alipay-sn") != c.appCertSNOf("alipay") {
				t.Fatalf("alipay-sn %q", r.header.Get("alipay-sn"))
			}
			if mode == "public key" && r.header.Get("alipay-sn") != "" {
				t.Fatal("alipay-sn in public-key mode")
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("alipay-trace-id") == "" {
				t.Fatalf("headers %v", r.header)
			}
			got, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformAlipay})
			if err != nil || len(got.Messages) != 1 || got.Messages[0].AppID != app || got.Messages[0].Data["keyword2"] != "已发货" {
				t.Fatalf("inbox %+v %v", got.Messages, err)
			}
			// The grant is spent: the next send is refused in v3's shape.
			c.wantV3Error(c.post(pathSendV3, sendBodyV3(userID)), http.StatusBadRequest, "MSG_UNSUBSCRIBED", true)
			j, err := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: mockapi.PlatformAlipay})
			if err != nil || len(j.Requests) != 2 {
				t.Fatalf("journal %+v %v", j, err)
			}
			for i, want := range []int{0, 400} {
				e := j.Requests[i]
				if e.Endpoint != alipay.EndpointTemplateSend || e.Path != pathSendV3 || e.AppID != app || e.OpenID != userID || e.ErrCode != want {
					t.Errorf("journal[%d] = %+v", i, e)
				}
			}
		})
	}
}

// startMode starts a public-key or a certificate-mode app with g granted;
// it returns the mock, a v3 client and the app id.
func startMode(t *testing.T, mode string, g mockapi.Grant) (*mocktest.Mock, *v3client, string) {
	t.Helper()
	m, c := startV3(t)
	app := appID
	if mode == "certificate" {
		m, _, c, _ = startCert(t)
		app = certAppID
	}
	g.Platform, g.AppID = mockapi.PlatformAlipay, app
	if _, err := m.Control.Grant(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	return m, c, app
}

// appCertSNOf returns the SN the client trusts for "alipay".
func (c *v3client) appCertSNOf(string) string {
	for sn := range c.alipayKeys {
		return sn
	}
	return ""
}

// TestV3TamperingIsRefused changes each signed element after signing: the
// signature no longer verifies (401 invalid-signature) and nothing is sent.
func TestV3TamperingIsRefused(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"public key", "certificate"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			m, c, _ := startMode(t, mode, mockapi.Grant{OpenID: userID, TemplateID: templateID, LongTerm: true})
			body, _ := json.Marshal(sendBodyV3(userID))
			for _, tc := range []struct {
				name   string
				tamper func(r *v3req)
			}{
				{"nonce", func(r *v3req) { r.authString = strings.Replace(r.authString, "nonce=", "nonce=0", 1) }},
				{"timestamp", func(r *v3req) {
					i := strings.Index(r.authString, "timestamp=") + len("timestamp=")
					ms, _ := strconv.ParseInt(r.authString[i:], 10, 64)
					r.authString = r.authString[:i] + strconv.FormatInt(ms+1, 10)
				}},
				{"extra auth field", func(r *v3req) { r.authString += ",expired_seconds=120" }},
				{"query", func(r *v3req) { r.sendPath = r.path + "?x=1" }},
				{"body", func(r *v3req) { r.body = bytes.Replace(r.body, []byte("已发货"), []byte("已退货"), 1) }},
				{"app auth token added", func(r *v3req) { r.header.Set("alipay-app-auth-token", "202401BBxyz") }},
				{"signature", func(r *v3req) {
					b := []byte(r.sign)
					b[10] ^= 1
					r.sign = string(b)
				}},
				{"signature of another key", func(r *v3req) {
					r.sign = rsaSign(t, pemPrivate(t, alipay.DemoAlipayPrivateKeyPEM), "RSA2",
						string(v3Content(r.authString, r.method, r.path, r.body, "")))
				}},
			} {
				r := c.newReq(http.MethodPost, pathSendV3, body, "")
				tc.tamper(r)
				e := c.wantV3Error(c.send(r), http.StatusUnauthorized, "invalid-signature", true)
				if !strings.Contains(e.Message, "验签出错") {
					t.Errorf("%s: message %q", tc.name, e.Message)
				}
			}
			if got, _ := m.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformAlipay}); len(got.Messages) != 0 {
				t.Fatalf("a tampered request delivered %d messages", len(got.Messages))
			}
			// Signed as sent, each of these variants is accepted.
			r := c.newReq(http.MethodPost, pathSendV3, body, "202401BBxyz")
			c.wantV3OK(c.send(r))
			r = c.newReq(http.MethodPost, pathSendV3+"?x=1", body, "")
			r.sendPath = pathSendV3 + "?x=1"
			c.wantV3OK(c.send(r))
		})
	}
}

func TestV3Errors(t *testing.T) {
	t.Parallel()
	m, c := startV3(t)
	grant(t, m, userID, 5)
	body, _ := json.Marshal(sendBodyV3(userID))
	signedWith := func(authString string) *v3req {
		r := c.newReq(http.MethodPost, pathSendV3, body, "")
		r.authString = authString
		r.sign = rsaSign(t, c.key, "RSA2", string(v3Content(authString, r.method, r.path, r.body, "")))
		return r
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10) }
	for _, tc := range []struct {
		name   string
		req    func() *v3req
		status int
		code   string
		signed bool
	}{
		{"no Authorization", func() *v3req { r := c.newReq(http.MethodPost, pathSendV3, body, ""); r.noAuth = true; return r },
			400, "missing-signature", false},
		{"another scheme", func() *v3req {
			r := c.newReq(http.MethodPost, pathSendV3, body, "")
			r.scheme = "WECHATPAY2-SHA256-RSA2048"
			return r
		},
			400, "invalid-signature-type", false},
		{"no sign", func() *v3req { r := c.newReq(http.MethodPost, pathSendV3, body, ""); r.sign = ""; return r },
			400, "missing-signature", true},
		{"no app_id", func() *v3req { return signedWith("nonce=n1,timestamp=" + ms(0)) }, 400, "missing-app-id", false},
		{"no timestamp", func() *v3req { return signedWith("app_id=" + appID + ",nonce=n1") }, 400, "missing-timestamp", true},
		{"timestamp in seconds format", func() *v3req { return signedWith("app_id=" + appID + ",nonce=n1,timestamp=2024-01-01 10:00:00") },
			400, "invalid-timestamp", true},
		{"no nonce", func() *v3req { return signedWith("app_id=" + appID + ",timestamp=" + ms(0)) }, 400, "invalid-parameter", true},
		{"timestamp 6 minutes old", func() *v3req { return signedWith("app_id=" + appID + ",nonce=n1,timestamp=" + ms(-6*time.Minute)) },
			400, "illegal-timestamp", true},
		{"timestamp 6 minutes ahead", func() *v3req { return signedWith("app_id=" + appID + ",nonce=n1,timestamp=" + ms(6*time.Minute)) },
			400, "illegal-timestamp", true},
		{"expired_seconds passed", func() *v3req {
			return signedWith("app_id=" + appID + ",timestamp=" + ms(-3*time.Second) + ",nonce=n1,expired_seconds=2")
		}, 400, "illegal-timestamp", true},
		{"expired_seconds not a number", func() *v3req {
			return signedWith("app_id=" + appID + ",timestamp=" + ms(0) + ",nonce=n1,expired_seconds=x")
		}, 400, "invalid-parameter", true},
		{"unknown path", func() *v3req { return c.newReq(http.MethodPost, "/v3/alipay/open/app/mini/nosuch", body, "") }, 400, "invalid-method", true},
		{"content detect has no v3 path", func() *v3req {
			return c.newReq(http.MethodPost, "/v3/alipay/security/risk/content/detect", []byte(`{"content":"x"}`), "")
		}, 400, "invalid-method", true},
		{"GET on the send path", func() *v3req { return c.newReq(http.MethodGet, pathSendV3, nil, "") }, 400, "invalid-method", true},
		{"unknown app", func() *v3req { return signedWith("app_id=2021009999999999,nonce=n1,timestamp=" + ms(0)) }, 400, "invalid-app-id", false},
		{"body not JSON", func() *v3req { return c.newReq(http.MethodPost, pathSendV3, []byte(`{"to_user_id":`), "") }, 400, "illegal-json", true},
		{"empty body", func() *v3req { return c.newReq(http.MethodPost, pathSendV3, nil, "") }, 400, "ILLEGAL_ARGUMENT_PARAMS", true},
		{"body over 4 MiB", func() *v3req {
			return c.newReq(http.MethodPost, pathSendV3, bytes.Repeat([]byte(" "), 4<<20+1), "")
		}, 400, "invalid-parameter", true},
		{"unknown user", func() *v3req {
			b, _ := json.Marshal(sendBodyV3("2088000000009999"))
			return c.newReq(http.MethodPost, pathSendV3, b, "")
		}, 400, "USER_ID_INVALID", true},
		{"unknown template", func() *v3req {
			b := sendBodyV3(userID)
			b["user_template_id"] = "nosuch"
			j, _ := json.Marshal(b)
			return c.newReq(http.MethodPost, pathSendV3, j, "")
		}, 400, "USER_TEMPLATE_ILLEGAL", true},
		{"keyword too long", func() *v3req {
			b := sendBodyV3(userID)
			b["data"] = `{"keyword1":{"value":"SO1"},"keyword2":{"value":"` + strings.Repeat("长", 21) + `"},"keyword3":{"value":"2024-06-01 12:00"}}`
			j, _ := json.Marshal(b)
			return c.newReq(http.MethodPost, pathSendV3, j, "")
		}, 400, "ILLEGAL_ARGUMENT_PARAMS", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.t = t
			cc.wantV3Error(cc.send(tc.req()), tc.status, tc.code, tc.signed)
		})
	}
	if n := remaining(t, m, userID); n != 5 {
		t.Fatalf("refused sends spent grants: %d left", n)
	}

	t.Run("risky content", func(t *testing.T) {
		if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "已发货"}}}); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = m.Control.SetContentRules(context.Background(), mockapi.ContentRules{}) }()
		c.wantV3Error(c.post(pathSendV3, sendBodyV3(userID)), 400, "DATA_SENSITIVE", true)
	})
}

func TestV3CertificateModeErrors(t *testing.T) {
	t.Parallel()
	m, _, c, _ := startCert(t)
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: mockapi.PlatformAlipay, AppID: certAppID,
		OpenID: userID, TemplateID: templateID, LongTerm: true}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(sendBodyV3(userID))
	resign := func(r *v3req) {
		r.sign = rsaSign(t, c.key, "RSA2", string(v3Content(r.authString, r.method, r.path, r.body, "")))
	}
	for _, tc := range []struct {
		name   string
		mut    func(r *v3req)
		status int
		code   string
	}{
		{"no app_cert_sn", func(r *v3req) {
			r.authString = strings.Replace(r.authString, ",app_cert_sn="+c.appCertSN, "", 1)
			resign(r)
		}, 400, "missing-app-cert-sn"},
		{"another app_cert_sn", func(r *v3req) {
			r.authString = strings.Replace(r.authString, c.appCertSN, strings.Repeat("0", 32), 1)
			resign(r)
		}, 401, "app-cert-not-exist"},
		{"another root SN", func(r *v3req) { r.header.Set("alipay-root-cert-sn", strings.Repeat("1", 32)) }, 401, "invalid-alipay-root-cert-sn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.t = t
			r := cc.newReq(http.MethodPost, pathSendV3, body, "")
			tc.mut(r)
			cc.wantV3Error(cc.send(r), tc.status, tc.code, true)
		})
	}
	// Without the root SN header (go-pay/gopay never sends it) the call is
	// accepted: the header is checked only when present.
	r := c.newReq(http.MethodPost, pathSendV3, body, "")
	r.header.Del("alipay-root-cert-sn")
	c.wantV3OK(c.send(r))
	// gopay's certificate-mode authString says nonce_str: accepted too.
	r = c.newReq(http.MethodPost, pathSendV3, body, "")
	r.authString = strings.Replace(r.authString, ",nonce=", ",nonce_str=", 1)
	resign(r)
	c.wantV3OK(c.send(r))
	// An SDK configured with another Alipay certificate refuses the answer
	// (alipay-sn is not its SN).
	other := *c
	other.alipayKeys = map[string]*rsa.PublicKey{"0123": c.alipayKeys[c.appCertSNOf("alipay")]}
	if err := other.verify(c.post(pathSendV3, sendBodyV3(userID))); err == nil {
		t.Fatal("an answer verified against a certificate SN it does not carry")
	}
}

func TestV3OAuthToken(t *testing.T) {
	t.Parallel()
	m, c := startV3(t)
	code := mustCode(t, m, `{"app_id":"`+appID+`","user_id":"2088000000000077"}`)["code"].(string)
	var tok map[string]any
	if err := json.Unmarshal(c.wantV3OK(c.post(pathOAuthV3, map[string]string{"grant_type": "authorization_code", "code": code})), &tok); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"access_token", "refresh_token", "expires_in", "re_expires_in", "auth_start", "user_id", "open_id"} {
		if s, ok := tok[k].(string); !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, tok[k])
		}
	}
	if tok["user_id"] != "2088000000000077" || tok["expires_in"] != "1296000" {
		t.Fatalf("token %v", tok)
	}
	// The code is spent.
	c.wantV3Error(c.post(pathOAuthV3, map[string]string{"grant_type": "authorization_code", "code": code}), 400, "isv.code-invalid", true)
	// The refresh token gives a new pair, once.
	rt := tok["refresh_token"].(string)
	c.wantV3OK(c.post(pathOAuthV3, map[string]string{"grant_type": "refresh_token", "refresh_token": rt}))
	c.wantV3Error(c.post(pathOAuthV3, map[string]string{"grant_type": "refresh_token", "refresh_token": rt}), 400, "isv.refresh-token-invalid", true)
	c.wantV3Error(c.post(pathOAuthV3, map[string]string{"grant_type": "client_credentials"}), 400, "isv.grant-type-invalid", true)
	c.wantV3Error(c.send(c.newReq(http.MethodPost, pathOAuthV3, []byte("grant_type=x"), "")), 400, "illegal-json", true)
	j, _ := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: mockapi.PlatformAlipay, Endpoint: alipay.EndpointOAuthToken})
	if len(j.Requests) != 6 || j.Requests[0].OpenID == "" || j.Requests[0].Path != pathOAuthV3 {
		t.Fatalf("journal %+v", j.Requests)
	}
}

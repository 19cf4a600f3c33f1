package alipay_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestCertModeRegistration(t *testing.T) {
	t.Parallel()
	m, _, _, ca := startCert(t)
	// The certificates certify the registered keys and chain to a root of
	// the bundle.
	if !certKey(t, ca.appCert).Equal(&pemPrivate(t, alipay.DemoAppPrivateKeyPEM).PublicKey) {
		t.Fatal("app_cert does not certify the app public key")
	}
	if !certKey(t, ca.alipayCert).Equal(pemPublic(t, alipay.DemoAlipayPublicKeyPEM)) {
		t.Fatal("alipay_cert does not certify the platform key")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(ca.rootBundle)) {
		t.Fatal("alipay_root_cert holds no certificate")
	}
	for _, p := range []string{ca.appCert, ca.alipayCert} {
		b, _ := pem.Decode([]byte(p))
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: c.NotBefore.AddDate(1, 0, 0),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Fatalf("%s does not chain to the root bundle: %v", c.Subject, err)
		}
	}
	// The answer's SNs are the SDKs' SNs; the root SN joins two RSA roots
	// and leaves the Ed25519 one out.
	rootSN := sdkRootCertSN(t, ca.rootBundle)
	if ca.answer["app_cert_sn"] != sdkCertSN(t, ca.appCert) || ca.answer["alipay_cert_sn"] != sdkCertSN(t, ca.alipayCert) ||
		ca.answer["alipay_root_cert_sn"] != rootSN || len(strings.Split(rootSN, "_")) != 2 ||
		strings.Count(ca.rootBundle, "BEGIN CERTIFICATE") != 3 {
		t.Fatalf("SNs %v, SDK root SN %s", ca.answer, rootSN)
	}
	// The certificates are not shown again.
	apps, err := m.Control.Apps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(apps)
	if strings.Contains(string(raw), "CERTIFICATE") || strings.Contains(string(raw), "_cert") {
		t.Fatalf("GET /_mock/apps shows certificates: %s", raw)
	}
	// The CA is deterministic: another mock issues the same certificates
	// for the same app and key.
	_, _, _, again := startCert(t)
	if again.appCert != ca.appCert || again.alipayCert != ca.alipayCert || again.rootBundle != ca.rootBundle {
		t.Fatal("certificates differ between two mocks")
	}
}

func TestCertModeIsAlipayOnly(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t)
	_, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformWeChat, AppID: "wx0000000000000001",
		Secret: "s", CertMode: true})
	var ae *mockclient.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Field != "cert_mode" {
		t.Fatalf("err %v, want 400 naming cert_mode", err)
	}
}

// certParams are a certificate-mode request's extra (signed) parameters.
func certParams(c *v3client) map[string]string {
	return map[string]string{"app_cert_sn": c.appCertSN, "alipay_root_cert_sn": c.rootCertSN}
}

// gopaySignData is go-pay/gopay alipay getSignData in certificate mode: the
// text between `_response":` and `,"alipay_cert_sn":` — it only works when
// the platform puts alipay_cert_sn right after the node.
func gopaySignData(body string) (string, bool) {
	i := strings.Index(body, `_response":`)
	j := strings.Index(body, `,"alipay_cert_sn":`)
	if i < 0 || j < i {
		return "", false
	}
	return body[i+len(`_response":`) : j], true
}

func TestGatewayCertMode(t *testing.T) {
	t.Parallel()
	m, c, v3, ca := startCert(t)
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: mockapi.PlatformAlipay, AppID: certAppID,
		OpenID: userID, TemplateID: templateID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	r := c.exec(alipay.MethodTemplateSend, sendBiz(userID), certParams(v3))
	wantCode(t, c.node(r, nodeSend, true), "10000", "")
	var env struct {
		SN string `json:"alipay_cert_sn"`
	}
	_ = json.Unmarshal([]byte(r.body), &env)
	if env.SN != sdkCertSN(t, ca.alipayCert) {
		t.Fatalf("alipay_cert_sn %q: %s", env.SN, r.body)
	}
	text, ok := gopaySignData(r.body)
	node, _ := signedText(r.body, nodeSend)
	if !ok || text != node || !strings.HasSuffix(r.body, `"alipay_cert_sn":"`+env.SN+`","sign":"`+r.body[strings.LastIndex(r.body, `"sign":"`)+8:]) {
		t.Fatalf("alipay_cert_sn not between the node and sign: %s", r.body)
	}
	if len(messages(t, m)) != 1 {
		t.Fatal("not delivered")
	}

	for _, tc := range []struct {
		name      string
		extra     map[string]string
		code, sub string
	}{
		{"no app_cert_sn", map[string]string{"alipay_root_cert_sn": v3.rootCertSN}, "40001", "isv.missing-app-cert-sn"},
		{"another app_cert_sn", map[string]string{"app_cert_sn": "0123456789abcdef0123456789abcdef", "alipay_root_cert_sn": v3.rootCertSN},
			"40002", "isv.app-cert-not-exist"},
		{"no alipay_root_cert_sn", map[string]string{"app_cert_sn": v3.appCertSN}, "40001", "isv.missing-alipay-root-cert-sn"},
		{"only one root SN", map[string]string{"app_cert_sn": v3.appCertSN, "alipay_root_cert_sn": strings.Split(v3.rootCertSN, "_")[0]},
			"40002", "isv.invalid-alipay-root-cert-sn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.t = t
			wantCode(t, cc.node(cc.exec(alipay.MethodTemplateSend, sendBiz(userID), tc.extra), nodeSend, true), tc.code, tc.sub)
		})
	}
	t.Run("SN added after signing", func(t *testing.T) {
		cc := *c
		cc.t = t
		p := cc.params(alipay.MethodTemplateSend, sendBiz(userID), map[string]string{"alipay_root_cert_sn": v3.rootCertSN})
		p["app_cert_sn"] = v3.appCertSN
		wantCode(t, cc.node(cc.call(viaSDK, p), nodeSend, true), "40002", "isv.invalid-signature")
	})
	if n := len(messages(t, m)); n != 1 {
		t.Fatalf("refused calls delivered: inbox %d", n)
	}
}

func TestCertDownload(t *testing.T) {
	t.Parallel()
	const node = "alipay_open_app_alipaycert_download_response"
	m, c, v3, ca := startCert(t)
	sn := sdkCertSN(t, ca.alipayCert)
	n := c.node(c.exec(alipay.MethodCertDownload, `{"alipay_cert_sn":"`+sn+`"}`, certParams(v3)), node, true)
	wantCode(t, n, "10000", "")
	raw, err := base64.StdEncoding.DecodeString(n["alipay_cert_content"].(string))
	if err != nil || string(raw) != ca.alipayCert || sdkCertSN(t, string(raw)) != sn {
		t.Fatalf("alipay_cert_content does not decode to the Alipay certificate: %v", err)
	}
	wantCode(t, c.node(c.exec(alipay.MethodCertDownload, `{"alipay_cert_sn":"deadbeef"}`, certParams(v3)), node, true),
		"40004", "isv.alipay-cert-not-exist")
	wantCode(t, c.node(c.exec(alipay.MethodCertDownload, `{}`, certParams(v3)), node, true), "40004", "INVALID_PARAMETER")
	// A public-key app holds no Alipay certificate.
	_, pk := start(t)
	wantCode(t, pk.node(pk.exec(alipay.MethodCertDownload, `{"alipay_cert_sn":"`+sn+`"}`, nil), node, true),
		"40004", "isv.alipay-cert-not-exist")
	// Its own fault endpoint and quota.
	addFaultOn(t, m, mockapi.Fault{Endpoint: alipay.EndpointCertDownload, ErrCode: code(40004), ErrMsg: "isv.alipay-cert-not-exist"})
	wantCode(t, c.node(c.exec(alipay.MethodCertDownload, `{"alipay_cert_sn":"`+sn+`"}`, certParams(v3)), node, true),
		"40004", "isv.alipay-cert-not-exist")
	j, _ := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: mockapi.PlatformAlipay, Endpoint: alipay.EndpointCertDownload})
	if len(j.Requests) != 4 || j.Requests[3].Fault == "" {
		t.Fatalf("journal %+v", j.Requests)
	}
}

func addFaultOn(t *testing.T, m *mocktest.Mock, f mockapi.Fault) {
	t.Helper()
	f.Platform = mockapi.PlatformAlipay
	if _, err := m.Control.AddFault(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

func TestContentSyncDetect(t *testing.T) {
	t.Parallel()
	const node = "alipay_security_risk_content_sync_detect_response"
	m, c := start(t)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{
		Risky: []mockapi.ContentWord{{Word: "fake-invoice"}}, Review: []mockapi.ContentWord{{Word: "limited-offer"}}}); err != nil {
		t.Fatal(err)
	}
	biz := func(text string) string {
		b, _ := json.Marshal(map[string]any{"request_id": "r1", "products": "TJ_ILLEGAL_MC,TJ_PORN_MC", "channel": "tinyapp-eco-open",
			"content_type": "TEXT", "data_list": []string{text}, "open_id": "074a"})
		return string(b)
	}
	for _, tc := range []struct{ text, suggestion string }{
		{"hello there", "pass"}, {"buy a fake-invoice now", "block"}, {"limited-offer today", "review"},
	} {
		n := c.node(c.exec(alipay.MethodContentSync, biz(tc.text), nil), node, true)
		wantCode(t, n, "10000", "")
		if n["suggestion"] != tc.suggestion || n["request_id"] != "r1" || n["is_sync"] != true || n["meter_products"] != "TJ_ILLEGAL_MC;TJ_PORN_MC" {
			t.Fatalf("%q: node %v", tc.text, n)
		}
		labels, hit := n["detect_check_labels"].(map[string]any)
		if hit != (tc.suggestion != "pass") || hit && labels["label"] != "TJ_ILLEGAL_MC" {
			t.Fatalf("%q: labels %v", tc.text, n["detect_check_labels"])
		}
	}
	for name, b := range map[string]string{
		"no request_id":  `{"products":"TJ_ILLEGAL_MC","channel":"c","content_type":"TEXT","data_list":["x"]}`,
		"no products":    `{"request_id":"r","channel":"c","content_type":"TEXT","data_list":["x"]}`,
		"no channel":     `{"request_id":"r","products":"p","content_type":"TEXT","data_list":["x"]}`,
		"bad type":       `{"request_id":"r","products":"p","channel":"c","content_type":"VIDEO","data_list":["x"]}`,
		"two items":      `{"request_id":"r","products":"p","channel":"c","content_type":"TEXT","data_list":["x","y"]}`,
		"no data_list":   `{"request_id":"r","products":"p","channel":"c","content_type":"TEXT"}`,
		"not JSON":       `{"request_id"`,
		"no biz_content": ``,
	} {
		wantCode(t, c.node(c.exec(alipay.MethodContentSync, b, nil), node, true), "40004", "INVALID_PARAMETER")
		_ = name
	}
	// PICTURE is not inspected.
	pic := strings.Replace(biz("https://x/fake-invoice.png"), `"TEXT"`, `"PICTURE"`, 1)
	if n := c.node(c.exec(alipay.MethodContentSync, pic, nil), node, true); n["suggestion"] != "pass" {
		t.Fatalf("picture: %v", n)
	}
	// Its own endpoint for faults and quotas.
	addFaultOn(t, m, mockapi.Fault{Endpoint: alipay.EndpointContentSyncDetect, ErrCode: code(20000), Times: 1})
	wantCode(t, c.node(c.exec(alipay.MethodContentSync, biz("x"), nil), node, true), "20000", "isp.unknow-error")
	if err := m.Control.SetQuota(context.Background(), mockapi.Quota{Platform: mockapi.PlatformAlipay, AppID: appID,
		Endpoint: alipay.EndpointContentSyncDetect, Limit: 0, Per: "day"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.node(c.exec(alipay.MethodContentSync, biz("x"), nil), node, true), "40004", "isv.app-call-limited")
}

func TestV3FaultsAndQuotas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fault    mockapi.Fault
		status   int
		code     string
		message  string
		delivers bool
	}{
		{"errcode 0 is a success that does nothing", mockapi.Fault{Endpoint: alipay.EndpointOpenAPIV3, ErrCode: code(0)}, 200, "", "", false},
		{"-1 is 500 unknow-error", mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(-1)}, 500, "unknow-error", "", false},
		{"an HTTP status with a code", mockapi.Fault{Endpoint: alipay.EndpointOpenAPIV3, ErrCode: code(401),
			ErrMsg: "invalid-auth-token 无效的访问令牌"}, 401, "invalid-auth-token", "无效的访问令牌", false},
		{"an HTTP status alone", mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(403)}, 403, "insufficient-isv-permissions", "", false},
		{"a gateway code", mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(40004), ErrMsg: "FORM_ID_SEND_LIMIT"},
			400, "FORM_ID_SEND_LIMIT", "", false},
		{"a gateway 20000", mockapi.Fault{Endpoint: alipay.EndpointOpenAPIV3, ErrCode: code(20000)}, 500, "unknow-error", "", false},
		{"another user's fault", mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(-1), OpenID: "2088000000000999"}, 200, "", "", true},
		{"a gateway fault leaves v3 alone", mockapi.Fault{Endpoint: alipay.EndpointGateway, ErrCode: code(-1)}, 200, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, c := startV3(t)
			grant(t, m, userID, 1)
			addFaultOn(t, m, tc.fault)
			r := c.post(pathSendV3, sendBodyV3(userID))
			if tc.status == 200 {
				if string(c.wantV3OK(r)) != "{}" {
					t.Fatalf("body %s", r.body)
				}
			} else {
				e := c.wantV3Error(r, tc.status, tc.code, true)
				if tc.message != "" && e.Message != tc.message {
					t.Fatalf("message %q", e.Message)
				}
			}
			if got := len(messages(t, m)); got != map[bool]int{true: 1, false: 0}[tc.delivers] {
				t.Fatalf("inbox %d", got)
			}
		})
	}
	t.Run("http_status fault", func(t *testing.T) {
		t.Parallel()
		m, c := startV3(t)
		addFaultOn(t, m, mockapi.Fault{Endpoint: alipay.EndpointOpenAPIV3, HTTPStatus: 502})
		if r := c.post(pathSendV3, sendBodyV3(userID)); r.status != 502 {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("quotas", func(t *testing.T) {
		t.Parallel()
		m, c := startV3(t)
		grant(t, m, userID, 5)
		for _, ep := range []string{alipay.EndpointTemplateSend, alipay.EndpointOpenAPIV3} {
			if err := m.Control.SetQuota(context.Background(), mockapi.Quota{Platform: mockapi.PlatformAlipay, AppID: appID,
				Endpoint: ep, Limit: 2, Per: "day"}); err != nil {
				t.Fatal(err)
			}
		}
		c.wantV3OK(c.post(pathSendV3, sendBodyV3(userID)))
		// The send quota is shared with the gateway.
		wantCode(t, (&client{t: t, url: m.URL, appID: appID, key: c.key, alipayPub: c.alipayPub, hc: c.hc}).node(
			(&client{t: t, url: m.URL, appID: appID, key: c.key, alipayPub: c.alipayPub, hc: c.hc}).exec(alipay.MethodTemplateSend, sendBiz(userID), nil),
			nodeSend, true), "10000", "")
		e := c.wantV3Error(c.post(pathSendV3, sendBodyV3(userID)), 429, "app-call-limited", true)
		if !strings.Contains(e.Message, alipay.EndpointTemplateSend) {
			t.Fatalf("message %q", e.Message)
		}
		// openapi_v3 counts every v3 call: 2 used (the refused one counted).
		c.wantV3Error(c.post(pathOAuthV3, map[string]string{"grant_type": "x"}), 429, "app-call-limited", true)
	})
}

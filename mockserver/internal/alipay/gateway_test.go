package alipay_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const detectBiz = `{"content":"你好，欢迎光临"}`

func TestGatewayAcceptsEveryTransport(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	for _, tr := range []transport{viaSDK, viaForm, viaQuery} {
		t.Run(tr.String(), func(t *testing.T) {
			r := c.call(tr, c.params(alipay.MethodContentDetect, detectBiz, nil))
			if r.contentType != "text/html;charset=utf-8" {
				t.Errorf("Content-Type %q", r.contentType)
			}
			n := c.node(r, nodeDetect, true)
			wantCode(t, n, "10000", "")
			if n["action"] != "PASSED" {
				t.Errorf("action %v, want PASSED", n["action"])
			}
		})
	}
}

// Every parameter the caller signed is covered: changing any of them after
// signing (to a value that is itself valid) fails the signature check.
func TestTamperedParameterFailsSignature(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	// A second app with the same key, so that a changed app_id still names
	// a registered app and reaches the signature check.
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay,
		AppID: "2021000000000043", AppPublicKey: alipay.DemoAppPublicKeyPEM,
		AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM}); err != nil {
		t.Fatal(err)
	}
	tampered := map[string]string{
		"app_id":      "2021000000000043",
		"method":      alipay.MethodTemplateSend,
		"format":      "json",
		"charset":     "UTF-8",
		"sign_type":   "RSA",
		"timestamp":   "2020-01-01 00:00:00",
		"version":     "1.1",
		"alipay_sdk":  "other",
		"biz_content": `{"content":"你好"}`,
	}
	base := c.params(alipay.MethodContentDetect, detectBiz, nil)
	for name := range base {
		if name == "sign" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			v, ok := tampered[name]
			if !ok {
				t.Fatalf("no tampered value for signed parameter %s", name)
			}
			p := c.params(alipay.MethodContentDetect, detectBiz, nil)
			p[name] = v
			node := nodeDetect
			if name == "method" {
				node = nodeSend
			}
			answer := *c
			if name == "sign_type" {
				answer.answerSignType = "RSA"
			}
			n := answer.node(c.call(viaSDK, p), node, true)
			wantCode(t, n, "40002", "isv.invalid-signature")
			if !strings.Contains(n["sub_msg"].(string), signContent(p)) {
				t.Errorf("sub_msg does not quote the verified string: %v", n["sub_msg"])
			}
		})
	}
	t.Run("added parameter", func(t *testing.T) {
		p := c.params(alipay.MethodContentDetect, detectBiz, nil)
		p["notify_url"] = "https://example.com/notify"
		wantCode(t, c.node(c.call(viaSDK, p), nodeDetect, true), "40002", "isv.invalid-signature")
	})
	t.Run("other key", func(t *testing.T) {
		other := *c
		other.key = pemPrivate(t, alipay.DemoAlipayPrivateKeyPEM) // not the app's key
		r := c.call(viaSDK, other.params(alipay.MethodContentDetect, detectBiz, nil))
		wantCode(t, c.node(r, nodeDetect, true), "40002", "isv.invalid-signature")
	})
	t.Run("garbage sign", func(t *testing.T) {
		p := c.params(alipay.MethodContentDetect, detectBiz, nil)
		p["sign"] = "not base64!"
		wantCode(t, c.node(c.call(viaSDK, p), nodeDetect, true), "40002", "isv.invalid-signature")
	})
}

// An empty parameter is left out of the signed string (getSignContent
// drops it), so sending one does not break the signature.
func TestEmptyParameterIsNotSigned(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	p := c.params(alipay.MethodContentDetect, detectBiz, map[string]string{"app_auth_token": ""})
	wantCode(t, c.node(c.call(viaForm, p), nodeDetect, true), "10000", "")
}

func TestMissingCommonParameter(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	for _, tc := range []struct {
		name, sub, node string
		signed          bool
	}{
		{"method", "isv.missing-method", "error_response", true},
		{"sign", "isv.missing-signature", nodeDetect, true},
		{"sign_type", "isv.missing-signature-type", nodeDetect, true},
		{"app_id", "isv.missing-app-id", nodeDetect, false},
		{"timestamp", "isv.missing-timestamp", nodeDetect, true},
		{"version", "isv.missing-version", nodeDetect, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.params(alipay.MethodContentDetect, detectBiz, nil)
			delete(p, tc.name)
			if tc.name != "sign" {
				c.sign(p)
			}
			wantCode(t, c.node(c.call(viaSDK, p), tc.node, tc.signed), "40001", tc.sub)
		})
	}
}

func TestInvalidCommonParameter(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	for _, tc := range []struct {
		name, param, value, sub, node string
		signed                        bool
	}{
		{"unknown app", "app_id", "2021009999999999", "isv.invalid-app-id", nodeDetect, false},
		{"unknown method", "method", "alipay.trade.query", "isv.invalid-method", "error_response", true},
		{"xml format", "format", "XML", "isv.invalid-format", nodeDetect, true},
		{"gbk charset", "charset", "GBK", "isv.invalid-charset", nodeDetect, true},
		{"md5 sign_type", "sign_type", "MD5", "isv.invalid-signature-type", nodeDetect, true},
		{"slashes", "timestamp", "2024/06/01 12:00:00", "isv.invalid-timestamp", nodeDetect, true},
		{"iso", "timestamp", "2024-06-01T12:00:00", "isv.invalid-timestamp", nodeDetect, true},
		{"no seconds", "timestamp", "2024-06-01 12:00", "isv.invalid-timestamp", nodeDetect, true},
		{"month 13", "timestamp", "2024-13-01 12:00:00", "isv.invalid-timestamp", nodeDetect, true},
		{"unix", "timestamp", "1717200000", "isv.invalid-timestamp", nodeDetect, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.params(alipay.MethodContentDetect, detectBiz, map[string]string{tc.param: tc.value})
			wantCode(t, c.node(c.call(viaSDK, p), tc.node, tc.signed), "40002", tc.sub)
		})
	}
}

// Clock skew is not checked: callers send their local time.
func TestOldTimestampAccepted(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	p := c.params(alipay.MethodContentDetect, detectBiz, map[string]string{"timestamp": "2014-07-24 03:07:50"})
	wantCode(t, c.node(c.call(viaSDK, p), nodeDetect, true), "10000", "")
}

// sign_type RSA (SHA1withRSA) is accepted, and the answer is signed the
// same way.
func TestLegacyRSASignType(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	p := c.params(alipay.MethodContentDetect, detectBiz, map[string]string{"sign_type": "RSA"})
	answer := *c
	answer.answerSignType = "RSA"
	wantCode(t, answer.node(c.call(viaSDK, p), nodeDetect, true), "10000", "")
}

// Query parameters win over body parameters of the same name.
func TestQueryAndBodyTogether(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	p := c.params(alipay.MethodContentDetect, detectBiz, nil)
	req, _ := http.NewRequest(http.MethodPost, c.url+"/gateway.do?app_id="+appID+"&method="+alipay.MethodContentDetect,
		strings.NewReader(encode(p)+"&method=alipay.trade.query"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantCode(t, c.node(c.do(req), nodeDetect, true), "10000", "")
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	p := c.params(alipay.MethodContentDetect, detectBiz, nil)
	body := encode(p) + "&pad=" + strings.Repeat("a", 5<<20)
	req, _ := http.NewRequest(http.MethodPost, c.url+"/gateway.do", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantCode(t, c.node(c.do(req), "error_response", false), "40002", "isv.invalid-parameter")
}

func encode(p map[string]string) string {
	v := url.Values{}
	for k, x := range p {
		v.Set(k, x)
	}
	return v.Encode()
}

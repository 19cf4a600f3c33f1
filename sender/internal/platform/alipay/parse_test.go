package alipay

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

const (
	testAppID    = "2021000000000001"
	sendNode     = "alipay_open_app_mini_templatemessage_send_response"
	detectNode   = "alipay_security_risk_content_detect_response"
	okNode       = `{"code":"10000","msg":"Success"}`
	notSubNode   = `{"code":"40004","msg":"Business Failed","sub_code":"USER_NOT_SUBSCRIBED","sub_msg":"用户未订阅该模板消息"}`
	unknownAppEr = `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}}`
)

func testClient(tb testing.TB) *Client {
	tb.Helper()
	k := Keys(tb)
	c, err := New(Config{AppID: testAppID, PrivateKey: k.AppPKCS1PEM, AlipayPublicKey: k.AlipayPublicPEM})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// sigOf is the platform's signature of text, made independently of the
// client's code.
func sigOf(tb testing.TB, k *rsa.PrivateKey, text string) string {
	tb.Helper()
	d := sha256.Sum256([]byte(text))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// envelope is {"<name>":<nodeText>,"sign":"<sig of nodeText>"}.
func envelope(tb testing.TB, k *rsa.PrivateKey, name, nodeText string) string {
	return `{"` + name + `":` + nodeText + `,"sign":"` + sigOf(tb, k, nodeText) + `"}`
}

// checkError holds every error the client makes to its contract: a
// classified *platform.Error that names alipay, bounded, with no key
// material. Never class token: Alipay has no token.
func checkError(t *testing.T, perr *platform.Error) {
	t.Helper()
	switch perr.Class {
	case message.OutcomePermanent, message.OutcomeRetryable, message.OutcomeThrottled, message.OutcomeCredentials:
	default:
		t.Fatalf("error %q has class %q", perr, perr.Class)
	}
	platformtest.CheckError(t, perr, Platform, Keys(t).PrivateMaterial()...)
	if len(perr.Message) > 2*maxMessage+len(MethodContentDetect)+300 || len(perr.Code) > maxSubCode+20 {
		t.Fatalf("error %q is unbounded", perr)
	}
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	k := Keys(t)
	ali, other := k.Alipay, k.Other
	slashNode := `{"code":"40004","msg":"Business Failed","sub_code":"PAGE_ILLEGAL","sub_msg":"pages/a/b"}`
	spaced := `{ "code" : "10000",  "msg": "Success" }`
	tampered := strings.Replace(envelope(t, ali, sendNode, notSubNode), "USER_NOT_SUBSCRIBED", "USER_NOT_SUBSCRIBEE", 1)
	tests := []struct {
		name      string
		body      string
		wantClass message.Outcome // "" for success
		wantCode  string
		wantRetry time.Duration
	}{
		{name: "signed success", body: envelope(t, ali, sendNode, okNode)},
		{name: "signed success, code as a number", body: envelope(t, ali, sendNode, `{"code":10000,"msg":"Success"}`)},
		{name: "sign before the node", body: `{"sign":"` + sigOf(t, ali, okNode) + `","` + sendNode + `":` + okNode + `}`},
		{name: "whitespace inside and around the node is signed as sent",
			body: "{\n  \"" + sendNode + "\" :  " + spaced + " ,\n  \"sign\" : \"" + sigOf(t, ali, spaced) + "\"\n}\n"},
		{name: "slashes escaped after signing (the SDKs' second try)",
			body:      strings.Replace(envelope(t, ali, sendNode, slashNode), "pages/a/b", `pages\/a\/b`, 1),
			wantClass: message.OutcomePermanent, wantCode: "40004/PAGE_ILLEGAL"},
		{name: "method node preferred over error_response",
			body: `{"error_response":{"code":"20000"},"` + sendNode + `":` + okNode + `,"sign":"` + sigOf(t, ali, okNode) + `"}`},

		{name: "unsigned success", body: `{"` + sendNode + `":` + okNode + `}`,
			wantClass: message.OutcomePermanent, wantCode: codeBadSignature},
		{name: "empty sign on a success", body: `{"` + sendNode + `":` + okNode + `,"sign":""}`,
			wantClass: message.OutcomePermanent, wantCode: codeBadSignature},
		{name: "success signed by another key", body: envelope(t, other, sendNode, okNode),
			wantClass: message.OutcomePermanent, wantCode: codeBadSignature},
		{name: "success with a garbage signature", body: `{"` + sendNode + `":` + okNode + `,"sign":"!!!"}`,
			wantClass: message.OutcomePermanent, wantCode: codeBadSignature},
		{name: "tampered failure", body: tampered, wantClass: message.OutcomePermanent, wantCode: codeBadSignature},
		{name: "unsigned node without a code", body: `{"` + sendNode + `":{"msg":"x"}}`,
			wantClass: message.OutcomePermanent, wantCode: codeBadSignature},

		{name: "signed failure", body: envelope(t, ali, sendNode, notSubNode),
			wantClass: message.OutcomePermanent, wantCode: "40004/USER_NOT_SUBSCRIBED"},
		{name: "unsigned failure is classified by its code", body: `{"` + sendNode + `":` + notSubNode + `}`,
			wantClass: message.OutcomePermanent, wantCode: "40004/USER_NOT_SUBSCRIBED"},
		{name: "unknown app, unsigned error_response", body: unknownAppEr,
			wantClass: message.OutcomeCredentials, wantCode: "40002/isv.invalid-app-id"},
		{name: "signed node without a code", body: envelope(t, ali, sendNode, `{"msg":"Success"}`),
			wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},

		{name: "not JSON", body: `<html>502 Bad Gateway</html>`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "empty", body: ``, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "array", body: `[]`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "no node", body: `{"sign":"abc"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "node is not an object", body: `{"` + sendNode + `":"10000"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "node twice", body: `{"` + sendNode + `":` + notSubNode + `,"` + sendNode + `":` + okNode + `,"sign":"` + sigOf(t, ali, okNode) + `"}`,
			wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "data after the object", body: envelope(t, ali, sendNode, okNode) + `{}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "sign is not a string", body: `{"` + sendNode + `":` + okNode + `,"sign":12}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, perr := c.parseResponse(MethodTemplateSend, []byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil || n.Code != CodeSuccess {
					t.Fatalf("parseResponse = %+v, %v; want a verified success", n, perr)
				}
				return
			}
			if perr == nil {
				t.Fatalf("parseResponse = %+v; want a %s %s error", n, tt.wantClass, tt.wantCode)
			}
			checkError(t, perr)
			if perr.Class != tt.wantClass || perr.Code != tt.wantCode || perr.RetryAfter != tt.wantRetry {
				t.Fatalf("parseResponse error %q (RetryAfter %s); want %s %s %s", perr, perr.RetryAfter, tt.wantClass, tt.wantCode, tt.wantRetry)
			}
		})
	}
}

// TestClassifyCodes covers the classification table (README.md) answer by
// answer, each signed as the gateway would.
func TestClassifyCodes(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	k := Keys(t)
	tests := []struct {
		code, sub string
		wantClass message.Outcome
		wantRetry time.Duration
	}{
		{"20000", "isp.unknow-error", message.OutcomeRetryable, 0},
		{"20000", "", message.OutcomeRetryable, 0},
		{"20001", "aop.invalid-auth-token", message.OutcomeCredentials, 0},
		{"20001", "aop.invalid-app-auth-token", message.OutcomeCredentials, 0},
		{"40001", "isv.missing-signature", message.OutcomePermanent, 0},
		{"40002", "isv.invalid-signature", message.OutcomeCredentials, 0},
		{"40002", "isv.invalid-app-id", message.OutcomeCredentials, 0},
		{"40002", "isv.invalid-timestamp", message.OutcomeCredentials, 0},
		{"40002", "isv.invalid-method", message.OutcomeCredentials, 0},
		{"40002", "isv.invalid-charset", message.OutcomePermanent, 0},
		{"40002", "isv.invalid-parameter", message.OutcomePermanent, 0},
		{"40004", "USER_NOT_SUBSCRIBED", message.OutcomePermanent, 0},
		{"40004", "USER_TEMPLATE_ILLEGAL", message.OutcomePermanent, 0},
		{"40004", "INVALID_PARAMETER", message.OutcomePermanent, 0},
		{"40004", "USER_NOT_EXIST", message.OutcomePermanent, 0},
		{"40004", "isv.USER_NOT_EXIST", message.OutcomePermanent, 0},
		{"40004", "PAGE_ILLEGAL", message.OutcomePermanent, 0},
		{"40004", "CONTENT_ILLEGAL", message.OutcomePermanent, 0},
		{"40004", "isv.app-call-limited", message.OutcomeThrottled, 0},
		{"40004", "SEND_FREQUENCY_LIMITED", message.OutcomeThrottled, 0},
		{"20000", "isp.rop-flow-control", message.OutcomeThrottled, 0},
		{"40004", "SYSTEM_ERROR", message.OutcomeRetryable, 0},
		{"40004", "", message.OutcomeRetryable, 0},
		{"40006", "isv.insufficient-isv-permissions", message.OutcomeCredentials, 0},
		{"40006", "isv.insufficient-user-permissions", message.OutcomePermanent, 0},
		{"40003", "isv.whatever", message.OutcomeRetryable, 0},
		{"99999", "", message.OutcomeRetryable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.sub, func(t *testing.T) {
			t.Parallel()
			nodeText, _ := json.Marshal(map[string]string{"code": tt.code, "msg": "m", "sub_code": tt.sub, "sub_msg": "sm"})
			_, perr := c.parseResponse(MethodTemplateSend, []byte(envelope(t, k.Alipay, sendNode, string(nodeText))))
			if perr == nil {
				t.Fatal("parseResponse succeeded")
			}
			checkError(t, perr)
			wantCode := tt.code
			if tt.sub != "" {
				wantCode += "/" + tt.sub
			}
			if perr.Class != tt.wantClass || perr.Code != wantCode || perr.RetryAfter != tt.wantRetry {
				t.Fatalf("error %q RetryAfter %s; want %s %s %s", perr, perr.RetryAfter, tt.wantClass, wantCode, tt.wantRetry)
			}
		})
	}
}

func TestLongPlatformTextIsClipped(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	nodeText, _ := json.Marshal(map[string]string{"code": "40002", "msg": "Invalid Arguments",
		"sub_code": "isv.invalid-signature", "sub_msg": strings.Repeat("验签出错", 1000)})
	_, perr := c.parseResponse(MethodTemplateSend, []byte(envelope(t, Keys(t).Alipay, sendNode, string(nodeText))))
	if perr == nil || len(perr.Message) > maxMessage+len("Invalid Arguments: …")+10 {
		t.Fatalf("error %v: message not clipped", perr)
	}
}

// independentVerify checks a success the fuzzer found with the standard
// library's own reading of the envelope, not the client's.
func independentVerify(body []byte, pub *rsa.PublicKey) bool {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return false
	}
	var sig string
	if json.Unmarshal(env["sign"], &sig) != nil {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	for _, name := range []string{sendNode, errorResponseNode} {
		n, ok := env[name]
		if !ok {
			continue
		}
		for _, text := range [][]byte{n, bytes.ReplaceAll(n, []byte(`\/`), []byte(`/`))} {
			d := sha256.Sum256(text)
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], raw) == nil {
				return true
			}
		}
		return false
	}
	return false
}

func FuzzParseResponse(f *testing.F) {
	k := Keys(f)
	for _, s := range []string{
		envelope(f, k.Alipay, sendNode, okNode),
		envelope(f, k.Alipay, sendNode, notSubNode),
		envelope(f, k.Alipay, errorResponseNode, `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}`),
		envelope(f, k.Other, sendNode, okNode),
		unknownAppEr,
		`{"` + sendNode + `":` + okNode + `}`,
		`{"` + sendNode + `":{"code":{},"sub_code":[1]},"sign":null}`,
		`{"` + sendNode + `":{"code":"` + strings.Repeat("9", 40) + `"}}`,
		`<html>`, `null`, `{"a":1}{`, ``,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		n, perr := c.parseResponse(MethodTemplateSend, body)
		if perr != nil {
			checkError(t, perr)
			if n.Code != "" {
				t.Fatalf("error %q with a node %+v", perr, n)
			}
			return
		}
		if n.Code != CodeSuccess {
			t.Fatalf("success with code %q", n.Code)
		}
		if !independentVerify(body, &k.Alipay.PublicKey) {
			t.Fatalf("success for a body whose signature does not verify: %q", body)
		}
	})
}

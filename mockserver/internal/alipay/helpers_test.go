package alipay_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The test client signs exactly as the official SDKs do:
//   - alipay/alipay-sdk-java-all src/main/java/com/alipay/api/internal/util/AlipaySignature.java
//     getSignatureContent/getSignContent: every request parameter but sign
//     (sign_type included), pairs with an empty name or value dropped,
//     sorted by name, "name=value" joined with "&", raw values;
//     SHA256withRSA (RSA2) or SHA1withRSA (RSA), base64.
//   - alipay/alipay-sdk-nodejs-all lib/util.ts sign and lib/alipay.ts
//     formatUrl: the common parameters go in the query string, biz_content
//     in an application/x-www-form-urlencoded body.
// and verifies answers like AlipaySignature.extractSignContent: find
// "<node>", skip to its "{", take the text up to the matching "}".

func pemPrivate(t testing.TB, s string) *rsa.PrivateKey {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("bad private key PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatalf("parse private key: %v", err)
	}
	return k.(*rsa.PrivateKey)
}

func pemPublic(t testing.TB, s string) *rsa.PublicKey {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("bad public key PEM")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatalf("parse public key: %v", err)
	}
	return k.(*rsa.PublicKey)
}

// signContent is AlipaySignature.getSignContent.
func signContent(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "" && v != "" && k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, "&")
}

func digest(signType string, b []byte) (crypto.Hash, []byte) {
	if signType == "RSA" {
		d := sha1.Sum(b)
		return crypto.SHA1, d[:]
	}
	d := sha256.Sum256(b)
	return crypto.SHA256, d[:]
}

func rsaSign(t testing.TB, k *rsa.PrivateKey, signType, content string) string {
	t.Helper()
	h, d := digest(signType, []byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, h, d)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// transport says where the parameters travel.
type transport int

const (
	viaSDK   transport = iota // common parameters in the query, biz_content in the form body
	viaForm                   // everything in the form body
	viaQuery                  // GET, everything in the query
)

func (tr transport) String() string { return [...]string{"sdk", "form", "get"}[tr] }

// client is an Alipay app calling the gateway.
type client struct {
	t         testing.TB
	url       string
	appID     string
	key       *rsa.PrivateKey
	alipayPub *rsa.PublicKey
	hc        *http.Client
	// answerSignType is the algorithm answers are verified with (default
	// RSA2): the gateway signs with the request's sign_type.
	answerSignType string
}

// params builds signed parameters for method; biz may be "" (no
// biz_content); extra parameters are signed too.
func (c *client) params(method, biz string, extra map[string]string) map[string]string {
	p := map[string]string{
		"app_id": c.appID, "method": method, "format": "JSON", "charset": "utf-8",
		"sign_type": "RSA2", "timestamp": time.Now().Format("2006-01-02 15:04:05"), "version": "1.0",
		"alipay_sdk": "minipush-test",
	}
	if biz != "" {
		p["biz_content"] = biz
	}
	for k, v := range extra {
		p[k] = v
	}
	return c.sign(p)
}

// sign (re)signs p with the app key, by its sign_type.
func (c *client) sign(p map[string]string) map[string]string {
	p["sign"] = rsaSign(c.t, c.key, p["sign_type"], signContent(p))
	return p
}

// reply is a gateway answer.
type reply struct {
	status      int
	contentType string
	body        string
}

func (c *client) call(tr transport, p map[string]string) reply {
	c.t.Helper()
	q, body := url.Values{}, url.Values{}
	for k, v := range p {
		switch {
		case tr == viaQuery, tr == viaSDK && k != "biz_content":
			q.Set(k, v)
		default:
			body.Set(k, v)
		}
	}
	u := c.url + "/gateway.do"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var req *http.Request
	var err error
	if tr == viaQuery {
		req, err = http.NewRequest(http.MethodGet, u, nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, u, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) do(req *http.Request) reply {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("gateway: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(b)}
}

// exec calls method the SDK way and returns the answer.
func (c *client) exec(method, biz string, extra map[string]string) reply {
	c.t.Helper()
	return c.call(viaSDK, c.params(method, biz, extra))
}

// signedText is AlipaySignature.extractSignContent applied after
// "<node>": the node's raw text from its "{" to the matching "}".
func signedText(body, node string) (string, bool) {
	i := strings.Index(body, `"`+node+`"`)
	if i < 0 {
		return "", false
	}
	begin := i + len(node) + 2
	for begin < len(body) && body[begin] != '{' && body[begin] != '"' {
		begin++
	}
	if begin >= len(body) || body[begin] != '{' {
		return "", false
	}
	depth, inQuotes, escapes := 0, false, 0
	for j := begin; j < len(body); j++ {
		ch := body[j]
		switch {
		case ch == '"' && escapes%2 == 0:
			inQuotes = !inQuotes
		case ch == '{' && !inQuotes:
			depth++
		case ch == '}' && !inQuotes:
			depth--
			if depth == 0 {
				return body[begin : j+1], true
			}
		}
		if ch == '\\' {
			escapes++
		} else {
			escapes = 0
		}
	}
	return "", false
}

// node checks the envelope shape and returns the node's fields. When
// signed is true the answer must carry a sign that verifies with the
// client's alipay public key over the node's raw text.
func (c *client) node(r reply, node string, signed bool) map[string]any {
	c.t.Helper()
	if r.status != http.StatusOK {
		c.t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &env); err != nil {
		c.t.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
	raw, ok := env[node]
	if !ok {
		c.t.Fatalf("answer has no %s node: %s", node, r.body)
	}
	var sig string
	if s, ok := env["sign"]; ok {
		if err := json.Unmarshal(s, &sig); err != nil {
			c.t.Fatalf("sign is not a string: %s", r.body)
		}
	}
	if signed {
		text, ok := signedText(r.body, node)
		if !ok || text != string(raw) {
			c.t.Fatalf("node text not found by string search (got %q): %s", text, r.body)
		}
		h, d := digest(c.answerSignType, []byte(text))
		bs, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || rsa.VerifyPKCS1v15(c.alipayPub, h, d, bs) != nil {
			c.t.Fatalf("answer signature does not verify with the alipay public key: %s", r.body)
		}
	} else if sig != "" {
		c.t.Fatalf("answer is signed, want unsigned: %s", r.body)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		c.t.Fatalf("node is not an object: %s", r.body)
	}
	return fields
}

// wantCode checks code and sub_code of a node.
func wantCode(t testing.TB, n map[string]any, code, sub string) {
	t.Helper()
	if n["code"] != code || (sub != "" || n["sub_code"] != nil) && n["sub_code"] != sub {
		t.Fatalf("got code %v sub_code %v (%v), want %s %s", n["code"], n["sub_code"], n["sub_msg"], code, sub)
	}
	if code != "10000" && (n["msg"] == "" || n["msg"] == nil) {
		t.Fatalf("failure without msg: %v", n)
	}
}

const (
	appID      = "2021000000000042"
	userID     = "2088000000000042"
	templateID = "tpl-order"
	nodeSend   = "alipay_open_app_mini_templatemessage_send_response"
	nodeOAuth  = "alipay_system_oauth_token_response"
	nodeDetect = "alipay_security_risk_content_detect_response"
)

// start runs a mock with one Alipay app using the demo key pairs, a user
// and a three-keyword template (keyword1 character_string, keyword2
// thing, keyword3 time); grants are up to each test.
func start(t testing.TB) (*mocktest.Mock, *client) {
	t.Helper()
	m := mocktest.Start(t)
	ctx := context.Background()
	ans, err := m.Control.AddApp(ctx, mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: alipay.DemoAppPublicKeyPEM, AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM,
		Users: []string{userID},
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "订单状态",
			Keywords: []string{"character_string1", "thing2", "time3"}}},
	})
	if err != nil {
		t.Fatalf("add app: %v", err)
	}
	if ans["alipay_public_key"] != strings.TrimLeft(alipay.DemoAlipayPublicKeyPEM, "\n") {
		t.Fatalf("alipay_public_key = %v, want the demo platform key", ans["alipay_public_key"])
	}
	return m, &client{t: t, url: m.URL, appID: appID, key: pemPrivate(t, alipay.DemoAppPrivateKeyPEM),
		alipayPub: pemPublic(t, alipay.DemoAlipayPublicKeyPEM), hc: m.Control.HTTP}
}

func grant(t testing.TB, m *mocktest.Mock, openID string, count int) {
	t.Helper()
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: mockapi.PlatformAlipay,
		AppID: appID, OpenID: openID, TemplateID: templateID, Count: count}); err != nil {
		t.Fatalf("grant: %v", err)
	}
}

// sendBiz is a valid send's biz_content for user.
func sendBiz(user string) string {
	data, _ := json.Marshal(map[string]any{
		"keyword1": map[string]string{"value": "SO20240601001"},
		"keyword2": map[string]string{"value": "已发货"},
		"keyword3": map[string]string{"value": "2024-06-01 12:00"},
	})
	b, _ := json.Marshal(map[string]string{"to_user_id": user, "user_template_id": templateID,
		"page": "pages/order/detail?id=1", "data": string(data)})
	return string(b)
}

func messages(t testing.TB, m *mocktest.Mock) []mockapi.Message {
	t.Helper()
	got, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformAlipay})
	if err != nil {
		t.Fatal(err)
	}
	return got.Messages
}

// journal returns the journal entries of the Alipay gateway.
func journal(t testing.TB, m *mocktest.Mock) []mockapi.Request {
	t.Helper()
	got, err := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: mockapi.PlatformAlipay})
	if err != nil {
		t.Fatal(err)
	}
	return got.Requests
}

package direct

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// AlipaySendMethod is the template-message method of Alipay's gateway.
const AlipaySendMethod = "alipay.open.app.mini.templatemessage.send"

// AlipayOptions bend one gateway call, to show how the platform treats a
// request that is not signed as it should be.
type AlipayOptions struct {
	// SignWith signs with this key instead of the app's.
	SignWith *rsa.PrivateKey
	// Tamper replaces parameters after signing (a man in the middle).
	Tamper map[string]string
	// Unsigned leaves the sign parameter out.
	Unsigned bool
}

// AlipayReply is what the gateway said about the answer's own signature.
type AlipayReply struct {
	Signed   bool // the answer carries a sign
	Verified bool // it verifies with the app's Alipay public key
	SubMsg   string
	// SignedContent is the string this client signed (empty when unsigned).
	SignedContent string
}

func (c *Client) alipaySend(ctx context.Context, app App, m Message, o *AlipayOptions) (Answer, error) {
	a, _, err := c.AlipaySend(ctx, app, m, o)
	return a, err
}

// AlipaySend calls alipay.open.app.mini.templatemessage.send. Alipay
// addresses a template's keywords by position, so m.Data must already be
// keyed keyword1…N.
func (c *Client) AlipaySend(ctx context.Context, app App, m Message, o *AlipayOptions) (Answer, AlipayReply, error) {
	if o == nil {
		o = &AlipayOptions{}
	}
	data, _ := json.Marshal(keywordValues(m.Data))
	biz := map[string]string{"user_template_id": m.TemplateID, "page": m.Page, "data": string(data)}
	if isAlipayUserID(m.To) {
		biz["to_user_id"] = m.To
	} else {
		biz["to_open_id"] = m.To
	}
	bizJSON, _ := json.Marshal(biz)
	p := map[string]string{
		"app_id": app.AppID, "method": AlipaySendMethod, "format": "JSON", "charset": "utf-8",
		"sign_type": "RSA2", "timestamp": c.Now().Format("2006-01-02 15:04:05"), "version": "1.0",
		"biz_content": string(bizJSON),
	}
	key := app.AlipayAppKey
	if o.SignWith != nil {
		key = o.SignWith
	}
	content := ""
	if !o.Unsigned {
		if key == nil {
			return Answer{}, AlipayReply{}, errors.New("alipay app has no private key to sign with")
		}
		content = alipaySignContent(p)
		sig, err := alipaySign(key, content)
		if err != nil {
			return Answer{}, AlipayReply{}, err
		}
		p["sign"] = sig
	}
	for k, v := range o.Tamper {
		p[k] = v
	}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	status, body, err := c.do(ctx, http.MethodPost, "/gateway.do", formHeader(), strings.NewReader(form.Encode()))
	if err != nil {
		return Answer{}, AlipayReply{}, err
	}
	ans, reply := readAlipay(status, body, strings.ReplaceAll(AlipaySendMethod, ".", "_")+"_response", app.AlipayPublicKey)
	reply.SignedContent = content
	return ans, reply, nil
}

// isAlipayUserID: user ids are 2088 and 12 more digits; anything else is
// an open id.
func isAlipayUserID(s string) bool {
	if len(s) != 16 || !strings.HasPrefix(s, "2088") {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// alipaySignContent is AlipaySignature.getSignContent: every non-empty
// parameter but sign, sorted by name, name=value joined with &.
func alipaySignContent(p map[string]string) string {
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

func alipaySign(k *rsa.PrivateKey, content string) (string, error) {
	d := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// readAlipay reads {"<node>":{code,msg,sub_code,sub_msg},"sign"} (or
// error_response) and checks the sign over the node's raw text.
func readAlipay(status int, body []byte, node string, pub *rsa.PublicKey) (Answer, AlipayReply) {
	var env map[string]json.RawMessage
	if status != http.StatusOK || json.Unmarshal(body, &env) != nil {
		return httpFailure(status, body), AlipayReply{}
	}
	raw, ok := env[node]
	if !ok {
		raw = env["error_response"]
	}
	var n struct {
		Code    string `json:"code"`
		Msg     string `json:"msg"`
		SubCode string `json:"sub_code"`
		SubMsg  string `json:"sub_msg"`
	}
	_ = json.Unmarshal(raw, &n)
	var reply AlipayReply
	var sig string
	if s, ok := env["sign"]; ok && json.Unmarshal(s, &sig) == nil && sig != "" {
		reply.Signed = true
		reply.Verified = pub != nil && alipayVerify(pub, raw, sig)
	}
	reply.SubMsg = n.SubMsg
	ans := Answer{OK: n.Code == "10000", Code: n.Code, Message: n.Msg, Status: status, Body: string(body)}
	if ans.OK {
		ans.Code = "0"
	} else if n.SubCode != "" {
		ans.Code += "/" + n.SubCode
		ans.Message = n.SubMsg
	}
	return ans, reply
}

func alipayVerify(pub *rsa.PublicKey, content []byte, sig string) bool {
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	d := sha256.Sum256(bytes.TrimSpace(content))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], b) == nil
}

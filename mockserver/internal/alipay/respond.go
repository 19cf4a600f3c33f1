package alipay

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
)

// contentType is what the gateway sends with its JSON envelope. UNCONFIRMED
// (remembered from captures, not documented); the SDKs read the body as
// text whatever the header says.
const contentType = "text/html;charset=utf-8"

// errorResponseNode is the node name of answers that belong to no method
// (missing or unknown method) and of alipay.system.oauth.token's business
// failures, as in the example in alipay-sdk-nodejs-all lib/alipay.ts:
// {"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid",…}}.
// The Java SDK looks for "<method>_response" first and falls back to
// error_response (AbstractAlipayClient / the JSON parser's getSignSourceData).
const errorResponseNode = "error_response"

// nodeName is the answer node of a method: dots replaced by underscores.
func nodeName(method string) string { return strings.ReplaceAll(method, ".", "_") + "_response" }

// errorNode is a failure (or a bare success) node.
type errorNode struct {
	Code    Code    `json:"code"`
	Msg     string  `json:"msg"`
	SubCode SubCode `json:"sub_code,omitempty"`
	SubMsg  string  `json:"sub_msg,omitempty"`
}

// answer is how a call is answered: the node's name and the key and
// algorithm the node is signed with (no key: unsigned, as for an unknown
// app, which has no platform key to sign with).
type answer struct {
	node     string
	key      *rsa.PrivateKey
	signType string
	// certSN, for a certificate-mode app, is written as alipay_cert_sn
	// between the node and sign, where the platform puts it:
	// {"<x>_response":{…},"alipay_cert_sn":"…","sign":"…"} (a live answer
	// quoted in yansongda/pay issue #334). Clients rely on that order:
	// go-pay/gopay getSignData cuts the signed text at ,"alipay_cert_sn":.
	certSN string
}

// compact encodes v as compact JSON without HTML escaping: the text sent is
// the text signed, so it must be produced once.
func compact(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// write sends {"<node>":<body>,"sign":"<sig>"}. The node is emitted once,
// compactly, before "sign", and the signature covers exactly its text from
// "{" to the matching "}" — what the SDKs extract by string search
// (alipay-sdk-java-all AlipaySignature.extractSignContent; nodejs getSignStr).
func (a answer) write(w http.ResponseWriter, body []byte) {
	var buf bytes.Buffer
	buf.Grow(len(a.node) + len(body) + 400)
	buf.WriteString(`{"`)
	buf.WriteString(a.node)
	buf.WriteString(`":`)
	buf.Write(body)
	if a.certSN != "" && a.key != nil {
		buf.WriteString(`,"alipay_cert_sn":"`)
		buf.WriteString(a.certSN)
		buf.WriteByte('"')
	}
	if a.key != nil {
		if sig, err := sign(a.key, a.signType, body); err == nil {
			buf.WriteString(`,"sign":"`)
			buf.WriteString(sig)
			buf.WriteByte('"')
		}
	}
	buf.WriteByte('}')
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(buf.Bytes())
}

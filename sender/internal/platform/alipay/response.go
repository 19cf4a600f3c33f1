package alipay

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/reason"
)

// errorResponseNode is the node of answers that belong to no method (and,
// on some methods, of business failures). The SDKs look for the method's
// node first and fall back to it (PHP AopClient parserJSONSignSource, Java
// AbstractAlipayClient).
const errorResponseNode = "error_response"

// maxMessage bounds the platform text kept in an error (isv.invalid-signature
// quotes the whole string it verified); maxSubCode bounds the sub code,
// which goes into Error.Code.
const (
	maxMessage = 500
	maxSubCode = 100
)

// node is what the client reads from a response node.
type node struct {
	Code     Code
	Msg      string
	SubCode  SubCode
	SubMsg   string
	Action   string   // content detect
	Keywords []string // content detect
}

// nodeName is a method's answer node: dots replaced by underscores.
func nodeName(method string) string { return strings.ReplaceAll(method, ".", "_") + "_response" }

// parseResponse reads a gateway answer
// {"<method>_response":{…},"sign":"…"} the way the official SDKs do, and
// returns the node of a verified success (code 10000). Anything else is a
// classified *platform.Error:
//
//   - the signature covers the node's raw text exactly as sent (from its
//     "{" to the matching "}"), verified with the Alipay public key;
//   - a success must be signed and verify; a signed failure must verify
//     too (alipay-sdk-java-all AbstractAlipayClient.checkResponseSign:
//     "isSuccess || sign present");
//   - an unsigned failure is classified by its code: the gateway cannot
//     sign for an app it does not know (isv.invalid-app-id), so the SDKs
//     accept unsigned failures. Trusting one costs at most a message a
//     forger could have dropped anyway; trusting an unsigned success could
//     lose a message silently, so that is never done.
func (c *Client) parseResponse(method string, body []byte) (node, *platform.Error) {
	fields, err := splitEnvelope(body)
	if err != nil {
		return node{}, malformed(method, err.Error())
	}
	raw, ok := fields[nodeName(method)]
	if !ok {
		if raw, ok = fields[errorResponseNode]; !ok {
			return node{}, malformed(method, "no "+nodeName(method)+" or "+errorResponseNode+" node")
		}
	}
	if len(raw) == 0 || raw[0] != '{' {
		return node{}, malformed(method, "the response node is not an object")
	}
	var sig string
	if s, ok := fields["sign"]; ok && string(s) != "null" {
		if err := json.Unmarshal(s, &sig); err != nil {
			return node{}, malformed(method, "sign is not a string")
		}
	}
	if sig != "" && !c.verifyNode(raw, sig) {
		// Not "delivered" (the answer may be forged) and not "permanent" (it
		// may be genuine, garbled on the way, and the send done). Retryable:
		// for a one-time subscription a retry after a real delivery gets
		// USER_NOT_SUBSCRIBED, not a second message; the retry budget bounds
		// the rest. A wrong alipay_public_key fails every answer this way:
		// the message says where to look.
		return node{}, badSignature(method, "the answer's signature does not verify with the configured Alipay public key "+
			"(a proxy changed the answer, or alipay public key is not this app's Alipay public key); the call may have taken effect")
	}
	n, err := decodeNode(raw)
	if err != nil {
		return node{}, malformed(method, err.Error())
	}
	switch {
	case sig == "" && (n.Code == "" || n.Code == CodeSuccess):
		return node{}, badSignature(method, "an answer without a signature claims success; the call may have taken effect")
	case n.Code == CodeSuccess:
		return n, nil
	case n.Code == "":
		return node{}, malformed(method, "no code in the response node")
	}
	e := c.classify(n.Code, n.SubCode, clip(n.Msg), clip(n.SubMsg))
	return node{}, e
}

// verifyNode checks sig over the node's raw text. When that fails and the
// text holds "\/", it is tried again with "/": some gateway answers escape
// slashes after signing (alipay-sdk-java-all checkResponseSign and the PHP
// AopClient do the same second try).
func (c *Client) verifyNode(raw []byte, sig string) bool {
	if verify(c.alipayKey, raw, sig) {
		return true
	}
	if bytes.Contains(raw, []byte(`\/`)) {
		return verify(c.alipayKey, bytes.ReplaceAll(raw, []byte(`\/`), []byte(`/`)), sig)
	}
	return false
}

func badSignature(method, msg string) *platform.Error {
	return &platform.Error{Platform: Platform, Code: codeBadSignature, Class: message.OutcomePermanent, Reason: reason.SignatureInvalid,
		Message: method + ": " + msg}
}

// splitEnvelope reads the answer's top-level object into its members'
// raw text, byte for byte as sent (json.RawMessage keeps the value's exact
// bytes, which is the text the platform signed). A member given twice is
// refused: the SDKs' string search would take the first, a JSON parser the
// last, and a signature must not be checked over one and read from the
// other.
func splitEnvelope(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("not a JSON object")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("not JSON")
		}
		if _, dup := fields[key]; dup {
			return nil, errors.New("a member appears twice")
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not JSON")
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}

// decodeNode reads the node's fields. code is a JSON string on the wire;
// a number is accepted too. keywords that are not a list of strings are
// ignored rather than failing an otherwise readable answer.
func decodeNode(raw json.RawMessage) (node, error) {
	var w struct {
		Code     json.RawMessage `json:"code"`
		Msg      any             `json:"msg"`
		SubCode  any             `json:"sub_code"`
		SubMsg   any             `json:"sub_msg"`
		Action   any             `json:"action"`
		Keywords json.RawMessage `json:"keywords"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return node{}, errors.New("the response node is not an object")
	}
	n := node{Msg: text(w.Msg), SubCode: SubCode(clipN(text(w.SubCode), maxSubCode)), SubMsg: text(w.SubMsg), Action: text(w.Action)}
	code := strings.TrimSpace(string(w.Code))
	var s string
	if json.Unmarshal(w.Code, &s) == nil {
		code = s
	}
	if code == "null" {
		code = ""
	}
	if len(code) > 16 || strings.ContainsAny(code, "/ \t\r\n") {
		return node{}, errors.New("code is not a gateway code")
	}
	n.Code = Code(code)
	if len(w.Keywords) > 0 {
		var kw []string
		if json.Unmarshal(w.Keywords, &kw) == nil {
			n.Keywords = kw
		}
	}
	return n, nil
}

// text is a node field as text: strings as they are, numbers and booleans
// in JSON form, anything else empty.
func text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64, bool:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return ""
}

// clip shortens platform text for an error, on a rune boundary.
func clip(s string) string { return clipN(s, maxMessage) }

func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

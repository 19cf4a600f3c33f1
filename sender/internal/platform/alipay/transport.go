package alipay

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Codes of the client's own failures.
const (
	codeSign = "sign_request"
	// codeBadSignature: the answer's signature is missing (on a success) or
	// does not verify. Permanent: see README.md for why.
	codeBadSignature = "bad_response_signature"
)

// Common request parameters (opendocs "公共请求参数").
const (
	timestampLayout = "2006-01-02 15:04:05"
	apiVersion      = "1.0"
	formatJSON      = "JSON"
	charsetUTF8     = "utf-8"
	formContentType = "application/x-www-form-urlencoded;charset=utf-8"
)

// beijing is the zone of the timestamp parameter. The docs say "the
// caller's local time" with no zone; the gateway runs on Beijing time, so a
// server in another zone must send Beijing time or be refused
// (isv.invalid-timestamp). A fixed zone: China has no daylight saving.
var beijing = time.FixedZone("CST", 8*60*60)

// signContent is the string to sign: every parameter but sign (sign_type
// included), empty values dropped, sorted by name in byte order, joined as
// name=value with "&", values raw (not URL-encoded). As
// alipay-sdk-java-all AlipaySignature.getSignContent and alipay-sdk-nodejs-all
// util.sign.
func signContent(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "" && v != "" && k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
	}
	return b.String()
}

// invoke makes one signed gateway call of method with biz as biz_content,
// the way the official SDKs send it: the common parameters and sign in the
// query string, biz_content in a form body. It returns the verified node of
// a 10000 answer; every failure is a classified *platform.Error.
func (c *Client) invoke(ctx context.Context, method string, biz any) (node, *platform.Error) {
	bizJSON, err := call.JSONText(biz)
	if err != nil {
		return node{}, &platform.Error{Platform: Platform, Code: call.CodeMalformed, Class: message.OutcomePermanent, Reason: reason.InvalidRequest,
			Message: method + ": encode biz_content: " + err.Error()}
	}
	p := map[string]string{
		"app_id":      c.cfg.AppID,
		"method":      method,
		"format":      formatJSON,
		"charset":     charsetUTF8,
		"sign_type":   signType,
		"timestamp":   c.opts.Now().In(beijing).Format(timestampLayout),
		"version":     apiVersion,
		"biz_content": bizJSON,
	}
	sig, err := sign(c.key, signContent(p))
	if err != nil {
		// Cannot happen with a key New accepted; if it does, it happens to
		// every message of the app.
		return node{}, &platform.Error{Platform: Platform, Code: codeSign, Class: message.OutcomeCredentials,
			Message: method + ": sign the request failed"}
	}
	q := url.Values{}
	for k, v := range p {
		if k != "biz_content" {
			q.Set(k, v)
		}
	}
	q.Set("sign", sig)
	a, perr := c.api.PostForm(ctx, call.Request{URL: c.gateway + "?" + q.Encode(), Name: method,
		ContentType: formContentType, Accept: "application/json, text/plain, */*"}, url.Values{"biz_content": {bizJSON}})
	if perr != nil {
		return node{}, perr
	}
	return c.parseResponse(method, a.Body)
}

func malformed(method, what string) *platform.Error { return call.Malformed(Platform, method, what) }

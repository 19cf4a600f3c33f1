package alipay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// maxAnswer bounds an answer body; the gateway's are a few hundred bytes.
const maxAnswer = 1 << 20

// Error codes the client gives failures that are not the platform's.
const (
	codeTimeout   = "timeout"
	codeNetwork   = "network"
	codeMalformed = "malformed"
	codeSign      = "sign_request"
	// codeBadSignature: the answer's signature is missing (on a success) or
	// does not verify. See verifyNode for why it is retryable.
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

// encodeJSON is compact JSON without HTML escaping: Chinese text, "&" and
// "<" in page queries and values go as they are, like the SDKs'.
func encodeJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// call makes one signed gateway call of method with biz as biz_content,
// the way the official SDKs send it: the common parameters and sign in the
// query string, biz_content in a form body. It returns the verified node of
// a 10000 answer; every failure is a classified *platform.Error.
func (c *Client) call(ctx context.Context, method string, biz any) (node, *platform.Error) {
	bizJSON, err := encodeJSON(biz)
	if err != nil {
		return node{}, &platform.Error{Platform: Platform, Code: codeMalformed, Class: message.OutcomePermanent,
			Message: method + ": encode biz_content: " + err.Error()}
	}
	p := map[string]string{
		"app_id":      c.cfg.AppID,
		"method":      method,
		"format":      formatJSON,
		"charset":     charsetUTF8,
		"sign_type":   signType,
		"timestamp":   c.opts.now().In(beijing).Format(timestampLayout),
		"version":     apiVersion,
		"biz_content": bizJSON,
	}
	sig, err := sign(c.key, signContent(p))
	if err != nil {
		// Cannot happen with a key New accepted; if it does, it happens to
		// every message of the app.
		return node{}, &platform.Error{Platform: Platform, Code: codeSign, Class: message.OutcomeThrottled,
			RetryAfter: c.opts.credentialsBackoff, Message: method + ": sign the request failed"}
	}
	q := url.Values{}
	for k, v := range p {
		if k != "biz_content" {
			q.Set(k, v)
		}
	}
	q.Set("sign", sig)
	form := url.Values{"biz_content": {bizJSON}}.Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.gateway+"?"+q.Encode(), strings.NewReader(form))
	if err != nil {
		// NewRequest errors quote the URL: never pass them on.
		return node{}, &platform.Error{Platform: Platform, Code: codeNetwork, Class: message.OutcomeRetryable,
			Message: method + ": build request"}
	}
	req.Header.Set("Content-Type", formContentType)
	req.Header.Set("Accept", "application/json, text/plain, */*")
	resp, err := c.http.Do(req)
	if err != nil {
		return node{}, transportError(method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return node{}, statusError(resp)
	}
	if err != nil {
		return node{}, transportError(method, err)
	}
	if len(b) > maxAnswer {
		return node{}, malformed(method, "answer larger than 1 MiB")
	}
	return c.parseResponse(method, b)
}

// statusError classifies a non-2xx answer (the gateway answers everything
// it understood with 200): 429 throttled with its Retry-After, others
// retryable.
func statusError(resp *http.Response) *platform.Error {
	e := platform.HTTPStatusError(Platform, resp.StatusCode)
	if e.Message == "" {
		e.Message = "HTTP status " + strconv.Itoa(resp.StatusCode)
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// transportError classifies a failed round trip (retryable) and strips the
// request URL that *url.Error prints: it holds no secret (the sign is a
// signature, not a key) but is long and noisy.
func transportError(method string, err error) *platform.Error {
	code := codeNetwork
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		code = codeTimeout
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &platform.Error{Platform: Platform, Code: code, Class: message.OutcomeRetryable,
		Message: method + ": " + err.Error()}
}

func malformed(method, what string) *platform.Error {
	return &platform.Error{Platform: Platform, Code: codeMalformed, Class: message.OutcomeRetryable,
		Message: method + ": malformed answer: " + what}
}

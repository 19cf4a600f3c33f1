package alipay

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// maxBodyBytes bounds a gateway body. biz_content has no documented limit
// ("最大长度不限"); 4 MiB is far above any message this mock handles.
const maxBodyBytes = 4 << 20

// timestampLayout is the common parameter timestamp, "yyyy-MM-dd HH:mm:ss"
// in the caller's local time (no zone).
const timestampLayout = "2006-01-02 15:04:05"

var errBodyTooLarge = errors.New("body too large")

// params are a request's parameters: the query string and the form body
// together. The official SDKs put the common parameters in the query and
// biz_content in the form body; other clients put everything in the body.
// A name given twice keeps its first value, query first (UNCONFIRMED: what
// the platform does with duplicates).
type params map[string]string

func (p params) add(v url.Values) {
	for k, vs := range v {
		if _, ok := p[k]; !ok && len(vs) > 0 {
			p[k] = vs[0]
		}
	}
}

// readParams reads the query and, for a form or multipart body, the body's
// fields (file parts are ignored). Malformed pairs are skipped, as a form
// parser does; only an oversized body is an error.
func readParams(r *http.Request) (params, error) {
	p := params{}
	p.add(r.URL.Query())
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	body, err := platform.ReadAllSized(io.LimitReader(r.Body, maxBodyBytes+1), r.ContentLength, maxBodyBytes+1)
	if err != nil {
		return p, nil // a broken body reads as no body: the checks then name what is missing
	}
	if len(body) > maxBodyBytes {
		return p, errBodyTooLarge
	}
	if len(body) == 0 {
		return p, nil
	}
	switch platform.MediaType(r.Header.Get("Content-Type")) {
	case "", "application/x-www-form-urlencoded", "text/plain":
		v, _ := url.ParseQuery(string(body))
		p.add(v)
	case "multipart/form-data":
		_, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		p.add(multipartValues(body, mp["boundary"]))
	}
	return p, nil
}

// multipartValues reads the non-file fields of a multipart body (the SDKs
// use multipart for file uploads, with the other fields beside the file).
func multipartValues(body []byte, boundary string) url.Values {
	v := url.Values{}
	if boundary == "" {
		return v
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			return v
		}
		if part.FormName() != "" && part.FileName() == "" {
			b, err := io.ReadAll(part)
			if err == nil {
				v.Add(part.FormName(), string(b))
			}
		}
		_ = part.Close()
	}
}

// signContent is the string the caller signed: every parameter but sign
// (sign_type included), empty names and values dropped, sorted by name in
// byte order, joined as name=value with "&", values raw (not URL-encoded).
// Same rule as alipay-sdk-java-all AlipaySignature.getSignContent and the
// opendocs "自行实现签名" page.
func (p params) signContent() string {
	keys := make([]string, 0, len(p))
	n := 0
	for k, v := range p {
		if k == "" || v == "" || k == "sign" {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(n)
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

// validTimestamp checks the timestamp format strictly: exactly
// "yyyy-MM-dd HH:mm:ss" with a real date and time. Clock skew is not
// checked: the platform's tolerance is undocumented (UNCONFIRMED) and
// callers send their local time.
func validTimestamp(s string) bool {
	if len(s) != len(timestampLayout) {
		return false
	}
	_, err := time.Parse(timestampLayout, s)
	return err == nil
}

// validCharset accepts UTF-8 spellings; a missing charset is read as UTF-8
// (UNCONFIRMED: the platform's default may be GBK). GBK and GB2312 are
// real charsets on the platform but the mock does not decode them: they
// answer isv.invalid-charset so the difference is visible, not silent.
func validCharset(s string) bool {
	switch strings.ToLower(s) {
	case "", "utf-8", "utf8":
		return true
	}
	return false
}

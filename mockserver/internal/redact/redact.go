// Package redact masks credentials in what the mock records of a platform
// call — the query string, the request body and the answer — so the journal
// (GET /_mock/requests and the web UI) can show calls whole without
// showing app secrets, access tokens, signatures or keys.
//
// It masks by name: the value of every key in Keys, wherever it appears as
// a query or form parameter, a JSON object member (at any depth), an XML
// element or a multipart form field. Masking is one pass over the bytes and
// allocates only when it finds something to mask, so it is cheap enough for
// every call on the send path.
package redact

import (
	"bytes"
	"strings"
)

// Mask replaces a secret value.
const Mask = "***"

// Keys are the names whose values are credentials on some platform
// (compared case-insensitively, whole names only: "sign" masks sign but
// not sign_type).
var Keys = []string{
	"secret", "appsecret", "app_secret", "client_secret", "session_secret", // app secrets (WeChat, Douyin, Kuaishou, Baidu)
	"access_token", "refresh_token", "session_key", "x-token", "token", // tokens in queries, bodies and token answers
	"sign", "signature", "msg_signature", // Alipay request/answer signatures, push signatures
	"private_key", "app_private_key", "alipay_private_key", "encoding_aes_key", "password",
}

// maxKey is the length of the longest key.
var maxKey = func() int {
	n := 0
	for _, k := range Keys {
		n = max(n, len(k))
	}
	return n
}()

// isKey reports whether name (raw bytes, possibly percent-encoded in a
// query) is a secret's name.
func isKey(name []byte) bool {
	if len(name) == 0 || len(name) > 3*maxKey {
		return false
	}
	if bytes.IndexByte(name, '%') >= 0 || bytes.IndexByte(name, '+') >= 0 {
		name = []byte(unescape(string(name)))
	}
	if len(name) > maxKey {
		return false
	}
	// Lower-cased into a buffer and looked up: one map read instead of
	// comparing with every key. Only ASCII can match: a non-ASCII letter
	// that folds onto an ASCII one (the long s onto s) takes more bytes than
	// it, so such a name is longer than the key it folds to, and the
	// comparison by length the mask has always made refuses it.
	var buf [64]byte
	if len(name) > len(buf) {
		return false
	}
	for i, c := range name {
		if c >= 0x80 {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return keySet[string(buf[:len(name)])]
}

// keySet is Keys in lower case.
var keySet = func() map[string]bool {
	m := make(map[string]bool, len(Keys))
	for _, k := range Keys {
		m[strings.ToLower(k)] = true
	}
	return m
}()

// Query masks the values of secret parameters in a raw query string (or
// an application/x-www-form-urlencoded body), keeping everything else as
// sent.
func Query(raw string) string {
	out := form([]byte(raw))
	if out == nil {
		return raw
	}
	return string(out)
}

// Text masks secrets in a captured body or answer of any of the formats
// platforms use: JSON, XML, multipart or url-encoded forms. It returns b
// itself when there is nothing to mask.
func Text(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	var out []byte
	switch {
	case i == len(b):
		return b
	case b[i] == '{' || b[i] == '[':
		out = jsonText(b)
	case b[i] == '<':
		out = xmlText(b)
	case bytes.HasPrefix(b[i:], []byte("--")):
		out = multipart(b)
	default:
		out = form(b)
	}
	if out == nil {
		return b
	}
	return out
}

// editor builds the masked copy lazily: nothing is allocated until the
// first secret is found.
type editor struct {
	src  []byte
	out  []byte
	done int // src[:done] is in out
}

func (e *editor) mask(from, to int) {
	if e.out == nil {
		e.out = make([]byte, 0, len(e.src))
	}
	e.out = append(e.out, e.src[e.done:from]...)
	e.out = append(e.out, Mask...)
	e.done = to
}

func (e *editor) result() []byte {
	if e.out == nil {
		return nil
	}
	return append(e.out, e.src[e.done:]...)
}

// form masks key=value pairs separated by & (or ;). The separators are
// found with bytes.IndexByte, not byte by byte: a send's url-encoded data
// value runs to hundreds of bytes (formByByte in the tests is the loop this
// replaced, and FuzzForm holds both to the same output).
func form(b []byte) []byte {
	e := editor{src: b}
	semi := bytes.IndexByte(b, ';') // the next ';' at or after start, -1: none
	for start := 0; start < len(b); {
		end := len(b)
		if k := bytes.IndexByte(b[start:], '&'); k >= 0 {
			end = start + k
		}
		if semi >= 0 && semi < start {
			if semi = bytes.IndexByte(b[start:], ';'); semi >= 0 {
				semi += start
			}
		}
		if semi >= 0 && semi < end {
			end = semi
		}
		if eq := bytes.IndexByte(b[start:end], '='); eq >= 0 && isKey(b[start:start+eq]) && start+eq+1 < end {
			e.mask(start+eq+1, end)
		}
		start = end + 1
	}
	return e.result()
}

// jsonText masks the values of secret members of JSON objects at any
// depth. Malformed or truncated JSON is masked as far as it goes: a secret
// string cut short by the capture limit is masked to the end.
func jsonText(b []byte) []byte {
	e := editor{src: b}
	for i := 0; i < len(b); {
		if b[i] != '"' {
			k := bytes.IndexByte(b[i:], '"') // the next string, key or value
			if k < 0 {
				break
			}
			i += k
		}
		end, _ := StringEnd(b, i)
		j := skipSpace(b, end)
		if j >= len(b) || b[j] != ':' {
			i = end // a string value, not a key
			continue
		}
		isSecret := isKey(b[i+1 : max(i+1, end-1)])
		j = skipSpace(b, j+1)
		if !isSecret || j >= len(b) {
			i = j
			continue
		}
		switch b[j] {
		case '"':
			vEnd, closed := StringEnd(b, j)
			closing := vEnd - 1 // the closing quote
			if !closed {
				closing = vEnd // cut short: mask to the end
			}
			if closing > j+1 {
				e.mask(j+1, closing)
			}
			i = vEnd
		case '{', '[':
			i = j // a nested value: its members are checked by name
		default: // a number or literal
			k := j
			for k < len(b) && b[k] != ',' && b[k] != '}' && b[k] != ']' && b[k] != ' ' && b[k] != '\n' && b[k] != '\r' && b[k] != '\t' {
				k++
			}
			if k > j {
				e.mask(j, k)
			}
			i = k
		}
	}
	return e.result()
}

// StringEnd returns the index just past the JSON string starting at b[i]
// (a quote), or len(b) and false when it is cut short.
func StringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(b), false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// xmlText masks the text of secret elements (<Token>…</Token>, with or
// without CDATA).
func xmlText(b []byte) []byte {
	e := editor{src: b}
	for i := 0; i < len(b); i++ {
		if b[i] != '<' || i+1 >= len(b) || b[i+1] == '/' || b[i+1] == '!' || b[i+1] == '?' {
			continue
		}
		nameEnd := i + 1
		for nameEnd < len(b) && b[nameEnd] != '>' && b[nameEnd] != ' ' && b[nameEnd] != '/' {
			nameEnd++
		}
		if nameEnd >= len(b) || b[nameEnd] != '>' || !isKey(b[i+1:nameEnd]) {
			continue
		}
		start := nameEnd + 1
		end := bytes.IndexByte(b[start:], '<')
		if cdata := []byte("<![CDATA["); bytes.HasPrefix(b[start:], cdata) {
			start += len(cdata)
			end = bytes.Index(b[start:], []byte("]]>"))
		}
		if end < 0 {
			end = len(b) - start
		}
		if end > 0 {
			e.mask(start, start+end)
		}
		i = start + end - 1
	}
	return e.result()
}

// multipart masks the values of secret form fields of a multipart body.
func multipart(b []byte) []byte {
	e := editor{src: b}
	marker := []byte(`name="`)
	for i := 0; i < len(b); {
		k := bytes.Index(b[i:], marker)
		if k < 0 {
			break
		}
		nameStart := i + k + len(marker)
		nameEnd := bytes.IndexByte(b[nameStart:], '"')
		if nameEnd < 0 {
			break
		}
		i = nameStart + nameEnd
		if !isKey(b[nameStart:i]) {
			continue
		}
		sep := bytes.Index(b[i:], []byte("\r\n\r\n"))
		if sep < 0 {
			break
		}
		start := i + sep + 4
		end := bytes.Index(b[start:], []byte("\r\n--"))
		if end < 0 {
			end = len(b) - start
		}
		if end > 0 {
			e.mask(start, start+end)
		}
		i = start + end
	}
	return e.result()
}

// unescape decodes %XX and + in a query key; bad escapes are kept as is.
func unescape(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			sb.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			sb.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			sb.WriteByte(s[i])
		}
	}
	return sb.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

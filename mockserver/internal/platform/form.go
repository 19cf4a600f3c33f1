package platform

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"unsafe"
)

// Kuaishou's and Baidu's sends are url-encoded forms. net/http's ParseForm
// reads the body by doubling from 512 bytes, splits it and the query into
// maps of fresh strings and slices, then copies both into r.Form: a fifth
// of those sends' handlers and about twenty allocations. ParseForm below
// gives the same r.PostForm and r.Form for the common shape in one pass and
// a handful of allocations, and hands everything else to net/http.

// maxPlainFormPairs bounds the pairs the one-pass reader takes; net/url
// refuses more than its own limit (GODEBUG urlmaxqueryparams), so a larger
// form is left to it.
const maxPlainFormPairs = 1000

// maxSharedForm bounds the body whose values share its bytes: a value kept
// (an inbox message's recipient, a journal field) holds its whole body
// alive, which is harmless for a send's few hundred bytes but not for a
// body of up to the endpoint's limit. A longer body goes to net/http,
// whose values are copies.
const maxSharedForm = 8 << 10

// ReadForm is r.Body = http.MaxBytesReader(w, r.Body, limit) then
// r.ParseForm(). For a POST whose Content-Type parses as
// application/x-www-form-urlencoded, it reads the body itself (ReadBody)
// and, when the body and the query are plain — no ';', every '%' escape
// well formed, at most maxPlainFormPairs pairs each, the body at most
// maxSharedForm bytes — sets r.PostForm and
// r.Form as net/http would (values in the same order, r.Form's slices
// apart from r.PostForm's) and returns nil. Anything else, a body that
// fails to read included, goes to r.ParseForm() with the bytes read (and
// the read's error) replayed as the body, so its verdict and its maps are
// net/http's (form_test.go and FuzzParseForm compare both).
func ReadForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.PostForm != nil || r.Form != nil || r.Method != http.MethodPost || r.Body == nil || r.URL == nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return r.ParseForm()
	}
	if mt, ok := mediaType(r.Header.Get("Content-Type")); !ok || mt != "application/x-www-form-urlencoded" {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return r.ParseForm()
	}
	body, err := ReadBody(w, r, limit)
	if err == nil && len(body) <= maxSharedForm {
		// body is never written: the values share its bytes.
		if query, ok := plainQuery(r.URL.RawQuery); ok {
			if post, form, ok := plainForm(unsafe.String(unsafe.SliceData(body), len(body)), true); ok {
				r.PostForm, r.Form = post, withQuery(post, form, query)
				return nil
			}
		}
	}
	r.Body = &replayBody{ReadCloser: r.Body, rest: body, err: err}
	return r.ParseForm()
}

// ReadAnyForm is ReadForm for a url-encoded (or any non-multipart) body,
// and r.ParseMultipartForm(limit) under the same MaxBytesReader for a
// multipart/form-data one, its temporary files removed at once (Kuaishou's
// and Baidu's sends accept both).
func ReadAnyForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if MediaType(r.Header.Get("Content-Type")) == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		err := r.ParseMultipartForm(limit)
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
		return err
	}
	return ReadForm(w, r, limit)
}

// plainForm is url.ParseQuery(s) when s has no ';', no malformed escape
// and at most maxPlainFormPairs pairs; false otherwise. It returns the
// values twice when twice is set, in two maps whose slices are apart
// (r.PostForm's, and the start of r.Form's), else once (form nil): values
// without escapes share s's bytes; the slices share one array, each capped
// at its own length so an append copies.
func plainForm(s string, twice bool) (post, form url.Values, ok bool) {
	n := strings.Count(s, "&") + 1
	if n > maxPlainFormPairs || strings.IndexByte(s, ';') >= 0 {
		return nil, nil, false
	}
	post, per := make(url.Values, n), 1
	if twice {
		form, per = make(url.Values, n), 2
	}
	vals := make([]string, 0, per*n)
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := unescapeQuery(k)
		if !ok {
			return nil, nil, false
		}
		if v, ok = unescapeQuery(v); !ok {
			return nil, nil, false
		}
		if old, dup := post[k]; dup {
			post[k] = append(old, v) // old is capped: this copies
			if twice {
				form[k] = append(form[k], v)
			}
			continue
		}
		vals = append(vals, v)
		post[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		if twice {
			vals = append(vals, v)
			form[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	return post, form, true
}

// plainQuery is url.ParseQuery(s) as plainForm reads it, one map.
func plainQuery(s string) (url.Values, bool) {
	if s == "" {
		return url.Values{}, true
	}
	q, _, ok := plainForm(s, false)
	return q, ok
}

// withQuery is r.Form as ParseForm builds it from r.PostForm (post; form
// is a copy of it with slices of its own) and the query's values: the query
// itself when the body had none, else each key's body values then its
// query values.
func withQuery(post, form, query url.Values) url.Values {
	if len(post) == 0 {
		return query
	}
	for k, vs := range query {
		form[k] = append(form[k], vs...) // a body key's slice is capped: this copies
	}
	return form
}

// unescapeQuery is url.QueryUnescape(s), false where it errs (a '%' not
// followed by two hex digits).
func unescapeQuery(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if p := strings.IndexByte(s, '+'); p >= 0 && (i < 0 || p < i) {
		i = p
	}
	if i < 0 {
		return s, true
	}
	out := make([]byte, len(s)) // an escape only shortens
	n := copy(out, s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, lo := hexVal[s[i+1]], hexVal[s[i+2]]
			if hi|lo > 0x0f {
				return "", false
			}
			out[n] = hi<<4 | lo
			i += 2
		case '+':
			out[n] = ' '
		default:
			out[n] = c
		}
		n++
	}
	// out is never written again: the string shares its bytes.
	return unsafe.String(&out[0], n), true
}

// hexVal is each byte's value as a hex digit, 0xff for a byte that is not
// one.
var hexVal = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case '0' <= c && c <= '9':
			t[i] = c - '0'
		case 'a' <= c && c <= 'f':
			t[i] = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			t[i] = c - 'A' + 10
		default:
			t[i] = 0xff
		}
	}
	return t
}()

// replayBody hands net/http's ParseForm what ParseForm above already read
// of the body, then the read's own end (its error, or EOF).
type replayBody struct {
	io.ReadCloser
	rest []byte
	err  error
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.rest) > 0 {
		n := copy(p, b.rest)
		b.rest = b.rest[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return 0, io.EOF
}

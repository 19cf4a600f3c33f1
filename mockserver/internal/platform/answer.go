package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
)

// A send's success answer is the same JSON every time but for one number
// (a message id) or none at all; encoding it with encoding/json on every
// call (an Encoder, reflection, an interface for Baidu's data) was 5–20 %
// of a send's handler. EncodeJSON makes the bytes once; IntAnswer splices
// the number into bytes made once. Both are encoding/json's output by
// construction: they are made by it.

// EncodeJSON is what the emulations' writeJSON writes for v: encoding/json
// with SetEscapeHTML(false), and its newline.
func EncodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("platform: encoding %T: %v", v, err))
	}
	return b.Bytes()
}

// IntAnswer is an answer whose only varying part is one int64.
type IntAnswer struct{ prefix, suffix []byte }

// intAnswerProbe is the number NewIntAnswer finds in the encoded answer.
const intAnswerProbe = 8_317_452_960_123_457

// NewIntAnswer splits encode(n) — the answer's bytes for n, EncodeJSON of
// a value holding n — around n. It panics (a programming error, at start)
// unless n appears exactly once and the answer for other numbers is the
// same bytes around them.
func NewIntAnswer(encode func(n int64) []byte) IntAnswer {
	probe := strconv.FormatInt(intAnswerProbe, 10)
	out := encode(intAnswerProbe)
	if bytes.Count(out, []byte(probe)) != 1 {
		panic(fmt.Sprintf("platform: %q does not hold the number once", out))
	}
	i := bytes.Index(out, []byte(probe))
	a := IntAnswer{prefix: out[:i:i], suffix: out[i+len(probe):]}
	for _, n := range []int64{0, 1, -1, 1700000000000000001, math.MaxInt64, math.MinInt64} {
		if got, want := a.Bytes(n), encode(n); !bytes.Equal(got, want) {
			panic(fmt.Sprintf("platform: answer for %d is %q, not %q", n, want, got))
		}
	}
	return a
}

// Bytes is the answer for n.
func (a IntAnswer) Bytes(n int64) []byte {
	b := make([]byte, 0, len(a.prefix)+20+len(a.suffix))
	b = append(b, a.prefix...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, a.suffix...)
}

// WriteAnswer writes b, a success answer made by EncodeJSON (status 200),
// with the emulation's contentType, as its writeJSON would have written
// the value.
func WriteAnswer(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}

// SameAnswer reports, for the tests of an answer made once, whether write
// (writeJSON of the value) and writeOnce (the bytes made once) answer alike:
// status, headers and body.
func SameAnswer(write, writeOnce func(http.ResponseWriter)) error {
	a, b := newRecorder(), newRecorder()
	write(a)
	writeOnce(b)
	if a.code != b.code || !reflect.DeepEqual(a.h, b.h) || !bytes.Equal(a.body, b.body) {
		return fmt.Errorf("made once: %d %v %q; written: %d %v %q", b.code, b.h, b.body, a.code, a.h, a.body)
	}
	return nil
}

// recorder is the least http.ResponseWriter SameAnswer compares.
type recorder struct {
	h    http.Header
	code int
	body []byte
}

func newRecorder() *recorder { return &recorder{h: http.Header{}} }

func (r *recorder) Header() http.Header { return r.h }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.body = append(r.body, p...)
	return len(p), nil
}

// TextAnswer is an answer whose only varying part is one string of ASCII
// letters and digits (Douyin's log id), which encoding/json writes as it is.
type TextAnswer struct {
	prefix, suffix []byte
	encode         func(s string) []byte
}

// textAnswerProbe is the string NewTextAnswer finds in the encoded answer.
const textAnswerProbe = "Zq7ProbeXk93Wv"

// NewTextAnswer splits encode(s) — the answer's bytes for s — around s, as
// NewIntAnswer does around a number; it panics (at start) unless the probe
// appears exactly once and other strings give the same bytes around them.
func NewTextAnswer(encode func(s string) []byte) TextAnswer {
	out := encode(textAnswerProbe)
	if bytes.Count(out, []byte(textAnswerProbe)) != 1 {
		panic(fmt.Sprintf("platform: %q does not hold the string once", out))
	}
	i := bytes.Index(out, []byte(textAnswerProbe))
	a := TextAnswer{prefix: out[:i:i], suffix: out[i+len(textAnswerProbe):], encode: encode}
	for _, s := range []string{"", "0", "202405011501000000000000000000000001", "abcXYZ"} {
		if got, want := a.Bytes(s), encode(s); !bytes.Equal(got, want) {
			panic(fmt.Sprintf("platform: answer for %q is %q, not %q", s, want, got))
		}
	}
	return a
}

// Bytes is the answer for s (encoded anew when s holds anything but ASCII
// letters and digits).
func (a TextAnswer) Bytes(s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return a.encode(s)
		}
	}
	b := make([]byte, 0, len(a.prefix)+len(s)+len(a.suffix))
	b = append(b, a.prefix...)
	b = append(b, s...)
	return append(b, a.suffix...)
}

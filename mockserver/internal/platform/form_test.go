package platform

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

var formSeeds = []struct{ query, body, ct string }{
	{"access_token=tok", "app_id=ks1&access_token=tok&template_id=t&to_user=u&page=pages%2Fa%3Fid%3D1&data=%7B%22thing1%22%3A%7B%22value%22%3A%22%E6%97%A0%22%7D%7D", "application/x-www-form-urlencoded"},
	{"", "a=1&a=2&b=&=c&&d", "application/x-www-form-urlencoded"},
	{"a=3&e=4", "a=1&a=2", "application/x-www-form-urlencoded; charset=utf-8"},
	{"a=3", "", "application/x-www-form-urlencoded"},
	{"", "", "application/x-www-form-urlencoded"},
	{"x=1", "a=%zz", "application/x-www-form-urlencoded"},
	{"x=%", "a=1", "application/x-www-form-urlencoded"},
	{"x=1;y=2", "a=1", "application/x-www-form-urlencoded"},
	{"", "a=1;b=2", "application/x-www-form-urlencoded"},
	{"", "a+b=c+d&%41=%4a%4A", "application/x-www-form-urlencoded"},
	{"", "a=%", "application/x-www-form-urlencoded"},
	{"", "a=%4", "application/x-www-form-urlencoded"},
	{"", "a=1", "application/x-www-form-urlencoded; charset"},
	{"", "a=1", "application/json"},
	{"", "a=1", ""},
	{"", "a=1", "Application/X-WWW-Form-URLEncoded"},
	{"", "a=\xff\x00%00", "application/x-www-form-urlencoded"},
	{"", strings.Repeat("a=1&", 1500), "application/x-www-form-urlencoded"},
}

// parseBoth parses the same request with ReadForm and with net/http's,
// failing on any difference; it reports whether the one-pass reader took it.
func parseBoth(t *testing.T, method, query, body, ct string, readErr error) bool {
	t.Helper()
	return parseBothLimit(t, method, query, body, ct, readErr, 1<<20)
}

// parseBothLimit is parseBoth with the body limit given to ReadForm and to
// the http.MaxBytesReader net/http's ParseForm reads through.
func parseBothLimit(t *testing.T, method, query, body, ct string, readErr error, limit int64) bool {
	t.Helper()
	mk := func() *http.Request {
		var rc io.ReadCloser = io.NopCloser(strings.NewReader(body))
		if readErr != nil {
			rc = io.NopCloser(io.MultiReader(strings.NewReader(body), errReader{readErr}))
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: "/send", RawQuery: query},
			Header: http.Header{}, Body: rc, ContentLength: int64(len(body))}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	want, got := mk(), mk()
	want.Body = http.MaxBytesReader(httptest.NewRecorder(), want.Body, limit)
	wantErr := want.ParseForm()
	gotErr := ReadForm(httptest.NewRecorder(), got, limit)
	if (gotErr == nil) != (wantErr == nil) || (wantErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("ReadForm(%q, %q, %q) error %v; net/http: %v", query, body, ct, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got.PostForm, want.PostForm) || !reflect.DeepEqual(got.Form, want.Form) {
		t.Fatalf("ReadForm(%q, %q, %q) = %v / %v; net/http: %v / %v", query, body, ct, got.PostForm, got.Form, want.PostForm, want.Form)
	}
	// r.Form's slices are its own: appending to one leaves r.PostForm alone.
	for k := range got.Form {
		got.Form[k] = append(got.Form[k], "appended")
		got.Form[k][0] = "changed"
	}
	for k, vs := range got.PostForm {
		if !reflect.DeepEqual(vs, want.PostForm[k]) {
			t.Fatalf("ReadForm(%q, %q, %q): r.PostForm[%q] changed with r.Form", query, body, ct, k)
		}
	}
	_, isReplay := got.Body.(*replayBody)
	return !isReplay && method == http.MethodPost && gotErr == nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestParseFormMatchesNetHTTP(t *testing.T) {
	for _, s := range formSeeds {
		parseBoth(t, http.MethodPost, s.query, s.body, s.ct, nil)
		parseBoth(t, http.MethodGet, s.query, s.body, s.ct, nil)
		parseBoth(t, http.MethodPost, s.query, s.body, s.ct, errors.New("http: request body too large"))
	}
	// A body over the limit: the same error from both.
	parseBothLimit(t, http.MethodPost, "a=1", strings.Repeat("b=2&", 100), "application/x-www-form-urlencoded", nil, 64)
	// The one-pass reader must take the shapes senders post.
	for _, s := range formSeeds[:5] {
		if !parseBoth(t, http.MethodPost, s.query, s.body, s.ct, nil) {
			t.Errorf("ReadForm(%q, %q, %q) left a plain form to net/http", s.query, s.body, s.ct)
		}
	}
}

// A plain form longer than maxSharedForm is left to net/http, whose values
// are copies: a value kept from it (an inbox message's recipient) does not
// hold the whole body alive.
func TestLongFormValuesShareNoBody(t *testing.T) {
	body := "to_user=u&pad=" + strings.Repeat("x", maxSharedForm)
	if parseBoth(t, http.MethodPost, "", body, "application/x-www-form-urlencoded", nil) {
		t.Fatalf("a %d-byte form was read by the one-pass reader: its values would share the body", len(body))
	}
	short := "to_user=u&pad=" + strings.Repeat("x", maxSharedForm-len("to_user=u&pad="))
	if !parseBoth(t, http.MethodPost, "", short, "application/x-www-form-urlencoded", nil) {
		t.Errorf("a %d-byte form (the bound) was left to net/http", len(short))
	}
}

// FuzzParseForm holds ReadForm to net/http's ParseForm on any query, body
// and content type:
//
//	go test -run '^$' -fuzz FuzzParseForm -fuzztime 30s ./mockserver/internal/platform/
func FuzzParseForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s.query, s.body, s.ct)
	}
	f.Fuzz(func(t *testing.T, query, body, ct string) {
		parseBoth(t, http.MethodPost, query, body, ct, nil)
		parseBothLimit(t, http.MethodPost, query, body, ct, nil, 16)
	})
}

func TestUnescapeQueryMatchesNetURL(t *testing.T) {
	for _, in := range []string{"", "a", "+", "%", "%4", "%41", "%4g", "a%2Fb+c", "%e6%97%a0", "%E6%97%A0x", "++%%", "%zz", "a%", "%2"} {
		want, err := url.QueryUnescape(in)
		got, ok := unescapeQuery(in)
		if ok != (err == nil) || got != want {
			t.Errorf("unescapeQuery(%q) = %q, %v; net/url: %q, %v", in, got, ok, want, err)
		}
	}
}

package call_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/call"
)

// encodings are the forms a credential takes in text bound for an error:
// as written, in a URL query or path, inside a JSON string (with and
// without HTML escaping).
var encodings = []func(string) string{
	func(s string) string { return s },
	url.QueryEscape,
	url.PathEscape,
	func(s string) string { b, _ := json.Marshal(s); return unquote(string(b)) },
	func(s string) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		return unquote(strings.TrimSuffix(b.String(), "\n"))
	},
}

// unquote drops a JSON string's enclosing quotes (only those: an escaped
// quote at either end stays).
func unquote(s string) string { return s[1 : len(s)-1] }

// leaks reports the first form of a credential found in out.
func leaks(out string, creds ...string) (string, bool) {
	for _, c := range creds {
		if c == "" {
			continue
		}
		for _, enc := range encodings {
			if f := enc(c); f != "" && strings.Contains(out, f) {
				return f, true
			}
		}
	}
	return "", false
}

func TestScrubEncodings(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t/with+&<odd>=chars"
	s := call.NewScrubber(secret)
	for _, enc := range encodings {
		text := `{"errmsg":"invalid ` + enc(secret) + ` for app"}`
		if out := s.Scrub(text); strings.Contains(out, enc(secret)) || !strings.Contains(out, "REDACTED") {
			t.Errorf("Scrub(%q) = %q", text, out)
		}
	}
	// A credential scrubbing cannot remove (it is part of the mark) makes
	// the whole text withheld rather than leaked.
	if out := call.NewScrubber("DACT").Scrub("error DACT here"); strings.Contains(out, "DACT") {
		t.Errorf("a secret inside REDACTED leaked: %q", out)
	}
	// Removing one credential must not join its neighbours into another.
	if out := call.NewScrubber("abREDACTEDcd").Scrub("ab"+"tok"+"cd", "tok"); strings.Contains(out, "abREDACTEDcd") {
		t.Errorf("scrubbing a token rebuilt the secret: %q", out)
	}
}

// FuzzScrub: whatever the text, the secret and the token, and however
// they are encoded in it, neither appears in any known form in what Scrub
// returns — for the plain scrubber, one with custom credential fields,
// and the zero Scrubber (which knows only the token).
func FuzzScrub(f *testing.F) {
	f.Add("app-secret-0123456789", "86_access_token", "invalid ", " rid: 1", uint8(0))
	f.Add("s/+&=", "tok<>", `{"errmsg":"`, `"}`, uint8(3))
	f.Add("RED", "ACT", "x", "y", uint8(9))
	f.Add("a", "b", "secret=", "&access_token=", uint8(1))
	f.Add("中文密钥", "トークン", "e=", "", uint8(4))
	fields := regexp.MustCompile(`(?i)(access[_-]token|client[_-]secret|secret|x-token)("?\s*[:=]\s*"?)[^&\s"',;}]*`)
	f.Fuzz(func(t *testing.T, secret, token, before, after string, how uint8) {
		text := before + encodings[int(how)%len(encodings)](secret) + after + encodings[int(how/8)%len(encodings)](token)
		for name, s := range map[string]call.Scrubber{
			"plain":  call.NewScrubber(secret),
			"fields": call.NewScrubber(secret).WithFields(fields, "${1}${2}REDACTED"),
		} {
			if f, ok := leaks(s.Scrub(text, token), secret, token); ok {
				t.Fatalf("%s scrubber left %q in Scrub(%q)", name, f, text)
			}
		}
		if f, ok := leaks((call.Scrubber{}).Scrub(text, token), token); ok {
			t.Fatalf("zero scrubber left the token's form %q in %q", f, text)
		}
	})
}

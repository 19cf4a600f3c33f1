package call

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Scrubber removes credentials from text bound for an error: the app's
// secret and the tokens it is given wherever they appear — as written,
// URL-encoded or JSON-escaped — and anything written as a credential
// field. The zero Scrubber removes only the tokens it is given (for a
// platform with no secret in its calls).
type Scrubber struct {
	secret  string
	fields  *regexp.Regexp
	replace string
}

// credentialParams matches credentials written as URL parameters that
// slipped through ("access_token=…", "secret=…", "app_secret=…",
// "client_secret=…").
var credentialParams = regexp.MustCompile(`(?i)(access_token|secret)=[^&\s"']*`)

// NewScrubber scrubs secret and credentials written as URL parameters.
func NewScrubber(secret string) Scrubber {
	return Scrubber{secret: secret, fields: credentialParams, replace: "${1}=REDACTED"}
}

// WithFields is s scrubbing the credential fields fields matches instead,
// each match replaced by the expansion of replace.
func (s Scrubber) WithFields(fields *regexp.Regexp, replace string) Scrubber {
	s.fields, s.replace = fields, replace
	return s
}

const (
	redactedMark = "REDACTED"
	// withheld replaces a text that still holds a credential after
	// scrubbing: a credential so short or odd that removing it leaves it
	// in place (a secret "RED" inside "REDACTED") or builds it anew from
	// its neighbours.
	withheld = "[text withheld: it repeats a credential]"
	// scrubPasses bounds the rescans: removing one credential can join
	// its neighbours into another.
	scrubPasses = 4
)

// Scrub is text without the secret, the given tokens and credential
// fields. Whatever the text, the result holds none of them in any form
// Scrub knows (as written, query- or path-escaped, JSON-escaped): if
// scrubbing cannot get there, the whole text is withheld.
func (s Scrubber) Scrub(text string, tokens ...string) string {
	forms := credentialForms(s.secret, tokens)
	if len(forms) == 0 && s.fields == nil {
		return text
	}
	for range scrubPasses {
		before := text
		for _, f := range forms {
			text = strings.ReplaceAll(text, f, redactedMark)
		}
		if s.fields != nil {
			text = s.fields.ReplaceAllString(text, s.replace)
		}
		if text == before {
			break
		}
	}
	if holdsAny(text, forms) {
		if holdsAny(withheld, forms) {
			return ""
		}
		return withheld
	}
	return text
}

// credentialForms lists every non-empty credential as it may appear in
// text — as written, in a URL query or path, in a JSON string — longest
// first, so that an encoded form is replaced whole before the raw text it
// contains.
func credentialForms(secret string, tokens []string) []string {
	var forms []string
	for _, c := range append([]string{secret}, tokens...) {
		if c == "" {
			continue
		}
		forms = append(forms, c, url.QueryEscape(c), url.PathEscape(c), jsonEscaped(c, true), jsonEscaped(c, false))
	}
	slices.SortFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return slices.Compact(forms)
}

// jsonEscaped is c as it appears inside a JSON string.
func jsonEscaped(c string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(c)
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

func holdsAny(text string, forms []string) bool {
	for _, f := range forms {
		if f != "" && strings.Contains(text, f) {
			return true
		}
	}
	return false
}

package call

import (
	"regexp"
	"strings"
)

// Scrubber removes credentials from text bound for an error: the app's
// secret and the tokens it is given wherever they appear, and anything
// written as a credential field. The zero Scrubber changes nothing (for a
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

// Scrub is text without the secret, the given tokens and credential
// fields.
func (s Scrubber) Scrub(text string, tokens ...string) string {
	if s.secret != "" {
		text = strings.ReplaceAll(text, s.secret, "REDACTED")
	}
	for _, t := range tokens {
		if t != "" {
			text = strings.ReplaceAll(text, t, "REDACTED")
		}
	}
	if s.fields == nil {
		return text
	}
	return s.fields.ReplaceAllString(text, s.replace)
}

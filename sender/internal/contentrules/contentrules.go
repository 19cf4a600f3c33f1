// Package contentrules screens message content at the API, before anything
// is queued: named rules of words (case-insensitive substrings) or regular
// expressions. Words match under Unicode case folding (as
// strings.EqualFold). A match is reported with the rule's name, so a caller knows
// which policy refused the message.
package contentrules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/minipush/minipush/sender/internal/config"
)

type rule struct {
	name  string
	words []string // folded
	re    *regexp.Regexp
}

// Rules is immutable after New; safe for concurrent use.
type Rules struct{ rules []rule }

// Match is a rule that matched a data value.
type Match struct {
	Rule  string // the rule's name
	Field string // the data keyword whose value matched
}

// New compiles the configured rules.
func New(cfg []config.ContentRule) (*Rules, error) {
	r := &Rules{}
	for i, c := range cfg {
		ru := rule{name: c.Name}
		for _, w := range c.Words {
			if w = strings.TrimSpace(w); w != "" {
				ru.words = append(ru.words, fold(w))
			}
		}
		if c.Regex != "" {
			re, err := regexp.Compile(c.Regex)
			if err != nil {
				return nil, fmt.Errorf("content_rules[%d].regex: %w", i, err)
			}
			ru.re = re
		}
		r.rules = append(r.rules, ru)
	}
	return r, nil
}

// Check returns every rule that matches a value of data, in rule order and
// then keyword order.
func (r *Rules) Check(data map[string]string) []Match {
	if r == nil || len(r.rules) == 0 {
		return nil
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Match
	for _, ru := range r.rules {
		for _, k := range keys {
			if ru.matches(data[k]) {
				out = append(out, Match{Rule: ru.name, Field: k})
				break
			}
		}
	}
	return out
}

func (ru rule) matches(v string) bool {
	if ru.re != nil && ru.re.MatchString(v) {
		return true
	}
	if len(ru.words) == 0 {
		return false
	}
	lv := fold(v)
	for _, w := range ru.words {
		if strings.Contains(lv, w) {
			return true
		}
	}
	return false
}

// fold maps every rune of s to one representative of its Unicode case
// folding orbit (the smallest), so that two strings equal under
// strings.EqualFold fold to the same bytes. strings.ToLower is not enough:
// the long s "ſ" upper-cases to "S", which lower-cases to "s", so a rule
// word "ſcam" would miss "SCAM".
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		return low
	}, s)
}

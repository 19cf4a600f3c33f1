package contentrules_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/contentrules"
)

// recase changes the case of each rune of s by the bits of mask: upper,
// lower, title or unchanged.
func recase(s string, mask uint64) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		switch (mask >> (2 * (i % 32))) & 3 {
		case 0:
			r = unicode.ToUpper(r)
		case 1:
			r = unicode.ToLower(r)
		case 2:
			r = unicode.ToTitle(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A word rule is a case-insensitive substring: a value holding the word
// in any mix of cases (Unicode case folding, as strings.EqualFold) matches
// it, whatever surrounds it; every match names a configured rule and a
// key of the data, once per rule; a regex rule never panics.
func FuzzCheck(f *testing.F) {
	f.Add("fake-invoice", "get a ", " now", uint64(0), "1[3-9]\\d{9}", "call 13800138000")
	f.Add("ſcam", "", "", uint64(0), "", "")
	f.Add("ǅ", "x", "y", uint64(0xff), "(?i)é", "É")
	f.Add("K", "", "", uint64(1), "a*", "")
	f.Fuzz(func(t *testing.T, word, before, after string, mask uint64, regex, other string) {
		word = strings.TrimSpace(word)
		rules := []config.ContentRule{{Name: "words", Words: []string{word}}, {Name: "regex", Regex: regex}}
		r, err := contentrules.New(rules)
		if err != nil {
			return // an invalid regex is the config's error
		}
		value := before + recase(word, mask) + after
		data := map[string]string{"thing1": value, "thing2": other}
		got := r.Check(data)
		seen := map[string]bool{}
		for _, m := range got {
			if m.Rule != "words" && m.Rule != "regex" || seen[m.Rule] {
				t.Fatalf("Check = %v: unknown or repeated rule", got)
			}
			if _, ok := data[m.Field]; !ok {
				t.Fatalf("Check = %v: field %q is not a data key", got, m.Field)
			}
			seen[m.Rule] = true
		}
		if word != "" && utf8.ValidString(word) && !slices.ContainsFunc(got, func(m contentrules.Match) bool { return m.Rule == "words" }) {
			t.Fatalf("word %q in value %q (case mask %x) did not match", word, value, mask)
		}
	})
}

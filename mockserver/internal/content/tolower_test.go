package content

import (
	"strings"
	"testing"
	"unicode"
)

// Every rune toLower leaves alone is its own lower case.
func TestToLower(t *testing.T) {
	for _, rg := range caselessRanges {
		for r := rg[0]; r <= rg[1]; r++ {
			if unicode.ToLower(r) != r {
				t.Fatalf("U+%04X lowers to U+%04X: not caseless", r, unicode.ToLower(r))
			}
		}
	}
	for _, in := range []string{"", "abc", "ABC", "无线耳机", "无线Ab耳机", "2024年5月1日 15:01", "ＡＢ全角", "Ωμέγα",
		"\xff无", "无\xe6", "ǅ", "한국어", "カタカナ", "㐀"} {
		if got, want := toLower(in), strings.ToLower(in); got != want {
			t.Errorf("toLower(%q) = %q, strings.ToLower %q", in, got, want)
		}
	}
}

// FuzzToLower:
//
//	go test -run '^$' -fuzz FuzzToLower -fuzztime 30s ./mockserver/internal/content/
func FuzzToLower(f *testing.F) {
	for _, s := range []string{"无线耳机", "Ab", "\xff", "ＡＢ", "2024年5月1日 15:01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := toLower(in), strings.ToLower(in); got != want {
			t.Fatalf("toLower(%q) = %q, strings.ToLower %q", in, got, want)
		}
	})
}

package content_test

import (
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	rules := &mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "Fake-Invoice", Label: 20008}, {Word: "scam"}},
		Review: []mockapi.ContentWord{{Word: "limited-offer", Label: 10001}, {Word: "  "}, {Word: "sale"}},
	}
	tests := []struct {
		name    string
		texts   []string
		suggest string
		label   int
		hits    int
	}{
		{"clean", []string{"your order shipped"}, content.Pass, content.LabelNormal, 0},
		{"no texts", nil, content.Pass, content.LabelNormal, 0},
		{"review word", []string{"a limited-offer today"}, content.Review, 10001, 1},
		{"risky word keeps its label", []string{"buy a fake-invoice"}, content.Risky, 20008, 1},
		{"case-insensitive both ways", []string{"FAKE-invoice"}, content.Risky, 20008, 1},
		{"label defaults to other", []string{"total scam"}, content.Risky, content.LabelOther, 1},
		{"review label defaults too", []string{"on sale"}, content.Review, content.LabelOther, 1},
		{"risky wins over review in one text", []string{"limited-offer fake-invoice"}, content.Risky, 20008, 2},
		{"risky in a later text wins", []string{"limited-offer", "fake-invoice"}, content.Risky, 20008, 2},
		{"first risky hit gives the label", []string{"scam", "fake-invoice"}, content.Risky, content.LabelOther, 2},
		{"risky not downgraded by later review", []string{"fake-invoice", "sale"}, content.Risky, 20008, 2},
		{"blank rule words never match", []string{"a  b"}, content.Pass, content.LabelNormal, 0},
		{"substring", []string{"unscammable"}, content.Risky, content.LabelOther, 1},
	}
	r := content.New(rules)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := r.Check(tc.texts...)
			if v.Suggest != tc.suggest || v.Label != tc.label || len(v.Hits) != tc.hits {
				t.Fatalf("Check(%q) = %+v; want %s label %d with %d hits", tc.texts, v, tc.suggest, tc.label, tc.hits)
			}
		})
	}
}

func TestDefaultRulesHoldTheOfficialTestStrings(t *testing.T) {
	t.Parallel()
	r := content.New(nil)
	for _, s := range content.OfficialTestStrings {
		if v := r.Check("prefix " + s + " suffix"); v.Suggest != content.Risky {
			t.Errorf("official test string %q judged %s, want risky", s, v.Suggest)
		}
	}
	if v := r.Check("hello"); v.Suggest != content.Pass {
		t.Errorf("plain text judged %s", v.Suggest)
	}
}

func TestSetReplacesAndGetReturnsSpec(t *testing.T) {
	t.Parallel()
	r := content.New(nil)
	spec := mockapi.ContentRules{Review: []mockapi.ContentWord{{Word: "Hold"}}}
	r.Set(spec)
	if v := r.Check(content.OfficialTestStrings[0]); v.Suggest != content.Pass {
		t.Fatalf("old rules still apply after Set: %+v", v)
	}
	if v := r.Check("please hold"); v.Suggest != content.Review {
		t.Fatalf("new rule not applied: %+v", v)
	}
	got := r.Get()
	if len(got.Review) != 1 || got.Review[0].Word != "Hold" || len(got.Risky) != 0 {
		t.Fatalf("Get = %+v, want the spec as set (word not lower-cased)", got)
	}
	r.Set(mockapi.ContentRules{})
	if v := r.Check("please hold", content.OfficialTestStrings[0]); v.Suggest != content.Pass {
		t.Fatalf("empty rules judged %+v", v)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	spec := &mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "x"}}}
	if got := content.Default(spec); len(got.Risky) != 1 || got.Risky[0].Word != "x" {
		t.Fatalf("Default(spec) = %+v, want spec", got)
	}
	if got := content.Default(nil); len(got.Risky) != len(content.OfficialTestStrings) {
		t.Fatalf("Default(nil) = %+v, want the official strings", got)
	}
}

func TestRiskyImages(t *testing.T) {
	t.Parallel()
	bad := []byte("\x89PNG risky pixels")
	digest := content.ImageDigest(bad)
	r := content.New(&mockapi.ContentRules{RiskyImages: []string{strings.ToUpper(digest), "https://img.example/bad.png", "not-an-entry"}})
	tests := []struct {
		name  string
		check func() bool
		want  bool
	}{
		{"listed bytes", func() bool { return r.RiskyImage(bad) }, true},
		{"other bytes", func() bool { return r.RiskyImage([]byte("\x89PNG clean")) }, false},
		{"no bytes", func() bool { return r.RiskyImage(nil) }, false},
		{"listed url", func() bool { return r.RiskyImageURL("https://img.example/bad.png") }, true},
		{"url matched exactly", func() bool { return r.RiskyImageURL("https://img.example/bad.png?x=1") }, false},
		{"a digest is not a url", func() bool { return r.RiskyImageURL(digest) }, false},
		{"invalid entries are ignored", func() bool { return r.RiskyImageURL("not-an-entry") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.check(); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if content.New(nil).RiskyImage(bad) {
		t.Error("the default rules hold no risky image")
	}
}

func TestNormalizeImage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		strings.Repeat("Ab", 32):       strings.Repeat("ab", 32),
		" http://h/p.jpg ":             "http://h/p.jpg",
		"https://h.example/p?x=1#frag": "https://h.example/p?x=1#frag",
	} {
		if got, err := content.NormalizeImage(in); err != nil || got != want {
			t.Errorf("NormalizeImage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", strings.Repeat("g", 64), "ftp://h/p", "https://", "/local/p.png", strings.Repeat("a", 63)} {
		if _, err := content.NormalizeImage(in); err == nil {
			t.Errorf("NormalizeImage(%q) accepted", in)
		}
	}
}

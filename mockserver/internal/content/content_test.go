package content_test

import (
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

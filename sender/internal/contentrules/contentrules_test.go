package contentrules_test

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/contentrules"
)

func TestRulesNameWhatMatched(t *testing.T) {
	t.Parallel()
	r, err := contentrules.New([]config.ContentRule{
		{Name: "no-fake-invoice", Words: []string{"Fake-Invoice"}},
		{Name: "no-phone-numbers", Regex: `1[3-9]\d{9}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		data map[string]string
		want []contentrules.Match
	}{
		{map[string]string{"thing1": "order shipped"}, nil},
		{map[string]string{"thing1": "get a FAKE-invoice now"}, []contentrules.Match{{Rule: "no-fake-invoice", Field: "thing1"}}},
		{map[string]string{"thing2": "call 13800138000", "thing1": "fake-invoice"},
			[]contentrules.Match{{Rule: "no-fake-invoice", Field: "thing1"}, {Rule: "no-phone-numbers", Field: "thing2"}}},
	}
	for _, tc := range cases {
		got := r.Check(tc.data)
		if len(got) != len(tc.want) {
			t.Fatalf("Check(%v) = %v, want %v", tc.data, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("Check(%v)[%d] = %v, want %v", tc.data, i, got[i], tc.want[i])
			}
		}
	}
}

func TestBadRegexIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := contentrules.New([]config.ContentRule{{Name: "x", Regex: "("}}); err == nil {
		t.Fatal("want an error for an invalid regex")
	}
}

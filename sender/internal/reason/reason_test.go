package reason_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/minipush/minipush/sender/internal/reason"
)

// The README's reason table lists the vocabulary, in order, and nothing
// else: the documented enum is the code's.
func TestREADMETableIsTheVocabulary(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)### Reasons\n(.*?)\n### ").FindSubmatch(b)
	if section == nil {
		t.Fatal("the README has no Reasons section")
	}
	var got []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllSubmatch(section[1], -1) {
		got = append(got, string(m[1]))
	}
	if want := reason.Names(); !slices.Equal(got, want) {
		t.Fatalf("README reasons %v\nthe vocabulary %v", got, want)
	}
}

func TestValid(t *testing.T) {
	for _, e := range reason.All {
		if !e.Reason.Valid() || e.Meaning == "" || e.Action == "" {
			t.Errorf("%+v", e)
		}
	}
	if reason.Reason("nope").Valid() || reason.Reason("").Valid() {
		t.Error("an unknown reason is valid")
	}
}

package mdblocks_test

import (
	"testing"

	"github.com/minipush/minipush/internal/mdblocks"
)

func TestParse(t *testing.T) {
	t.Parallel()
	doc := "# t\n\n```yaml\na: 1\n```\ntext\n  ~~~~ sh extra\necho ```\n~~~~\n\n```\nplain\n```\n```json\n{}\n"
	got := mdblocks.Parse([]byte(doc))
	want := []mdblocks.Block{{Lang: "yaml", Text: "a: 1\n", Line: 3}, {Lang: "sh", Text: "echo ```\n", Line: 7},
		{Lang: "", Text: "plain\n", Line: 11}, {Lang: "json", Text: "{}\n", Line: 14}}
	if len(got) != len(want) {
		t.Fatalf("%d blocks %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

package platform_test

import (
	"slices"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform"
)

func TestContentKeywords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		content string
		want    []string
	}{
		{"商品名称:{{thing1.DATA}}\n发货时间:{{date3.DATA}}\n", []string{"thing1", "date3"}},
		{"购买地点{{keyword1.DATA}}\n{{ keyword2.DATA }}{{keyword1.DATA}}", []string{"keyword1", "keyword2"}},
		{"no placeholders {{.DATA}} {{thing1}}", nil},
	} {
		if got := platform.ContentKeywords(tt.content); !slices.Equal(got, tt.want) {
			t.Errorf("ContentKeywords(%q) = %q, want %q", tt.content, got, tt.want)
		}
	}
}

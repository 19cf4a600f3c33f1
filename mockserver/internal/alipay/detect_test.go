package alipay_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestContentDetect(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{
		Risky: []mockapi.ContentWord{{Word: "赌博"}}, Review: []mockapi.ContentWord{{Word: "加微信"}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content, action string
		keywords              []string
	}{
		{"clean", "今天天气很好", "PASSED", []string{}},
		{"risky", "在线赌博平台", "REJECTED", []string{"赌博"}},
		{"review", "详情加微信", "PASSED", []string{"加微信"}},
		{"both", "赌博请加微信", "REJECTED", []string{"赌博", "加微信"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			biz, _ := json.Marshal(map[string]string{"content": tc.content})
			n := c.node(c.exec(alipay.MethodContentDetect, string(biz), nil), nodeDetect, true)
			wantCode(t, n, "10000", "")
			got, _ := json.Marshal(n["keywords"])
			want, _ := json.Marshal(tc.keywords)
			if n["action"] != tc.action || string(got) != string(want) {
				t.Fatalf("action %v keywords %s, want %s %s", n["action"], got, tc.action, want)
			}
			if id, _ := n["unique_id"].(string); id == "" {
				t.Fatalf("no unique_id: %v", n)
			}
		})
	}
	for _, biz := range []string{`{"content":""}`, `{"content":"  "}`, `{}`, `not json`, ``} {
		t.Run("bad "+biz, func(t *testing.T) {
			wantCode(t, c.node(c.exec(alipay.MethodContentDetect, biz, nil), nodeDetect, true), "40004", "INVALID_PARAMETER")
		})
	}
}

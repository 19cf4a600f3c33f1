package baidu_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	m := start(t)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "违禁品"}},
		Review: []mockapi.ContentWord{{Word: "点击领取"}},
	}); err != nil {
		t.Fatalf("set content rules: %v", err)
	}
	tok := m.token(appA, secretA)
	type res struct {
		typ   string
		errno baidu.Errno
	}
	tests := []struct {
		name string
		body any
		top  baidu.Errno
		res  []res
	}{
		{"clean, default type", map[string]any{"content": "你好"}, baidu.ErrnoOK, []res{{"risk", 0}}},
		{"risky", map[string]any{"content": "出售违禁品", "type": []string{"risk"}}, baidu.ErrnoRisk, []res{{"risk", baidu.ErrnoRisk}}},
		{"risky, both types", map[string]any{"content": "出售违禁品", "type": []string{"risk", "lead"}}, baidu.ErrnoRisk,
			[]res{{"risk", baidu.ErrnoRisk}, {"lead", 0}}},
		{"inducement", map[string]any{"content": "点击领取红包", "type": []string{"risk", "lead"}}, baidu.ErrnoRisk,
			[]res{{"risk", 0}, {"lead", baidu.ErrnoRisk}}},
		{"inducement, risk only", map[string]any{"content": "点击领取红包"}, baidu.ErrnoOK, []res{{"risk", 0}}},
		{"duplicate types", map[string]any{"content": "你好", "type": []string{"lead", "lead"}}, baidu.ErrnoOK, []res{{"lead", 0}}},
		{"official test string", map[string]any{"content": "特3456书yuuo莞6543李zxcz蒜7782法fgnv级"}, baidu.ErrnoOK, []res{{"risk", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.checkText(tok, tt.body)
			wantErrno(t, r, tt.top)
			data := r.Fields["data"].(map[string]any)
			if id, _ := data["retrieveId"].(string); !regexp.MustCompile(`^[0-9]{13}$`).MatchString(id) {
				t.Errorf("retrieveId %q is not a millisecond timestamp", id)
			}
			list, _ := data["res"].([]any)
			if len(list) != len(tt.res) {
				t.Fatalf("res %v, want %d entries", list, len(tt.res))
			}
			for i, want := range tt.res {
				e := list[i].(map[string]any)
				wantMsg := "pass"
				if want.errno != 0 {
					wantMsg = "potential risk"
				}
				if e["type"] != want.typ || e["errno"] != json.Number(strconv.Itoa(int(want.errno))) || e["msg"] != wantMsg {
					t.Errorf("res[%d] = %v, want %s errno %d msg %s", i, e, want.typ, want.errno, wantMsg)
				}
			}
		})
	}
}

func TestCheckTextErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tests := []struct {
		name   string
		body   string
		detail string
	}{
		{"not JSON", `content=hi`, "JSON"},
		{"empty body", ``, "JSON"},
		{"no content", `{"type":["risk"]}`, "content"},
		{"empty content", `{"content":""}`, "content"},
		{"content not a string", `{"content":42}`, "JSON"},
		{"over 10KB", `{"content":"` + strings.Repeat("a", 10*1024+1) + `"}`, "10KB"},
		{"unknown type", `{"content":"hi","type":["porn"]}`, "porn"},
		{"type in upper case", `{"content":"hi","type":["RISK"]}`, "RISK"},
		{"type a string", `{"content":"hi","type":"risk"}`, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.checkText(tok, tt.body)
			wantErrno(t, r, baidu.ErrnoParam)
			if !strings.Contains(r.str("msg"), tt.detail) {
				t.Errorf("msg %q does not mention %q", r.str("msg"), tt.detail)
			}
		})
	}
	t.Run("exactly 10KB", func(t *testing.T) {
		wantErrno(t, m.checkText(tok, `{"content":"`+strings.Repeat("a", 10*1024)+`"}`), baidu.ErrnoOK)
	})
	t.Run("GET", func(t *testing.T) {
		wantErrno(t, m.form(http.MethodGet, withToken(checkTextPath, tok), nil), baidu.ErrnoParam)
	})
}

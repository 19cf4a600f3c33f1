package douyin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func tasks(texts ...string) map[string]any {
	ts := make([]map[string]string, 0, len(texts))
	for _, s := range texts {
		ts = append(ts, map[string]string{"content": s})
	}
	return map[string]any{"tasks": ts}
}

func TestAntidirt(t *testing.T) {
	t.Parallel()
	m := start(t)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "赌博"}},
		Review: []mockapi.ContentWord{{Word: "投资"}},
	}); err != nil {
		t.Fatal(err)
	}
	tok := m.token(appA, secretA)
	r := m.post(pathAntidirt, tasks("你好", "线上赌博", "稳健投资"), "X-Token", tok)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if !logIDPattern.MatchString(r.str(t, "log_id")) {
		t.Errorf("log_id %q", r.str(t, "log_id"))
	}
	data, _ := r.get("data")
	items, ok := data.([]any)
	if !ok || len(items) != 3 {
		t.Fatalf("data is not three items: %s", r.Body)
	}
	// One item per task, in order; review-level words pass.
	wantHit := []bool{false, true, false}
	for i, it := range items {
		item := reply{Body: r.Body, Fields: it.(map[string]any)}
		if code := item.num(t, "code"); code != 0 {
			t.Errorf("item %d code %d", i, code)
		}
		if id := item.str(t, "task_id"); !strings.HasPrefix(id, "MICROAPP_") {
			t.Errorf("item %d task_id %q", i, id)
		}
		if v, ok := item.get("data_id"); !ok || v != nil {
			t.Errorf("item %d data_id %v, want null", i, v)
		}
		preds, _ := item.get("predicts")
		list, ok := preds.([]any)
		if !ok || len(list) != 1 {
			t.Fatalf("item %d predicts: %s", i, r.Body)
		}
		p := reply{Body: r.Body, Fields: list[0].(map[string]any)}
		hit, _ := p.get("hit")
		if hit != wantHit[i] {
			t.Errorf("item %d hit %v, want %v", i, hit, wantHit[i])
		}
		wantProb := int64(0)
		if wantHit[i] {
			wantProb = 1
		}
		if prob := p.num(t, "prob"); prob != wantProb {
			t.Errorf("item %d prob %d, want %d", i, prob, wantProb)
		}
		if p.str(t, "model_name") != "short_content_antidirt" {
			t.Errorf("item %d model_name %q", i, p.str(t, "model_name"))
		}
		if v, ok := p.get("target"); !ok || v != nil {
			t.Errorf("item %d target %v, want null", i, v)
		}
	}
}

func TestAntidirtErrors(t *testing.T) {
	t.Parallel()
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "x"
	}
	cases := []struct {
		name  string
		token func(access, client string) string
		body  any
		want  int
	}{
		{"no token", func(string, string) string { return "" }, tasks("x"), 401},
		{"unknown token", func(string, string) string { return "0801121846ffff" }, tasks("x"), 401},
		{"client token", func(_, client string) string { return client }, tasks("x"), 401},
		{"malformed JSON", nil, `{"tasks":[`, 400},
		{"no tasks", nil, map[string]any{"tasks": []any{}}, 400},
		{"eleven tasks", nil, tasks(eleven...), 400},
		{"task without content", nil, map[string]any{"tasks": []map[string]string{{"text": "x"}}}, 400},
		{"content not text", nil, `{"tasks":[{"content":5}]}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			access := m.token(appA, secretA)
			tok := access
			if tc.token != nil {
				tok = tc.token(access, m.clientToken(appA, secretA))
			}
			r := m.post(pathAntidirt, tc.body, "X-Token", tok)
			if r.Status != tc.want || r.num(t, "code") != int64(tc.want) {
				t.Fatalf("status %d, want %d with code %d: %s", r.Status, tc.want, tc.want, r.Body)
			}
			if len(r.str(t, "error_id")) != 32 || r.str(t, "message") == "" || r.str(t, "exception") != r.str(t, "message") {
				t.Errorf("error shape: %s", r.Body)
			}
		})
	}
	t.Run("expired token", func(t *testing.T) {
		t.Parallel()
		m := start(t)
		tok := m.token(appA, secretA)
		m.advance(7200 * time.Second)
		if r := m.post(pathAntidirt, tasks("x"), "X-Token", tok); r.Status != 401 {
			t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
		}
	})
}

func TestCensor(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	r := m.post(pathCensor, map[string]any{"app_id": appA, "content": []string{"你好", riskyText}}, "access-token", tok)
	wantErrNo(t, r, 0)
	if r.str(t, "err_msg") != "" || !logIDPattern.MatchString(r.str(t, "log_id")) {
		t.Errorf("envelope: %s", r.Body)
	}
	data, _ := r.get("data")
	items, ok := data.([]any)
	if !ok || len(items) != 2 {
		t.Fatalf("data is not two items: %s", r.Body)
	}
	for i, want := range []bool{false, true} {
		item := items[i].(map[string]any)
		preds := item["predicts"].([]any)
		if hit := preds[0].(map[string]any)["hit"]; hit != want {
			t.Errorf("item %d hit %v, want %v", i, hit, want)
		}
		if _, ok := item["task_id"].(string); !ok {
			t.Errorf("item %d without task_id", i)
		}
	}
}

func TestCensorErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		token func(access, client string) string
		body  any
		want  int64
	}{
		{"no token", func(string, string) string { return "" }, map[string]any{"app_id": appA, "content": []string{"x"}}, 28001003},
		{"access_token kind", func(access, _ string) string { return access }, map[string]any{"app_id": appA, "content": []string{"x"}}, 28001003},
		{"malformed JSON", nil, `{"app_id":`, 28001007},
		{"other app_id", nil, map[string]any{"app_id": appB, "content": []string{"x"}}, 28001007},
		{"missing app_id", nil, map[string]any{"content": []string{"x"}}, 28001007},
		{"no content", nil, map[string]any{"app_id": appA, "content": []string{}}, 28001007},
		{"eleven texts", nil, map[string]any{"app_id": appA, "content": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, 28001007},
		{"content not a list", nil, map[string]any{"app_id": appA, "content": "x"}, 28001007},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			client := m.clientToken(appA, secretA)
			tok := client
			if tc.token != nil {
				tok = tc.token(m.token(appA, secretA), client)
			}
			r := m.post(pathCensor, tc.body, "access-token", tok)
			wantErrNo(t, r, tc.want)
			if _, ok := r.get("data"); ok {
				t.Errorf("error answer carries data: %s", r.Body)
			}
		})
	}
}

func TestModerationQuota(t *testing.T) {
	t.Parallel()
	m := start(t)
	access := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	m.setQuota("antidirt", 0, "minute")
	if r := m.post(pathAntidirt, tasks("x"), "X-Token", access); r.Status != 429 || r.num(t, "code") != 429 {
		t.Errorf("antidirt over quota: %d %s", r.Status, r.Body)
	}
	m.setQuota("censor", 0, "day")
	wantErrNo(t, m.post(pathCensor, map[string]any{"app_id": appA, "content": []string{"x"}}, "access-token", client), 28003017)
	m.setQuota("censor", 0, "second")
	m.setQuota("censor", 10, "day")
	wantErrNo(t, m.post(pathCensor, map[string]any{"app_id": appA, "content": []string{"x"}}, "access-token", client), 28003018)
}

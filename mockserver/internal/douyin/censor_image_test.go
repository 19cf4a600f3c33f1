package douyin_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
)

var (
	riskyImage = []byte("\x89PNG\r\n\x1a\n risky pixels")
	cleanImage = []byte("\x89PNG\r\n\x1a\n clean pixels")
)

const riskyImageURL = "https://img.example/risky.png"

// withRiskyImages marks riskyImage (by digest) and riskyImageURL risky.
func withRiskyImages(t *testing.T, m *mock) {
	t.Helper()
	rules := content.Default(nil)
	rules.RiskyImages = []string{content.ImageDigest(riskyImage), riskyImageURL}
	if err := m.Control.SetContentRules(m.ctx, rules); err != nil {
		t.Fatal(err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestTagsImage(t *testing.T) {
	t.Parallel()
	m := start(t)
	withRiskyImages(t, m)
	tok := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	task := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	cases := []struct {
		name   string
		path   string
		token  string
		body   any
		status int
		probs  []int // per task, the prob of every target
	}{
		{"clean bytes", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"porn", "ad"}, "tasks": []any{task("image_data", b64(cleanImage))}}, 200, []int{0}},
		{"risky bytes, no slash", "/api/v2/tags/image", tok, map[string]any{"targets": []string{"porn"}, "tasks": []any{task("image_data", b64(riskyImage))}}, 200, []int{1}},
		{"risky url, then clean url", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad", "politics", "disgusting"},
			"tasks": []any{task("image", riskyImageURL), task("image", "https://img.example/ok.png")}}, 200, []int{1, 0}},
		{"image wins over image_data", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"porn"},
			"tasks": []any{task("image", "https://img.example/ok.png", "image_data", b64(riskyImage))}}, 200, []int{0}},
		{"no token", "/api/v2/tags/image/", "", map[string]any{"targets": []string{"porn"}, "tasks": []any{task("image", riskyImageURL)}}, 401, nil},
		{"client token", "/api/v2/tags/image/", client, map[string]any{"targets": []string{"porn"}, "tasks": []any{task("image", riskyImageURL)}}, 401, nil},
		{"not JSON", "/api/v2/tags/image/", tok, `{"targets":`, 400, nil},
		{"no target", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{}, "tasks": []any{task("image", riskyImageURL)}}, 400, nil},
		{"unknown target", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"violence"}, "tasks": []any{task("image", riskyImageURL)}}, 400, nil},
		{"target twice", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad", "ad"}, "tasks": []any{task("image", riskyImageURL)}}, 400, nil},
		{"no task", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad"}, "tasks": []any{}}, 400, nil},
		{"eleven tasks", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad"}, "tasks": func() []any {
			var ts []any
			for range 11 {
				ts = append(ts, task("image", riskyImageURL))
			}
			return ts
		}()}, 400, nil},
		{"task without image", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad"}, "tasks": []any{task()}}, 400, nil},
		{"image_data not base64", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad"}, "tasks": []any{task("image_data", "%%%")}}, 400, nil},
		{"image not a link", "/api/v2/tags/image/", tok, map[string]any{"targets": []string{"ad"}, "tasks": []any{task("image", "file:///etc/passwd")}}, 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.post(tc.path, tc.body, "X-Token", tc.token)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status != 200 {
				if r.num(t, "code") != int64(tc.status) || r.str(t, "error_id") == "" || r.str(t, "message") == "" {
					t.Fatalf("error shape: %s", r.Body)
				}
				return
			}
			data := r.Fields["data"].([]any)
			if len(data) != len(tc.probs) || r.str(t, "log_id") == "" {
				t.Fatalf("%d items, want %d: %s", len(data), len(tc.probs), r.Body)
			}
			targets := tc.body.(map[string]any)["targets"].([]string)
			for i, it := range data {
				item := it.(map[string]any)
				preds := item["predicts"].([]any)
				if len(preds) != len(targets) || item["msg"] != "ok" || item["task_id"] == "" {
					t.Fatalf("item %d: %v", i, item)
				}
				for j, p := range preds {
					pm := p.(map[string]any)
					if pm["target"] != targets[j] || pm["prob"].(interface{ String() string }).String() != string(rune('0'+tc.probs[i])) {
						t.Fatalf("item %d predict %d: %v, want target %s prob %d", i, j, pm, targets[j], tc.probs[i])
					}
				}
			}
		})
	}
}

func TestCensorImageV2(t *testing.T) {
	t.Parallel()
	m := start(t)
	withRiskyImages(t, m)
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	cases := []struct {
		name  string
		body  any
		error int64
		hit   bool
	}{
		{"clean bytes", map[string]string{"app_id": appA, "access_token": tok, "image_data": b64(cleanImage)}, 0, false},
		{"risky bytes", map[string]string{"app_id": appA, "access_token": tok, "image_data": b64(riskyImage)}, 0, true},
		{"risky link", map[string]string{"app_id": appA, "access_token": tok, "image": riskyImageURL}, 0, true},
		{"not JSON", `{"app_id":`, 1, false},
		{"no app_id", map[string]string{"access_token": tok, "image": riskyImageURL}, 1, false},
		{"no image", map[string]string{"app_id": appA, "access_token": tok}, 1, false},
		{"image_data not base64", map[string]string{"app_id": appA, "access_token": tok, "image_data": "!!"}, 1, false},
		{"no token", map[string]string{"app_id": appA, "image": riskyImageURL}, 2, false},
		{"another app's token", map[string]string{"app_id": appA, "access_token": tokB, "image": riskyImageURL}, 2, false},
		{"image not a link", map[string]string{"app_id": appA, "access_token": tok, "image": "img.example/x.png"}, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.post("/api/apps/censor/image", tc.body)
			if r.Status != 200 || r.num(t, "error") != tc.error {
				t.Fatalf("status %d error %v, want 200 and %d: %s", r.Status, r.Fields["error"], tc.error, r.Body)
			}
			if tc.error != 0 {
				if _, has := r.Fields["predicts"]; has || r.str(t, "message") == "" {
					t.Fatalf("error shape: %s", r.Body)
				}
				return
			}
			if r.str(t, "message") != "image censor success" {
				t.Errorf("message %q", r.str(t, "message"))
			}
			checkModelPredicts(t, r, tc.hit)
		})
	}
	t.Run("quota and fault", func(t *testing.T) {
		m := start(t)
		tok := m.token(appA, secretA)
		body := map[string]string{"app_id": appA, "access_token": tok, "image": riskyImageURL}
		m.setQuota("censor_image_v2", 0, "second")
		if r := m.post("/api/apps/censor/image", body); r.num(t, "error") != 4 {
			t.Fatalf("over the quota: %s", r.Body)
		}
		code := 3
		if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: "censor_image_v2", ErrCode: &code, ErrMsg: "download timeout"}); err != nil {
			t.Fatal(err)
		}
		if r := m.post("/api/apps/censor/image", body); r.num(t, "error") != 3 || r.str(t, "message") != "download timeout" {
			t.Fatalf("fault: %s", r.Body)
		}
	})
}

// checkModelPredicts: every model feature is listed once; only porn is hit,
// and only for a risky image.
func checkModelPredicts(t *testing.T, r reply, risky bool) {
	t.Helper()
	preds, ok := r.Fields["predicts"].([]any)
	if !ok || len(preds) != 17 {
		t.Fatalf("predicts: %s", r.Body)
	}
	hits := 0
	for _, p := range preds {
		pm := p.(map[string]any)
		if pm["hit"] == true {
			hits++
			if pm["model_name"] != "porn" {
				t.Errorf("hit on %v", pm["model_name"])
			}
		}
	}
	if want := map[bool]int{true: 1, false: 0}[risky]; hits != want {
		t.Fatalf("%d hits, want %d: %s", hits, want, r.Body)
	}
}

func TestCensorImageV3(t *testing.T) {
	t.Parallel()
	m := start(t)
	withRiskyImages(t, m)
	client := m.clientToken(appA, secretA)
	access := m.token(appA, secretA)
	cases := []struct {
		name  string
		path  string
		tok   string
		body  any
		errNo int64
		hit   bool
	}{
		{"risky bytes", "/api/apps/v1/censor/image/", client, map[string]string{"app_id": appA, "image_data": b64(riskyImage)}, 0, true},
		{"clean link, SKIT's path", "/api/apps/v1/censor/image", client, map[string]string{"app_id": appA, "image": "https://img.example/ok.png"}, 0, false},
		{"access_token in the body is ignored", "/api/apps/v1/censor/image/", client, map[string]string{"app_id": appA, "access_token": "x", "image": riskyImageURL}, 0, true},
		{"no token", "/api/apps/v1/censor/image/", "", map[string]string{"app_id": appA, "image": riskyImageURL}, 28001003, false},
		{"getAccessToken token", "/api/apps/v1/censor/image/", access, map[string]string{"app_id": appA, "image": riskyImageURL}, 28001003, false},
		{"not JSON", "/api/apps/v1/censor/image/", client, "{", 28001007, false},
		{"another app_id", "/api/apps/v1/censor/image/", client, map[string]string{"app_id": appB, "image": riskyImageURL}, 28001007, false},
		{"no image", "/api/apps/v1/censor/image/", client, map[string]string{"app_id": appA}, 28001007, false},
		{"image not a link", "/api/apps/v1/censor/image/", client, map[string]string{"app_id": appA, "image": "ftp://x/y"}, 28001007, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.post(tc.path, tc.body, "access-token", tc.tok)
			wantErrNo(t, r, tc.errNo)
			if tc.errNo != 0 {
				return
			}
			if r.str(t, "err_msg") != "image censor success" || !logIDPattern.MatchString(r.str(t, "log_id")) {
				t.Errorf("success envelope: %s", r.Body)
			}
			checkModelPredicts(t, r, tc.hit)
		})
	}
	t.Run("quota", func(t *testing.T) {
		m := start(t)
		tok := m.clientToken(appA, secretA)
		m.setQuota("censor_image", 0, "day")
		wantErrNo(t, m.post("/api/apps/v1/censor/image/", map[string]string{"app_id": appA, "image": riskyImageURL}, "access-token", tok), 28003017)
	})
	t.Run("large image over the limit", func(t *testing.T) {
		big := strings.Repeat("A", 9<<20)
		wantErrNo(t, m.post("/api/apps/v1/censor/image/", `{"app_id":"`+appA+`","image_data":"`+big+`"}`, "access-token", client), 28001007)
	})
}

package seed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

func TestLoadFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, appID, secret, user, template string
		risky                               []string
		start                               bool
	}{
		{"testdata/seed.yaml", "wxyaml0000000001", "yaml-secret", "o_yaml_ann", "yaml-shipped",
			[]string{"yaml-risky", "yaml-labelled"}, true},
		{"testdata/seed.json", "wxjson0000000001", "json-secret", "o_json_ann", "json-shipped",
			[]string{"json-risky", "json-labelled"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			s, err := seed.Load(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Apps) != 1 || s.Apps[0].AppID != tc.appID || s.Apps[0].Secret != tc.secret {
				t.Fatalf("apps %+v", s.Apps)
			}
			if s.ContentRules == nil || len(s.ContentRules.Risky) != len(tc.risky) {
				t.Fatalf("content rules %+v", s.ContentRules)
			}
			for i, w := range tc.risky {
				if s.ContentRules.Risky[i].Word != w {
					t.Fatalf("risky[%d] = %+v, want %q", i, s.ContentRules.Risky[i], w)
				}
			}
			if (s.Start != nil) != tc.start {
				t.Fatalf("start = %v, want set: %v", s.Start, tc.start)
			}
			// The seed loads into a server, and its user can be sent to.
			m := mocktest.Start(t, mockserver.WithSeed(s))
			if r := send(t, m.URL, token(t, m.URL, tc.appID, tc.secret), tc.user, tc.template); r != 0 {
				t.Fatalf("send to the seeded user: errcode %d", r)
			}
		})
	}
}

func TestYAMLFixtureDetails(t *testing.T) {
	t.Parallel()
	s, err := seed.Load("testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC)
	if !s.Start.Equal(want) {
		t.Fatalf("start %v, want %v", s.Start, want)
	}
	a := s.Apps[0]
	if len(a.Pages) != 2 || len(a.Quotas) != 1 || a.Quotas[0].Limit != 50 || len(a.Users) != 2 ||
		len(a.Templates) != 2 || a.Templates[1].Type != mockapi.TemplateLongTerm || len(a.Grants) != 2 || !a.Grants[1].LongTerm {
		t.Fatalf("app %+v", a)
	}
	if s.ContentRules.Risky[1].Label != 20002 || s.Library == nil || s.Library.Templates[0].TID != 101 {
		t.Fatalf("rules %+v library %+v", s.ContentRules, s.Library)
	}
	m := mocktest.Start(t, mockserver.WithSeed(s))
	now, err := m.Control.Now(context.Background())
	if err != nil || now.Sub(want) < 0 || now.Sub(want) > time.Minute {
		t.Fatalf("clock %v, %v; want the seed's start %v", now, err, want)
	}
	gs, err := m.Control.Grants(context.Background(), mockapi.PlatformWeChat, a.AppID, "")
	if err != nil || len(gs) != 2 {
		t.Fatalf("grants %+v, %v", gs, err)
	}
}

func TestLoadErrorsNameTheProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string // the error must contain this
	}{
		{"testdata/unknown-field.yaml", "secrte"},
		{"testdata/unknown-field.json", "kewords"},
		{"testdata/unknown-top.yaml", "app"},
		{"testdata/two-docs.yaml", "more than one"},
		{"testdata/missing.yaml", "read seed"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			_, err := seed.Load(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error mentioning %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "testdata/") {
				t.Fatalf("error %v does not name the file", err)
			}
		})
	}
}

func TestSeedThatDoesNotLoadNamesAppAndField(t *testing.T) {
	t.Parallel()
	s, err := seed.Load("testdata/bad-app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = mockserver.New(mockserver.WithSeed(s))
	var se *mockserver.SeedError
	if !errors.As(err, &se) || se.App != "wxbadkeyword" {
		t.Fatalf("New = %v, want a SeedError for wxbadkeyword", err)
	}
	if !strings.Contains(err.Error(), "widget") || strings.Contains(err.Error(), "secret: s") {
		t.Fatalf("error %q should name the bad keyword (and never the secret)", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		doc    string
		isJSON bool
		ok     bool
		apps   int
	}{
		{"empty yaml is an empty seed", "", false, true, 0},
		{"comment-only yaml", "# nothing\n", false, true, 0},
		{"yaml with trailing separator", "apps: []\n---\n", false, true, 0},
		{"yaml with explicit markers", "---\napps: []\n...\n", false, true, 0},
		{"empty json", "", true, false, 0},
		{"json object", `{"apps":[{"platform":"wechat","app_id":"a","secret":"s"}]}`, true, true, 1},
		{"json trailing data", `{"apps":[]} {"apps":[]}`, true, false, 0},
		{"json wrong type", `{"apps":{}}`, true, false, 0},
		{"yaml wrong type", "apps: 5\n", false, false, 0},
		{"yaml word with unknown key", "content_rules:\n  risky:\n    - {word: w, lable: 1}\n", false, false, 0},
		{"json word with unknown key", `{"content_rules":{"risky":[{"word":"w","lable":1}]}}`, true, false, 0},
		{"start too far", "start: 9999-01-01T00:00:00Z\n", false, false, 0},
		{"start in the past is fine", "start: 2001-01-01T00:00:00Z\n", false, true, 0},
		{"yaml word forms", "content_rules:\n  review: [a, {word: b}]\n", false, true, 0},
		{"risky image digest and url", "content_rules:\n  risky_images: [" + strings.Repeat("AB", 32) + ", https://img.example/x.png]\n", false, true, 0},
		{"risky image neither digest nor url", `{"content_rules":{"risky_images":["cat.png"]}}`, true, false, 0},
		{"risky image short digest", `{"content_rules":{"risky_images":["abcd"]}}`, true, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := seed.Parse([]byte(tc.doc), tc.isJSON)
			if (err == nil) != tc.ok || len(s.Apps) != tc.apps {
				t.Fatalf("Parse = %d apps, %v; want ok=%v with %d apps", len(s.Apps), err, tc.ok, tc.apps)
			}
		})
	}
}

// TestDemo loads the built-in demo seed and uses it the way the README
// says: Alice has 100 order notices, Bob one, Carol a long-term reminder.
func TestDemo(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t, mockserver.WithSeed(seed.Demo()))
	tok := token(t, m.URL, seed.DemoWeChatAppID, seed.DemoWeChatSecret)
	if r := send(t, m.URL, tok, seed.DemoUserAlice, seed.DemoTemplateOrder); r != 0 {
		t.Fatalf("send to Alice: errcode %d", r)
	}
	for i, want := range []int{0, 43101} {
		if r := send(t, m.URL, tok, seed.DemoUserBob, seed.DemoTemplateOrder); r != want {
			t.Fatalf("send %d to Bob: errcode %d, want %d", i+1, r, want)
		}
	}
	body := `{"touser":"` + seed.DemoUserCarol + `","template_id":"` + seed.DemoTemplateRemind + `","data":{"name1":{"value":"王五"},"time2":{"value":"2026-03-01 10:00"},"thing3":{"value":"带上证件"}}}`
	for i := range 2 {
		if r := post(t, m.URL, tok, body); r != 0 {
			t.Fatalf("long-term send %d to Carol: errcode %d", i+1, r)
		}
	}
	msgs, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{AppID: seed.DemoWeChatAppID})
	if err != nil || len(msgs.Messages) != 4 {
		t.Fatalf("inbox %+v, %v; want 4 messages", msgs, err)
	}
	// The demo's content rules: a risky word refuses the send.
	if r := sendThing(t, m.URL, tok, seed.DemoUserAlice, seed.DemoTemplateOrder, "fake-invoice"); r != 45168 {
		t.Fatalf("risky demo word: errcode %d, want 45168", r)
	}
	st, _ := m.Control.Stats(context.Background())
	// One app per platform; the WeChat one has three users and two templates.
	if st.Apps != 5 {
		t.Fatalf("demo stats %+v, want 5 apps", st)
	}
	if ts, _ := m.Control.Templates(context.Background(), "wechat", seed.DemoWeChatAppID); len(ts) != 2 {
		t.Fatalf("demo stats %+v", st)
	}
}

func token(t *testing.T, base, appID, secret string) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	get(t, base+"/cgi-bin/token?"+q.Encode(), &out)
	if out.AccessToken == "" {
		t.Fatalf("no token for %s", appID)
	}
	return out.AccessToken
}

// send sends valid data for a thing1/…/character_string2+ template (the
// fixtures' and the demo order template's keys) and returns the errcode.
func send(t *testing.T, base, tok, to, template string) int {
	t.Helper()
	return sendThing(t, base, tok, to, template, "手机")
}

func sendThing(t *testing.T, base, tok, to, template, thing string) int {
	t.Helper()
	data := map[string]map[string]string{
		"thing1": {"value": thing}, "time2": {"value": "2026-03-01 10:00"},
		"character_string3": {"value": "SF1"}, "character_string2": {"value": "SF1"},
		"date3": {"value": "2026-03-01"}, "phrase4": {"value": "已发货"},
	}
	// Keep only the keys the template has: the demo order template and the
	// fixtures' templates differ.
	if template == seed.DemoTemplateOrder {
		delete(data, "time2")
		delete(data, "character_string3")
	} else {
		delete(data, "character_string2")
		delete(data, "date3")
		delete(data, "phrase4")
	}
	b, _ := json.Marshal(map[string]any{"touser": to, "template_id": template, "data": data})
	return post(t, base, tok, string(b))
}

func post(t *testing.T, base, tok, body string) int {
	t.Helper()
	resp, err := http.Post(base+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ErrCode int `json:"errcode"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&out); err != nil {
		t.Fatalf("send answer %s: %v", b, err)
	}
	return out.ErrCode
}

func get(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

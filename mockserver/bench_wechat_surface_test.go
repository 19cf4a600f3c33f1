package mockserver_test

// BenchmarkWeChatSurfaceSend puts WeChat's customer-service send and
// updatable-message send next to the cheapest server of the same request,
// as BenchmarkPlatformSend does for the other platforms (same machine, real
// loopback sockets, alternating turns). Targets (reported, not asserted):
// ratio_rps ≥ 0.7, ratio_p99 ≤ 2.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func BenchmarkWeChatSurfaceSend(b *testing.B) {
	cases := []struct {
		name string
		c    sendCase
	}{
		{"kefu_send", kefuSendCase()},
		{"updatable_send", updatableSendCase()},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) { benchPlatformSend(b, tc.c) })
	}
}

func surfaceBenchApp() mockapi.App {
	return mockapi.App{Platform: mockapi.PlatformWeChat, AppID: benchAppID, Secret: benchSecret,
		Quotas: []mockapi.Quota{{Endpoint: "custom_send", Limit: unlimited, Per: "day"},
			{Endpoint: "updatablemsg_send", Limit: unlimited, Per: "day"}}}
}

// kefuRepliesPerUser: a user's message allows 5 replies, so the sends
// rotate over n/5 users, each of whom has written once.
const kefuRepliesPerUser = 5

type kefuBenchBody struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
}

func kefuSendCase() sendCase {
	okAnswer := map[string]any{"errcode": 0, "errmsg": "ok"}
	return sendCase{
		app: surfaceBenchApp,
		prepare: func(tb testing.TB, c *http.Client, base string, n int) (string, http.Header, [][]byte) {
			tok := fetchToken(tb, c, base)
			users := (n + kefuRepliesPerUser - 1) / kefuRepliesPerUser
			for i := range users {
				var w mockapi.KefuWindow
				postJSON(tb, c, base+"/_mock/kefu/sessions", mockapi.KefuSession{Platform: mockapi.PlatformWeChat,
					AppID: benchAppID, OpenID: kefuBenchUser(i)}, &w)
				if w.Remaining != kefuRepliesPerUser {
					tb.Fatalf("window of user %d: %+v", i, w)
				}
			}
			bodies := buildBodies(n, func(i int) []byte {
				b, _ := json.Marshal(map[string]any{"touser": kefuBenchUser(i / kefuRepliesPerUser), "msgtype": "text",
					"text": map[string]string{"content": "您好，您的订单已发货，预计明天送达。"}})
				return b
			})
			return "/cgi-bin/message/custom/send?access_token=" + tok, jsonHeader(), bodies
		},
		ok:       `{"errcode":0,"errmsg":"ok"}`,
		baseline: jsonBaseline[kefuBenchBody]("application/json; encoding=utf-8", func(int64) any { return okAnswer }),
	}
}

func kefuBenchUser(i int) string { return fmt.Sprintf("o-bench-kefu-%016d", i) }

func jsonHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h
}

// updatableActivities: the sends rotate over this many activities; state
// 0 may be set again and again.
const updatableActivities = 64

type updatableBenchBody struct {
	ActivityID   string `json:"activity_id"`
	TargetState  int    `json:"target_state"`
	TemplateInfo struct {
		ParameterList []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"parameter_list"`
	} `json:"template_info"`
}

func updatableSendCase() sendCase {
	okAnswer := map[string]any{"errcode": 0, "errmsg": "ok"}
	return sendCase{
		app: surfaceBenchApp,
		prepare: func(tb testing.TB, c *http.Client, base string, n int) (string, http.Header, [][]byte) {
			tok := fetchToken(tb, c, base)
			ids := make([]string, updatableActivities)
			for i := range ids {
				resp, err := c.Get(base + "/cgi-bin/message/wxopen/activityid/create?access_token=" + tok)
				if err != nil {
					tb.Fatal(err)
				}
				var out struct {
					ActivityID string `json:"activity_id"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || out.ActivityID == "" {
					tb.Fatalf("create activity: %v", err)
				}
				ids[i] = out.ActivityID
			}
			bodies := buildBodies(n, func(i int) []byte {
				b, _ := json.Marshal(map[string]any{"activity_id": ids[i%len(ids)], "target_state": 0,
					"template_info": map[string]any{"parameter_list": []map[string]string{
						{"name": "member_count", "value": fmt.Sprint(1 + i%9)}, {"name": "room_limit", "value": "10"}}}})
				return b
			})
			return "/cgi-bin/message/wxopen/updatablemsg/send?access_token=" + tok, jsonHeader(), bodies
		},
		ok:       `{"errcode":0,"errmsg":"ok"}`,
		baseline: jsonBaseline[updatableBenchBody]("application/json; encoding=utf-8", func(int64) any { return okAnswer }),
		verify:   checkActivityUpdates,
	}
}

// checkActivityUpdates: every send changed its activity exactly once.
func checkActivityUpdates(b *testing.B, h http.Handler, sends int) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/activities?platform=wechat&app_id="+benchAppID, nil))
	var out mockapi.Activities
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		b.Fatalf("activities: %v: %s", err, rec.Body)
	}
	total := 0
	for _, a := range out.Activities {
		total += a.Updates
	}
	if total != sends {
		b.Fatalf("activities took %d updates, want %d", total, sends)
	}
}

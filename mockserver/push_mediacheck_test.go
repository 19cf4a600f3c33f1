package mockserver_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/miniprogram/message"
	"github.com/silenceper/wechat/v2/miniprogram/security"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

const riskyMediaURL = "https://cdn.example/risky.jpg"

// mediaCheck calls media_check_async for the push test user and returns
// the trace_id.
func mediaCheck(t *testing.T, m *mocktest.Mock, body map[string]any) string {
	t.Helper()
	var out struct {
		ErrCode int    `json:"errcode"`
		TraceID string `json:"trace_id"`
	}
	postJSONTo(t, m.URL+"/wxa/media_check_async?access_token="+url.QueryEscape(wxToken(t, m)), body, &out)
	if out.ErrCode != 0 || out.TraceID == "" {
		t.Fatalf("media_check_async answered %+v", out)
	}
	return out.TraceID
}

func v2Check(mediaURL string) map[string]any {
	return map[string]any{"media_url": mediaURL, "media_type": 2, "version": 2, "openid": pushUser, "scene": 2}
}

func startMediaCheckMock(t *testing.T, delay time.Duration) *mocktest.Mock {
	t.Helper()
	m := startPushMock(t)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{RiskyImages: []string{riskyMediaURL}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Control.SetMediaCheckDelay(context.Background(), mockapi.PlatformWeChat, delay); err != nil {
		t.Fatal(err)
	}
	return m
}

func checkOf(t *testing.T, m *mocktest.Mock, traceID string) mockapi.MediaCheck {
	t.Helper()
	got, err := m.Control.MediaChecks(context.Background(), mockapi.PlatformWeChat, pushWxApp)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got.Checks {
		if c.TraceID == traceID {
			return c
		}
	}
	t.Fatalf("no check %s among %+v", traceID, got.Checks)
	return mockapi.MediaCheck{}
}

// The verdict arrives after the delay, in the app's format, carrying the
// trace_id the call answered.
func TestMediaCheckPushedAfterTheDelay(t *testing.T) {
	t.Parallel()
	const delay = 300 * time.Millisecond
	m := startMediaCheckMock(t, delay)
	d := newDevServer(t, nil)
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "json", "plain"))
	d.next(t) // the handshake

	start := time.Now()
	risky := mediaCheck(t, m, v2Check(riskyMediaURL))
	if c := checkOf(t, m, risky); c.Status != mockapi.MediaCheckPending || c.Suggest != "risky" || c.Label != 21000 {
		t.Fatalf("check right after the call = %+v", c)
	}
	_, body := d.nextPost(t)
	if waited := time.Since(start); waited < delay {
		t.Fatalf("the verdict came after %v, before the %v delay", waited, delay)
	}
	var got struct {
		ToUserName, FromUserName, MsgType, Event string
		CreateTime                               int64
		AppID                                    string `json:"appid"`
		TraceID                                  string `json:"trace_id"`
		Version                                  int    `json:"version"`
		ErrCode                                  int    `json:"errcode"`
		ErrMsg                                   string `json:"errmsg"`
		Detail                                   []struct {
			Strategy string `json:"strategy"`
			ErrCode  int    `json:"errcode"`
			Suggest  string `json:"suggest"`
			Label    int    `json:"label"`
			Prob     int    `json:"prob"`
		} `json:"detail"`
		Result struct {
			Suggest string `json:"suggest"`
			Label   int    `json:"label"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("push body %s: %v", body, err)
	}
	if got.MsgType != "event" || got.Event != "wxa_media_check" || got.AppID != pushWxApp || got.TraceID != risky ||
		got.Version != 2 || got.ErrCode != 0 || got.ErrMsg != "ok" || got.Result.Suggest != "risky" || got.Result.Label != 21000 ||
		len(got.Detail) != 1 || got.Detail[0].Strategy != "content_model" || got.Detail[0].Suggest != "risky" ||
		got.FromUserName != pushUser || got.CreateTime == 0 || got.ToUserName == "" {
		t.Fatalf("push body %s", body)
	}
	waitPushes(t, m, mockclient.PushFilter{Event: "wxa_media_check", Outcome: mockapi.PushDelivered}, 1)
	if c := checkOf(t, m, risky); c.Status != mockapi.MediaCheckPushed || c.PushID == "" || c.PushedAt == nil {
		t.Fatalf("check after its push = %+v", c)
	}

	// A clean image passes; the legacy version pushes the v1 shape.
	clean := mediaCheck(t, m, map[string]any{"media_url": "https://cdn.example/kitten.jpg", "media_type": 2})
	_, body = d.nextPost(t)
	var v1 map[string]any
	if err := json.Unmarshal(body, &v1); err != nil {
		t.Fatal(err)
	}
	if v1["trace_id"] != clean || v1["isrisky"] != float64(0) || v1["status_code"] != float64(0) || v1["result"] != nil {
		t.Fatalf("v1 push body %s", body)
	}
}

// Moving the mock clock past a check's moment pushes it at once.
func TestMediaCheckPushedWhenTheClockMoves(t *testing.T) {
	t.Parallel()
	m := startMediaCheckMock(t, 20*time.Minute)
	d := newDevServer(t, nil)
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "safe"))
	d.next(t)
	trace := mediaCheck(t, m, v2Check("https://cdn.example/other.png"))
	d.quiet(t, 300*time.Millisecond)
	if _, err := m.Control.Advance(context.Background(), 19*time.Minute); err != nil {
		t.Fatal(err)
	}
	d.quiet(t, 300*time.Millisecond)
	if _, err := m.Control.Advance(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	_, body := d.nextPost(t)
	var env struct {
		Encrypt string `xml:"Encrypt"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		t.Fatalf("safe-mode XML envelope %s: %v", body, err)
	}
	if c := checkOf(t, m, trace); c.Status != mockapi.MediaCheckPushed {
		t.Fatalf("check after the clock moved = %+v", c)
	}
}

// Without push settings the platform has nowhere to push: the check ends
// not_pushed, saying so.
func TestMediaCheckWithoutPushSettings(t *testing.T) {
	t.Parallel()
	m := startMediaCheckMock(t, 0)
	trace := mediaCheck(t, m, v2Check(riskyMediaURL))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := checkOf(t, m, trace)
		if c.Status == mockapi.MediaCheckNotPushed && c.Note != "" && c.PushID == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("check = %+v, want not_pushed with a note", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The SDK's receiver parses the verdict in every format and mode.
func TestSilenceperReceiverMediaCheck(t *testing.T) {
	t.Parallel()
	for _, c := range pushCombos {
		t.Run(c.format+"/"+c.mode, func(t *testing.T) {
			t.Parallel()
			m := startMediaCheckMock(t, 0)
			s := newSDKReceiver(t)
			if res := setPush(t, m, "wechat", pushWxApp, wxPush(s.devServer, c.format, c.mode)); !res.Verify.Passed {
				t.Fatalf("handshake with the SDK receiver: %+v", res.Verify)
			}
			trace := mediaCheck(t, m, v2Check(riskyMediaURL))
			p := s.nextParsed(t)
			if p.err != nil {
				t.Fatalf("the SDK refused the push: %v", p.err)
			}
			data, ok := p.data.(*message.MediaCheckAsyncData)
			if !ok || p.event != message.EventTypeWxaMediaCheck {
				t.Fatalf("SDK parsed %s/%s as %T", p.msgType, p.event, p.data)
			}
			if data.TraceID != trace || data.Appid != pushWxApp || data.Version != 2 || data.Result.Suggest != security.CheckSuggestRisky ||
				data.Result.Label != 21000 || len(data.Detail) != 1 || data.Detail[0].Prob != 90 || data.FromUserName != pushUser {
				t.Fatalf("SDK data = %+v (result %+v)", data, data.Result)
			}
		})
	}
}

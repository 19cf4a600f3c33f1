package mockserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// These tests drive the mock's pushes over HTTP end to end: settings
// through the control API, a platform call or a control call that makes the
// platform push, and a real developer's server (httptest) receiving it.

func TestPushSettingsOnAppsAndHandshake(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	d := newDevServer(t, nil)
	app := mockapi.App{Platform: mockapi.PlatformWeChat, AppID: "wx00000000000000aa", Secret: "s3cret",
		Push: &mockapi.PushConfig{URL: d.URL + "/wx", Token: pushToken, EncodingAESKey: pushAESKey, Mode: mockapi.PushModeSafe}}
	var answer map[string]any
	if st := postJSONTo(t, m.URL+"/_mock/apps", app, &answer); st != http.StatusCreated {
		t.Fatalf("POST /_mock/apps = %d %v", st, answer)
	}
	// Saving ran the console's handshake: a GET with signature, timestamp,
	// nonce and echostr; the server echoed echostr.
	r, _ := d.next(t)
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != "/wx" || q.Get("echostr") == "" ||
		q.Get("signature") != sha1Hex(sortedJoin(pushToken, q.Get("timestamp"), q.Get("nonce"))) {
		t.Fatalf("handshake %s %s", r.Method, r.URL)
	}
	v, _ := answer["verify"].(map[string]any)
	if v["passed"] != true || v["body"] != q.Get("echostr") || v["status"] != float64(200) {
		t.Errorf("verify in the answer = %v", answer["verify"])
	}
	p, _ := answer["push"].(map[string]any)
	if p["token_set"] != true || p["encoding_aes_key_set"] != true || p["mode"] != "safe" || p["format"] != "xml" {
		t.Errorf("push in the answer = %v", answer["push"])
	}

	resp, err := http.Get(m.URL + "/_mock/apps")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(raw, []byte(pushToken)) || bytes.Contains(raw, []byte(pushAESKey)) || bytes.Contains(raw, []byte("s3cret")) {
		t.Fatalf("GET /_mock/apps echoes a secret: %s", raw)
	}
	apps, _ := m.Control.Apps(context.Background())
	found := false
	for _, a := range apps {
		if a.AppID == app.AppID {
			found = true
			if a.Push == nil || !a.Push.TokenSet || a.Push.URL != d.URL+"/wx" || !strings.HasPrefix(a.Push.OriginalID, "gh_") {
				t.Errorf("app push info = %+v", a.Push)
			}
		}
	}
	if !found {
		t.Fatal("app not listed")
	}
	// The handshake is journaled.
	ps := waitPushes(t, m, mockclient.PushFilter{AppID: app.AppID, Event: "verify"}, 1)
	if ps[0].Outcome != mockapi.PushPassed || ps[0].Method != http.MethodGet {
		t.Errorf("handshake journal = %+v", ps[0])
	}
}

func TestPushSettingsErrors(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	cases := []struct {
		name  string
		app   mockapi.App
		field string
	}{
		{"no url", mockapi.App{Platform: "wechat", AppID: "wxbad1", Secret: "s", Push: &mockapi.PushConfig{Token: pushToken}}, "push.url"},
		{"short token", mockapi.App{Platform: "wechat", AppID: "wxbad2", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/", Token: "ab"}}, "push.token"},
		{"safe without key", mockapi.App{Platform: "wechat", AppID: "wxbad3", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/", Token: pushToken, Mode: "safe"}}, "push.encoding_aes_key"},
		{"bad key", mockapi.App{Platform: "wechat", AppID: "wxbad4", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/", Token: pushToken, EncodingAESKey: "short"}}, "push.encoding_aes_key"},
		{"douyin xml", mockapi.App{Platform: "douyin", AppID: "ttbad1", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/", Format: "xml"}}, "push.format"},
		{"alipay pushes nothing", mockapi.App{Platform: "alipay", AppID: "2021000000009999", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/"}}, "push"},
		{"kuaishou pushes nothing", mockapi.App{Platform: "kuaishou", AppID: "ks1", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/"}}, "push"},
		{"baidu pushes nothing", mockapi.App{Platform: "baidu", AppID: "bd1", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/"}}, "push"},
	}
	for _, tc := range cases {
		_, err := m.Control.AddApp(context.Background(), tc.app)
		ce := wantRefused(t, tc.name, err, http.StatusBadRequest, tc.field)
		if ce != nil && strings.Contains(ce.Message, pushToken) {
			t.Errorf("%s: the error echoes the token: %s", tc.name, ce.Message)
		}
	}
	apps, _ := m.Control.Apps(context.Background())
	for _, a := range apps {
		if strings.Contains(a.AppID, "bad") || a.AppID == "2021000000009999" {
			t.Errorf("app %s was registered despite its bad push settings", a.AppID)
		}
	}
}

func TestPutPushAndVerifyOnDemand(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	ctx := context.Background()
	// No settings: verify answers 409 naming the app.
	_, err := m.Control.VerifyPush(ctx, "wechat", pushWxApp)
	wantRefused(t, "verify without settings", err, http.StatusConflict, "app_id")
	wrong := newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		_, _ = io.WriteString(w, r.URL.Query().Get("echostr")+"\n")
	})
	res := setPush(t, m, "wechat", pushWxApp, wxPush(wrong, "json", "plain"))
	if res.Verify == nil || res.Verify.Passed || !strings.Contains(res.Verify.Error, "white space") || res.Verify.Status != 200 {
		t.Fatalf("a handshake answered with a trailing newline passed: %+v", res.Verify)
	}
	if res.Push == nil || res.Push.Format != "json" {
		t.Fatalf("settings not kept after a failed handshake: %+v", res.Push)
	}
	good := newDevServer(t, nil)
	setPush(t, m, "wechat", pushWxApp, wxPush(good, "json", "plain"))
	good.next(t) // the handshake of the save
	v, err := m.Control.VerifyPush(ctx, "wechat", pushWxApp)
	if err != nil || !v.Passed || v.LatencyMS <= 0 || !strings.HasPrefix(v.URL, good.URL+"/wx/push?signature=") {
		t.Fatalf("verify on demand = %+v, %v", v, err)
	}
	r, _ := good.next(t)
	if r.URL.Query().Get("echostr") == "" {
		t.Fatalf("on-demand verify sent %s", r.URL)
	}
	// A dead server: verify reports the error, never hangs past the timeout.
	dead := newDevServer(t, nil)
	dead.Close()
	setPush(t, m, "wechat", pushWxApp, &mockapi.PushConfig{URL: dead.URL, Token: pushToken})
	v, _ = m.Control.VerifyPush(ctx, "wechat", pushWxApp)
	if v.Passed || v.Status != 0 || v.Error == "" {
		t.Fatalf("verify against a dead server = %+v", v)
	}
	// Removing the settings.
	if res := setPush(t, m, "wechat", pushWxApp, nil); res.Push != nil || res.Verify != nil {
		t.Fatalf("remove settings = %+v", res)
	}
	apps, _ := m.Control.Apps(ctx)
	for _, a := range apps {
		if a.AppID == pushWxApp && a.Push != nil {
			t.Fatalf("settings still shown after removal: %+v", a.Push)
		}
	}
}

// A send the platform accepts is followed by subscribe_msg_sent_event with
// the msgid the send answered.
func TestSentEventAfterSend(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 1}); err != nil {
		t.Fatal(err)
	}
	tok := wxToken(t, m)
	ans := wxSend(t, m, tok, pushOneTime)
	if ans.ErrCode != 0 {
		t.Fatalf("send = %+v", ans)
	}
	r, body := d.nextPost(t)
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	var ev struct {
		ToUserName, FromUserName, MsgType, Event string
		CreateTime                               json.Number
		List                                     map[string]any
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("sent event %s: %v", body, err)
	}
	if ev.Event != "subscribe_msg_sent_event" || ev.MsgType != "event" || ev.FromUserName != pushUser ||
		!strings.HasPrefix(ev.ToUserName, "gh_") || ev.List["TemplateId"] != pushOneTime ||
		ev.List["MsgID"] != strconv.FormatInt(ans.MsgID, 10) || ev.List["ErrorCode"] != "0" || ev.List["ErrorStatus"] != "success" {
		t.Fatalf("sent event = %s", body)
	}
	if _, err := ev.CreateTime.Int64(); err != nil || bytes.Contains(body, []byte(`"CreateTime":"`)) {
		t.Errorf("CreateTime must be a number: %s", body)
	}
	// A refused send (no grant left) pushes nothing.
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 43101 {
		t.Fatalf("second send = %+v, want 43101", ans)
	}
	d.quiet(t, 200*time.Millisecond)

	// sent_events off.
	off := false
	p := wxPush(d, "json", "plain")
	p.SentEvents = &off
	setPush(t, m, "wechat", pushWxApp, p)
	d.next(t)
	m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 1})
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 0 {
		t.Fatalf("send = %+v", ans)
	}
	d.quiet(t, 200*time.Millisecond)
}

func TestSentEventFaults(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	ctx := context.Background()
	m.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 5})
	code := 43101
	if _, err := m.Control.AddFault(ctx, mockapi.Fault{Platform: "wechat", Endpoint: "push_sent_event", ErrCode: &code, Times: 1}); err != nil {
		t.Fatal(err)
	}
	tok := wxToken(t, m)
	wxSend(t, m, tok, pushOneTime)
	_, body := d.nextPost(t)
	if !bytes.Contains(body, []byte(`"ErrorCode":"43101"`)) || !bytes.Contains(body, []byte(`"ErrorStatus":"user refuse to accept the msg"`)) {
		t.Fatalf("sent event with an errcode fault: %s", body)
	}
	if _, err := m.Control.AddFault(ctx, mockapi.Fault{Platform: "wechat", Endpoint: "push_sent_event", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 0 {
		t.Fatalf("the send itself must not fail: %+v", ans)
	}
	d.quiet(t, 200*time.Millisecond)
	wxSend(t, m, tok, pushOneTime)
	if _, body := d.nextPost(t); !bytes.Contains(body, []byte(`"ErrorCode":"0"`)) {
		t.Fatalf("after the faults: %s", body)
	}
	// Push fault rules are checked at the control API.
	for _, f := range []mockapi.Fault{
		{Platform: "wechat", Endpoint: "push_sent_event", HTTPStatus: 500},
		{Platform: "wechat", Endpoint: "push", ErrCode: &code},
		{Platform: "wechat", Endpoint: "push", Corrupt: "everything"},
		{Platform: "douyin", Endpoint: "push", Corrupt: "msg_signature"},
		{Platform: "douyin", Endpoint: "push_sent_event", Drop: true},
		{Platform: "alipay", Endpoint: "push", Drop: true},
		{Platform: "wechat", Endpoint: "subscribe_send", Corrupt: "signature"},
	} {
		if _, err := m.Control.AddFault(ctx, f); err == nil {
			t.Errorf("fault %+v accepted", f)
		}
	}
}

// A receiver that never answers costs the platform API nothing: every send
// answers while the pushes it caused are still stuck in flight or queued.
func TestHangingReceiverDoesNotBlockSends(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	d := newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	m := startPushMock(t)
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "safe"))
	d.next(t)
	m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushLongTerm, LongTerm: true})
	tok := wxToken(t, m)
	const sends = 20
	for i := 0; i < sends; i++ {
		if ans := wxSend(t, m, tok, pushLongTerm); ans.ErrCode != 0 {
			t.Fatalf("send %d = %+v", i, ans)
		}
	}
	// Every send has answered; the pushes have not.
	st, _ := m.Control.Stats(context.Background())
	if st.Pushes.Enqueued != sends || st.Pushes.Delivered != 0 || st.Pushes.InFlight+st.Pushes.Queued+int(st.Pushes.Dropped) != sends {
		t.Fatalf("push stats after %d sends = %+v", sends, st.Pushes)
	}
	if st.Pushes.InFlight != 4 {
		t.Errorf("%d pushes in flight, want the per-app bound 4", st.Pushes.InFlight)
	}
}

func TestResetClearsPushes(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	d := newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
			return
		}
		<-r.Context().Done()
	})
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "plain"))
	d.next(t)
	m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushLongTerm, LongTerm: true})
	tok := wxToken(t, m)
	for i := 0; i < 10; i++ {
		wxSend(t, m, tok, pushLongTerm)
	}
	if err := m.Control.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := m.Control.Stats(context.Background())
	if st.Pushes != (mockapi.PushQueue{}) {
		t.Fatalf("push stats after reset = %+v", st.Pushes)
	}
	ps, _ := m.Control.Pushes(context.Background(), mockclient.PushFilter{})
	if len(ps.Pushes) != 0 {
		t.Fatalf("journal after reset: %+v", ps.Pushes)
	}
	apps, _ := m.Control.Apps(context.Background())
	for _, a := range apps {
		if a.Push != nil {
			t.Fatalf("settings survived the reset: %+v", a)
		}
	}
}

func TestPushJournalFiltersAndClear(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	ctx := context.Background()
	var n int
	d := newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
			return
		}
		n++
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "plain"))
	m.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 1})
	wxSend(t, m, wxToken(t, m), pushOneTime)
	del := waitPushes(t, m, mockclient.PushFilter{Platform: "wechat", Event: "subscribe_msg_sent_event", Outcome: mockapi.PushDelivered}, 1)[0]
	all := waitPushes(t, m, mockclient.PushFilter{ID: del.ID}, 2)
	if len(all) != 2 || all[0].Outcome != mockapi.PushRetry || all[0].Status != 503 || all[1].Attempt != 1 ||
		all[1].Answer != "success" || all[1].OpenID != pushUser || !strings.Contains(all[1].URL, "signature=") ||
		all[1].ContentType != "text/xml" || !strings.HasPrefix(all[1].Body, "<xml>") {
		t.Fatalf("attempts of %s = %+v", del.ID, all)
	}
	if _, err := m.Control.Pushes(ctx, mockclient.PushFilter{Outcome: "maybe"}); err == nil {
		t.Error("an unknown outcome filter was accepted")
	}
	if err := m.Control.ClearPushes(ctx); err != nil {
		t.Fatal(err)
	}
	ps, _ := m.Control.Pushes(ctx, mockclient.PushFilter{})
	if ps.Total != 0 || ps.Queue.Delivered != 1 {
		t.Fatalf("after clearing the journal: total %d, queue %+v (counters stay until reset)", ps.Total, ps.Queue)
	}
}

func TestPushCorruptSignatureFault(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	ctx := context.Background()
	id, err := m.Control.AddFault(ctx, mockapi.Fault{Platform: "wechat", Endpoint: "push", Corrupt: "signature", Times: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 2})
	tok := wxToken(t, m)
	wxSend(t, m, tok, pushOneTime)
	r, _ := d.nextPost(t)
	q := r.URL.Query()
	if q.Get("signature") == sha1Hex(sortedJoin(pushToken, q.Get("timestamp"), q.Get("nonce"))) {
		t.Fatal("a corrupt-signature fault sent a valid signature")
	}
	ps := waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_sent_event"}, 1)
	if ps[0].Fault != id {
		t.Errorf("journal entry names fault %q, want %q", ps[0].Fault, id)
	}
	wxSend(t, m, tok, pushOneTime)
	r, _ = d.nextPost(t)
	q = r.URL.Query()
	if q.Get("signature") != sha1Hex(sortedJoin(pushToken, q.Get("timestamp"), q.Get("nonce"))) {
		t.Fatal("the fault fired more often than its times")
	}
}

func TestServerShutdownDrains(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "compatible")
	m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushLongTerm, LongTerm: true})
	tok := wxToken(t, m)
	for i := 0; i < 5; i++ {
		wxSend(t, m, tok, pushLongTerm)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if dropped := m.Server.Shutdown(ctx); dropped != 0 {
		t.Fatalf("Shutdown dropped %d with time to spare", dropped)
	}
	for i := 0; i < 5; i++ {
		d.nextPost(t)
	}
	st, _ := m.Control.Stats(context.Background())
	if st.Pushes.Delivered != 5 {
		t.Fatalf("delivered %d of 5 before Shutdown returned", st.Pushes.Delivered)
	}
}

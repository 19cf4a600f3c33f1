package douyin_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

var logIDPattern = regexp.MustCompile(`^[0-9]{14}[0-9A-F]{20}$`)

func TestNotifyV1Success(t *testing.T) {
	t.Parallel()
	for _, path := range []string{pathNotifyV1, "/mgplatform/api/apps/subscribe_notification/developer/v1/notify"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			r := m.post(path, map[string]any{"access_token": tok, "app_id": appA, "tpl_id": tmplA,
				"open_id": userA, "data": goodData(), "page": "pages/index?a=b"})
			wantErrNo(t, r, 0)
			if tips := r.str(t, "err_tips"); tips != "" {
				t.Errorf("err_tips %q, want empty on success", tips)
			}
			msgs := m.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages in the inbox, want 1", len(msgs))
			}
			got := msgs[0]
			want := map[string]string{"物品名称": "机械键盘", "购买金额": "199.00", "number3": "3"}
			if got.AppID != appA || got.OpenID != userA || got.TemplateID != tmplA || got.Page != "pages/index?a=b" {
				t.Errorf("message %+v", got)
			}
			for k, v := range want {
				if got.Data[k] != v {
					t.Errorf("data[%s] = %q, want %q (all: %v)", k, got.Data[k], v, got.Data)
				}
			}
			if n := m.remaining(userA, tmplA); n != 4 {
				t.Errorf("remaining %d after one send, want 4", n)
			}
		})
	}
}

func TestNotifyV1Errors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("长", 51)
	cases := []struct {
		name string
		edit func(body map[string]any)
		raw  string // sent instead of the body when set
		want int64
	}{
		{name: "malformed JSON", raw: `{"access_token":`, want: 1000},
		{name: "empty body", raw: " ", want: 1000},
		{name: "data not an object", edit: func(b map[string]any) { b["data"] = "x" }, want: 1000},
		{name: "missing tpl_id", edit: func(b map[string]any) { delete(b, "tpl_id") }, want: 1000},
		{name: "missing open_id", edit: func(b map[string]any) { delete(b, "open_id") }, want: 1000},
		{name: "missing data", edit: func(b map[string]any) { delete(b, "data") }, want: 1000},
		{name: "missing access_token", edit: func(b map[string]any) { delete(b, "access_token") }, want: 28001003},
		{name: "unknown access_token", edit: func(b map[string]any) { b["access_token"] = "0801121846ffff" }, want: 28001003},
		{name: "app_id of another app", edit: func(b map[string]any) { b["app_id"] = appB }, want: 1001},
		{name: "unknown open_id", edit: func(b map[string]any) { b["open_id"] = "_000nobody" }, want: 1001},
		{name: "user of another app", edit: func(b map[string]any) { b["open_id"] = userB }, want: 1001},
		{name: "unknown tpl_id", edit: func(b map[string]any) { b["tpl_id"] = "MSGnope" }, want: 1001},
		{name: "template of another app", edit: func(b map[string]any) { b["tpl_id"] = tmplB }, want: 1001},
		{name: "keyword missing", edit: func(b map[string]any) { delete(b["data"].(map[string]any), "购买金额") }, want: 1001},
		{name: "keyword empty", edit: func(b map[string]any) { b["data"].(map[string]any)["物品名称"] = " " }, want: 1001},
		{name: "keyword too long", edit: func(b map[string]any) { b["data"].(map[string]any)["物品名称"] = long }, want: 1001},
		{name: "keyword not text", edit: func(b map[string]any) { b["data"].(map[string]any)["物品名称"] = true }, want: 1001},
		{name: "keyword two lines", edit: func(b map[string]any) { b["data"].(map[string]any)["物品名称"] = "a\nb" }, want: 1001},
		{name: "bad page", edit: func(b map[string]any) { b["page"] = "https://example.com" }, want: 1001},
		{name: "risky content", edit: func(b map[string]any) { b["data"].(map[string]any)["物品名称"] = riskyText }, want: 1008},
		{name: "not subscribed", edit: func(b map[string]any) { b["open_id"] = userNoGrant }, want: 28014043},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			body := map[string]any{"access_token": tok, "app_id": appA, "tpl_id": tmplA, "open_id": userA,
				"data": goodData(), "page": ""}
			var r reply
			if tc.raw != "" {
				r = m.post(pathNotifyV1, tc.raw)
			} else {
				tc.edit(body)
				r = m.post(pathNotifyV1, body)
			}
			wantErrNo(t, r, tc.want)
			if r.str(t, "err_tips") == "" {
				t.Error("error without err_tips")
			}
			if n := len(m.messages()); n != 0 {
				t.Errorf("%d messages delivered by a refused send", n)
			}
			if n := m.remaining(userA, tmplA); n != 5 {
				t.Errorf("remaining %d after a refused send, want 5", n)
			}
			// A refused send does not take the user's one-per-second slot.
			wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA, goodData(), ""), 0)
		})
	}
}

func TestNotifyV1ExpiredToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	m.advance(7200 * time.Second)
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA, goodData(), ""), 28001008)
}

// TestNotifyPage: with the app's published pages listed, page must be one
// of them.
func TestNotifyPage(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/index", "pages/order"} })
	tok := m.token(appA, secretA)
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA, goodData(), "pages/missing?id=1"), 1001)
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA, goodData(), "pages/order?id=1"), 0)
	m.advance(time.Second)
	client := m.clientToken(appA, secretA)
	r := m.post(pathNotifyV2, map[string]any{"msg_id": tmplA, "open_id": userA, "data": goodData(), "page": "pages/missing"},
		"access-token", client)
	wantErrNo(t, r, 28001007)
}

func TestNotifyGrants(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	// userA2 holds one one-time grant: the second send is refused.
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA2, goodData(), ""), 0)
	m.advance(time.Second)
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userA2, goodData(), ""), 28014043)
	// A long-term grant is never used up.
	for range 3 {
		r := m.notifyV1(tok, appA, tmplLong, userA, map[string]any{"预约项目": "体检"}, "")
		wantErrNo(t, r, 0)
		m.advance(time.Second)
	}
	if got := len(m.messages()); got != 4 {
		t.Errorf("%d messages, want 4", got)
	}
}

func TestNotifyV2Success(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	// The v2 data shape is UNCONFIRMED: flat values and {"value": …}
	// objects are both taken.
	r := m.post(pathNotifyV2, map[string]any{"msg_id": tmplA, "open_id": userA, "notify_type": []int{1, 2},
		"page": "pages/index", "data": map[string]any{"物品名称": map[string]any{"value": "机械键盘"}, "购买金额": "199.00", "number3": "3"}},
		"access-token", tok)
	wantErrNo(t, r, 0)
	if msg := r.str(t, "err_msg"); msg != "" {
		t.Errorf("err_msg %q, want empty", msg)
	}
	logID := r.str(t, "log_id")
	if !logIDPattern.MatchString(logID) {
		t.Errorf("log_id %q does not look like Douyin's", logID)
	}
	msgs := m.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if msgs[0].MsgID != logID || msgs[0].TemplateID != tmplA || msgs[0].Data["物品名称"] != "机械键盘" || msgs[0].Page != "pages/index" {
		t.Errorf("message %+v", msgs[0])
	}
	if n := m.remaining(userA, tmplA); n != 4 {
		t.Errorf("remaining %d, want 4", n)
	}
}

func TestNotifyV2Errors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		edit   func(body map[string]any)
		raw    string
		header func(client, access string) string
		want   int64
	}{
		{name: "no access-token", header: func(string, string) string { return "" }, want: 28001003},
		{name: "access_token kind", header: func(_, access string) string { return access }, want: 28001003},
		{name: "unknown token", header: func(string, string) string { return "clt.nope" }, want: 28001003},
		{name: "malformed JSON", raw: `{"msg_id":[`, want: 28001007},
		{name: "missing msg_id", edit: func(b map[string]any) { delete(b, "msg_id") }, want: 28001007},
		{name: "missing data", edit: func(b map[string]any) { delete(b, "data") }, want: 28001007},
		{name: "bad notify_type", edit: func(b map[string]any) { b["notify_type"] = []int{3} }, want: 28001007},
		{name: "unknown open_id", edit: func(b map[string]any) { b["open_id"] = "_000nobody" }, want: 28001007},
		{name: "unknown msg_id", edit: func(b map[string]any) { b["msg_id"] = "MSGnope" }, want: 28001007},
		{name: "keyword missing", edit: func(b map[string]any) { delete(b["data"].(map[string]any), "number3") }, want: 28001007},
		{name: "risky content", edit: func(b map[string]any) { b["data"].(map[string]any)["购买金额"] = riskyText }, want: 28001007},
		{name: "not subscribed", edit: func(b map[string]any) { b["open_id"] = userNoGrant }, want: 28014043},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			client := m.clientToken(appA, secretA)
			access := m.token(appA, secretA)
			hdr := client
			if tc.header != nil {
				hdr = tc.header(client, access)
			}
			body := map[string]any{"msg_id": tmplA, "open_id": userA, "data": goodData()}
			var r reply
			if tc.raw != "" {
				r = m.post(pathNotifyV2, tc.raw, "access-token", hdr)
			} else {
				if tc.edit != nil {
					tc.edit(body)
				}
				r = m.post(pathNotifyV2, body, "access-token", hdr)
			}
			wantErrNo(t, r, tc.want)
			if r.str(t, "err_msg") == "" || !logIDPattern.MatchString(r.str(t, "log_id")) {
				t.Errorf("error without err_msg or log_id: %s", r.Body)
			}
			if n := len(m.messages()); n != 0 {
				t.Errorf("%d messages delivered by a refused send", n)
			}
			if n := m.remaining(userA, tmplA); n != 5 {
				t.Errorf("remaining %d after a refused send, want 5", n)
			}
		})
	}
}

func TestNotifyV2ExpiredToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	m.advance(7201 * time.Second)
	wantErrNo(t, m.notifyV2(tok, tmplA, userA, goodData()), 28001008)
}

// TestPerUserLimit: one message per second per user, across v1 and v2; a
// refused send consumes nothing; other users are not held back.
func TestPerUserLimit(t *testing.T) {
	t.Parallel()
	m := start(t)
	access := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA, goodData(), ""), 0)
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA, goodData(), ""), 1010)
	wantErrNo(t, m.notifyV2(client, tmplA, userA, goodData()), 28003018)
	if n := m.remaining(userA, tmplA); n != 4 {
		t.Fatalf("remaining %d, want 4: refused sends consumed a grant", n)
	}
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA2, goodData(), ""), 0)
	m.advance(time.Second)
	wantErrNo(t, m.notifyV2(client, tmplA, userA, goodData()), 0)
	wantErrNo(t, m.notifyV2(client, tmplA, userA, goodData()), 28003018)
	m.advance(time.Second)
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA, goodData(), ""), 0)
	if got := len(m.messages()); got != 4 {
		t.Errorf("%d messages, want 4", got)
	}
}

// TestNotifyQuota: the QPS cap is a quota per second (1000 by default);
// setting it to 0 refuses every send with each version's code.
func TestNotifyQuota(t *testing.T) {
	t.Parallel()
	m := start(t)
	access := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	m.setQuota("notify_v1", 0, "second")
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA, goodData(), ""), 28006003)
	m.setQuota("notify_v2", 0, "second")
	wantErrNo(t, m.notifyV2(client, tmplA, userA, goodData()), 28003018)
	m.setQuota("notify_v2", 1000, "second")
	m.setQuota("notify_v2", 0, "day")
	wantErrNo(t, m.notifyV2(client, tmplA, userA, goodData()), 28003017)
	if n := m.remaining(userA, tmplA); n != 5 {
		t.Fatalf("remaining %d, want 5", n)
	}
	m.setQuota("notify_v1", 1000, "second")
	wantErrNo(t, m.notifyV1(access, appA, tmplA, userA, goodData(), ""), 0)
	// The quota is per app: app B is unaffected by app A's.
	wantErrNo(t, m.notifyV2(m.clientToken(appB, secretB), tmplB, userB, map[string]any{"thing1": "x"}), 0)
}

// TestJournal: calls land in the journal with the app, the user and the code.
func TestJournal(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantErrNo(t, m.notifyV1(tok, appA, tmplA, userNoGrant, goodData(), ""), 28014043)
	code := 28014043
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformDouyin, Endpoint: "notify_v1", ErrCode: &code})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs.Requests) != 1 {
		t.Fatalf("%d journal entries, want 1", len(reqs.Requests))
	}
	e := reqs.Requests[0]
	if e.Platform != "douyin" || e.AppID != appA || e.OpenID != userNoGrant || e.Path != pathNotifyV1 || e.Status != http.StatusOK {
		t.Errorf("journal entry %+v", e)
	}
}

// TestConcurrentSends: sends racing for one user get exactly one slot, and
// token refetches racing with their use stay consistent (run with -race).
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	const n = 16
	codes := make(chan int64, n)
	probes := make(chan int64, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { codes <- m.notifyV1(tok, appA, tmplA, userA, goodData(), "").num(t, "err_no") })
		// Client-token refetches cut client tokens while censor reads them.
		wg.Go(func() { m.clientToken(appA, secretA) })
		wg.Go(func() { probes <- m.probe(client, false) })
	}
	wg.Wait()
	close(codes)
	close(probes)
	for c := range probes {
		if c != 0 && c != 28001003 {
			t.Errorf("probe of a client token being replaced: err_no %d", c)
		}
	}
	ok, limited := 0, 0
	for c := range codes {
		switch c {
		case 0:
			ok++
		case 1010:
			limited++
		default:
			t.Errorf("unexpected err_no %d", c)
		}
	}
	if ok != 1 || limited != n-1 {
		t.Errorf("%d accepted and %d limited, want 1 and %d", ok, limited, n-1)
	}
	if got := m.remaining(userA, tmplA); got != 4 {
		t.Errorf("remaining %d, want 4", got)
	}
}

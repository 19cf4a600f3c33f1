package events_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wxutil "github.com/silenceper/wechat/v2/util"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/events"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// Pushes are built here apart from the receiver: signatures and
// encryption come from silenceper/wechat's util package (a public SDK,
// nobody here wrote it), and the doc's own vectors pin both.

const (
	wxAppName = "shop"
	wxAppID   = "wx0123456789abcdef"
	wxToken   = "Tok3nForPushes"
	wxAESKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	otherKey  = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
	wxUser    = "o_user_alice_0000000000000000"

	dyAppName = "tok"
	dyAppID   = "tt0123456789abcdef"
	dySecret  = "douyin-app-secret"
	dyHook    = "douyin-webhook-secret"
	dyUser    = "_000user_bob_00000000000000000"
)

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) unix() string        { return strconv.FormatInt(c.Now().Unix(), 10) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// harness is a receiver over a real SQLite store, served over HTTP, with a
// processor running unless asked not to.
type harness struct {
	t     *testing.T
	url   string
	path  string
	store *sqlite.Store
	clock *clock
	apps  []events.App
	proc  *events.Processor
	stop  func()
}

func wechatApp(key string) events.App {
	a := events.App{Name: wxAppName, Platform: "wechat", AppID: wxAppID, Token: wxToken, MaxAge: 5 * time.Minute,
		LongTerm: map[string]bool{"lt-reminder": true}}
	if key != "" {
		k, err := decodeKey(key)
		if err != nil {
			panic(err)
		}
		a.AESKey = k
	}
	return a
}

func douyinApp(token string) events.App {
	return events.App{Name: dyAppName, Platform: "douyin", AppID: dyAppID, Token: token, Secret: dySecret}
}

type harnessOpt struct{ noProcessor bool }

func start(t *testing.T, apps []events.App, opts ...harnessOpt) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db", "minipush.db")
	st, err := openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, path: path, store: st, clock: newClock(t0), apps: apps}
	log := slog.New(slog.DiscardHandler)
	h.proc = events.NewProcessor(apps, st, log, events.WithPoll(10*time.Millisecond), events.WithClock(h.clock.Now))
	rc, err := events.NewReceiver(apps, st, log, events.WithClock(h.clock.Now), events.WithStored(h.proc.Wake))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc.Handler())
	h.url = srv.URL
	h.stop = func() {}
	if len(opts) == 0 || !opts[0].noProcessor {
		h.runProcessor()
	}
	t.Cleanup(func() {
		srv.Close()
		h.stop()
		_ = h.store.Close()
	})
	return h
}

// runProcessor starts the harness's processor (once).
func (h *harness) runProcessor() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.proc.Run(ctx); close(done) }()
	h.stop = func() { cancel(); <-done }
}

func openStore(path string) (*sqlite.Store, error) { return sqlite.Open(context.Background(), path) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func storageDelivered(msgid string) storage.Update {
	return storage.Update{Status: message.StatusDelivered, PlatformMsgID: msgid}
}

// answer is an HTTP answer.
type answer struct {
	status int
	body   string
}

func (h *harness) do(req *http.Request) answer {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

// wxPush is one WeChat push as the platform would send it.
type wxPush struct {
	app    string // default wxAppName
	format string // xml or json
	mode   string // plain, compatible or safe
	body   string // the event, in format
	// What to sign and encrypt with (defaults: the app's).
	token, key, appID string
	ts, nonce         string
	// Spoil after signing.
	query func(url.Values)
}

func (h *harness) wechat(p wxPush) *http.Request {
	h.t.Helper()
	if p.app == "" {
		p.app = wxAppName
	}
	if p.token == "" {
		p.token = wxToken
	}
	if p.key == "" {
		p.key = wxAESKey
	}
	if p.appID == "" {
		p.appID = wxAppID
	}
	if p.ts == "" {
		p.ts = h.clock.unix()
	}
	if p.nonce == "" {
		p.nonce = strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	}
	q := url.Values{"signature": {wxutil.Signature(p.token, p.ts, p.nonce)}, "timestamp": {p.ts}, "nonce": {p.nonce}}
	body := p.body
	if p.mode == "compatible" || p.mode == "safe" {
		enc, err := wxutil.EncryptMsg([]byte("0123456789abcdef"), []byte(p.body), p.appID, p.key)
		if err != nil {
			h.t.Fatal(err)
		}
		q.Set("openid", wxUser)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", wxutil.Signature(p.token, p.ts, p.nonce, string(enc)))
		body = envelope(h.t, p.format, p.mode, p.body, string(enc))
	}
	if p.query != nil {
		p.query(q)
	}
	req, err := http.NewRequest(http.MethodPost, h.url+"/v1/platform-events/"+p.app+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if p.format == "json" {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "text/xml")
	}
	return req
}

// envelope is the body of an encrypted push: safe mode carries ToUserName
// and Encrypt; compatible mode the plain fields as well.
func envelope(t testing.TB, format, mode, plain, enc string) string {
	t.Helper()
	if format == "json" {
		var m map[string]any
		if mode == "compatible" {
			if err := json.Unmarshal([]byte(plain), &m); err != nil {
				t.Fatal(err)
			}
		} else {
			m = map[string]any{"ToUserName": "gh_0123456789ab"}
		}
		m["Encrypt"] = enc
		b, _ := json.Marshal(m)
		return string(b)
	}
	if mode == "compatible" {
		return strings.Replace(plain, "</xml>", "<Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", 1)
	}
	return "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
}

// popup is a subscribe_msg_popup_event, in format, with one item per
// "template:accept|reject".
func popup(format string, createTime int64, answers ...string) string {
	return subscribeEvent(format, "subscribe_msg_popup_event", "SubscribeMsgPopupEvent", createTime, answers...)
}

func change(format string, createTime int64, templates ...string) string {
	var answers []string
	for _, t := range templates {
		answers = append(answers, t+":reject")
	}
	return subscribeEvent(format, "subscribe_msg_change_event", "SubscribeMsgChangeEvent", createTime, answers...)
}

func subscribeEvent(format, event, wrapper string, createTime int64, answers ...string) string {
	type item struct {
		TemplateID, Status string
	}
	var items []item
	for _, a := range answers {
		tpl, st, _ := strings.Cut(a, ":")
		items = append(items, item{tpl, st})
	}
	if format == "json" {
		list := make([]map[string]any, len(items))
		for i, it := range items {
			list[i] = map[string]any{"TemplateId": it.TemplateID, "SubscribeStatusString": it.Status}
			if event == "subscribe_msg_popup_event" {
				list[i]["PopupScene"] = "0"
			}
		}
		var l any = list
		if len(list) == 1 {
			l = list[0] // one item: an object, not an array
		}
		b, _ := json.Marshal(map[string]any{"ToUserName": "gh_0123456789ab", "FromUserName": wxUser, "CreateTime": createTime,
			"MsgType": "event", "Event": event, "List": l})
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event><%s>",
		wxUser, createTime, event, wrapper)
	for _, it := range items {
		fmt.Fprintf(&b, "<List><TemplateId><![CDATA[%s]]></TemplateId><SubscribeStatusString><![CDATA[%s]]></SubscribeStatusString>",
			it.TemplateID, it.Status)
		if event == "subscribe_msg_popup_event" {
			b.WriteString("<PopupScene>0</PopupScene>")
		}
		b.WriteString("</List>")
	}
	fmt.Fprintf(&b, "</%s></xml>", wrapper)
	return b.String()
}

// sent is a subscribe_msg_sent_event for msgid with code.
func sent(format string, createTime int64, msgid, code string) string {
	status := "success"
	if code != "0" {
		status = "system error"
	}
	if format == "json" {
		return fmt.Sprintf(`{"ToUserName":"gh_0123456789ab","FromUserName":%q,"CreateTime":%d,"MsgType":"event",`+
			`"Event":"subscribe_msg_sent_event","List":{"TemplateId":"tpl-order","MsgID":%q,"ErrorCode":%q,"ErrorStatus":%q}}`,
			wxUser, createTime, msgid, code, status)
	}
	return fmt.Sprintf("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event>"+
		"<SubscribeMsgSentEvent><List><TemplateId><![CDATA[tpl-order]]></TemplateId><MsgID>%s</MsgID><ErrorCode>%s</ErrorCode>"+
		"<ErrorStatus><![CDATA[%s]]></ErrorStatus></List></SubscribeMsgSentEvent></xml>", wxUser, createTime, msgid, code, status)
}

// douyin builds a Douyin webhook, signed with secret.
func (h *harness) douyin(secret, msgID string, body any) *http.Request {
	h.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	sum := sha1.Sum(append([]byte(secret), b...))
	req, err := http.NewRequest(http.MethodPost, h.url+"/v1/platform-events/"+dyAppName, strings.NewReader(string(b)))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Douyin-Signature", hex.EncodeToString(sum[:]))
	if msgID != "" {
		req.Header.Set("Msg-Id", msgID)
	}
	return req
}

func subscribeAction(user, template string, action int) map[string]any {
	content, _ := json.Marshal(map[string]any{"msg_id": template, "time": t0.Unix(), "subscribe_action": action})
	return map[string]any{"event": "user_subscribe_action", "client_key": dyAppID, "from_user_id": user, "content": string(content)}
}

// events lists every stored event (pending or processed) by reading the
// pending ones and, after processing, their results.
func (h *harness) pending() []message.Event {
	h.t.Helper()
	es, err := h.store.PendingEvents(context.Background(), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// entry reads the ledger.
func (h *harness) entry(app, user, tpl string) consent.Entry {
	h.t.Helper()
	e, err := h.store.Consent(context.Background(), consent.Key{App: app, User: user, TemplateID: tpl})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

// settled waits until no event is pending (the processor caught up).
func (h *harness) settled() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.pending()) > 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("events still pending: %+v", h.pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ledger is every entry of the app (for "nothing changed").
func (h *harness) ledger(app string) []consent.Entry {
	h.t.Helper()
	var all []consent.Entry
	for after := (consent.Key{}); ; {
		es, next, err := h.store.Consents(context.Background(), app, "", after, 1000)
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, es...)
		if next == (consent.Key{}) {
			return all
		}
		after = next
	}
}

// memStore is an events.Store in memory, for the fuzz targets (SQLite per
// input would be too slow).
type memStore struct {
	mu     sync.Mutex
	events []message.Event
	keys   map[string]bool
}

func (s *memStore) PutEvent(_ context.Context, e message.Event) (message.Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	k := e.App + "\x00" + e.Key
	if s.keys[k] {
		return e, true, nil
	}
	s.keys[k] = true
	s.events = append(s.events, e)
	return e, false, nil
}

func (s *memStore) PendingEvents(context.Context, int) ([]message.Event, error) { return nil, nil }
func (s *memStore) CompleteEvent(context.Context, string, storage.EventEffects, time.Time) error {
	return nil
}
func (s *memStore) PruneEvents(context.Context, time.Time) (int, error) { return 0, nil }

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func decodeKey(k string) ([]byte, error) { return config.AESKey(k) }

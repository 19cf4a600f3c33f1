package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/events"
	"github.com/minipush/minipush/sender/internal/message"
)

// The docs' own vectors
// (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html):
// Token "AAAAA", EncodingAESKey "A"×43, AppID wxba5fad812f8e6fb9.
const (
	docToken     = "AAAAA"
	docAESKey    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	docAppID     = "wxba5fad812f8e6fb9"
	docTimestamp = 1714112445
	docEncrypt   = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)

func docApp(t *testing.T) events.App {
	key, err := decodeKey(docAESKey)
	if err != nil {
		t.Fatal(err)
	}
	return events.App{Name: "doc", Platform: "wechat", AppID: docAppID, Token: docToken, AESKey: key, MaxAge: 5 * time.Minute}
}

// The console's URL check: the doc's handshake is answered with echostr,
// raw; a wrong signature is refused; nothing is stored.
func TestWeChatHandshake(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{docApp(t)})
	get := func(query string) answer {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/platform-events/doc?"+query, nil)
		return h.do(req)
	}
	ok := get("signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492")
	if ok.status != http.StatusOK || ok.body != "4375120948345356249" {
		t.Errorf("doc handshake: %d %q, want 200 and the echostr exactly", ok.status, ok.body)
	}
	for name, q := range map[string]string{
		"wrong signature":   "signature=f464b24fc39322e44b38aa78f5edd27bd1441697&echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492",
		"no signature":      "echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492",
		"another timestamp": "signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=4375120948345356249&timestamp=1714036505&nonce=1514711492",
	} {
		if a := get(q); a.status != http.StatusUnauthorized || a.body == "4375120948345356249" || !strings.Contains(a.body, "signature") {
			t.Errorf("%s: %d %q, want 401 naming the signature", name, a.status, a.body)
		}
	}
	if a := get("signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504&nonce=1514711492"); a.status != http.StatusBadRequest {
		t.Errorf("no echostr: %d %q, want 400", a.status, a.body)
	}
	if n := len(h.pending()); n != 0 {
		t.Errorf("handshakes stored %d events", n)
	}
}

// The doc's safe-mode JSON push, byte for byte, at the doc's time: accepted
// and stored as the event it holds.
func TestWeChatDocVector(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{docApp(t)}, harnessOpt{noProcessor: true})
	h.clock.Set(time.Unix(docTimestamp, 0))
	q := "signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741" +
		"&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
	body := `{"ToUserName":"gh_97417a04a28d","Encrypt":"` + docEncrypt + `"}`
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/platform-events/doc?"+q, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if a := h.do(req); a.status != http.StatusOK || a.body != "success" {
		t.Fatalf("doc push: %d %q, want 200 success", a.status, a.body)
	}
	es := h.pending()
	if len(es) != 1 || es[0].Name != "debug_demo" || es[0].User != "o9AgO5Kd5ggOC-bXrbNODIiE3bGY" || es[0].App != "doc" {
		t.Fatalf("stored %+v, want the doc's debug_demo event", es)
	}
	// The same push with one character of Encrypt changed: msg_signature
	// no longer verifies.
	tampered := strings.Replace(body, "+qdx", "+qdy", 1)
	req, _ = http.NewRequest(http.MethodPost, h.url+"/v1/platform-events/doc?"+q, strings.NewReader(tampered))
	if a := h.do(req); a.status != http.StatusUnauthorized || !strings.Contains(a.body, "msg_signature") {
		t.Errorf("tampered doc push: %d %q, want 401 naming msg_signature", a.status, a.body)
	}
}

// Every mode and format carries the same popup to the same ledger: the
// List as an array (two templates) and as an object (one).
func TestWeChatModesAndFormats(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"xml", "json"} {
		for _, mode := range []string{"plain", "compatible", "safe"} {
			t.Run(format+"/"+mode, func(t *testing.T) {
				t.Parallel()
				key := wxAESKey
				if mode == "plain" {
					key = ""
				}
				h := start(t, []events.App{wechatApp(key)})
				ct := t0.Unix()
				for i, body := range []string{
					popup(format, ct, "tpl-order:accept", "tpl-coupon:reject"),
					popup(format, ct+1, "tpl-order:accept"),
					change(format, ct+2, "tpl-news"),
					popup(format, ct+3, "lt-reminder:accept"),
				} {
					if a := h.do(h.wechat(wxPush{format: format, mode: mode, body: body})); a.status != http.StatusOK || a.body != "success" {
						t.Fatalf("push %d: %d %q", i, a.status, a.body)
					}
				}
				h.settled()
				order, coupon, news, lt := h.entry(wxAppName, wxUser, "tpl-order"), h.entry(wxAppName, wxUser, "tpl-coupon"),
					h.entry(wxAppName, wxUser, "tpl-news"), h.entry(wxAppName, wxUser, "lt-reminder")
				if order.Credits != 2 || order.Accepts != 2 || order.Source != consent.SourcePopup {
					t.Errorf("tpl-order: %+v, want 2 credits from 2 popup accepts", order)
				}
				if !coupon.Rejected || coupon.Source != consent.SourcePopup {
					t.Errorf("tpl-coupon: %+v, want rejected in a popup", coupon)
				}
				if !news.Rejected || news.Source != consent.SourceSettings {
					t.Errorf("tpl-news: %+v, want rejected in the settings", news)
				}
				if !lt.LongTerm || lt.Credits != 0 {
					t.Errorf("lt-reminder: %+v, want a long-term grant (listed as long-term)", lt)
				}
			})
		}
	}
}

// Each rule of the receiver, over HTTP: a forged, stale, undecryptable or
// malformed push is refused with 400/401 and a reason, and nothing is
// stored or changed.
func TestWeChatRefusals(t *testing.T) {
	t.Parallel()
	ct := t0.Unix()
	good := func(format string) string { return popup(format, ct, "tpl-order:accept") }
	tests := []struct {
		name   string
		key    string // the app's encoding_aes_key ("" plain only)
		push   wxPush
		raw    func(h *harness) *http.Request // instead of push
		status int
		reason string
	}{
		{name: "wrong token", push: wxPush{format: "xml", mode: "plain", body: good("xml"), token: "AnotherToken1"},
			status: 401, reason: "signature does not verify"},
		{name: "no signature", push: wxPush{format: "xml", mode: "plain", body: good("xml"),
			query: func(q url.Values) { q.Del("signature") }}, status: 401, reason: "signature, timestamp and nonce are required"},
		{name: "signature of another nonce", push: wxPush{format: "json", mode: "plain", body: good("json"),
			query: func(q url.Values) { q.Set("nonce", q.Get("nonce")+"1") }}, status: 401, reason: "signature does not verify"},
		{name: "stale timestamp", push: wxPush{format: "xml", mode: "plain", body: good("xml"),
			ts: fmt.Sprint(t0.Add(-time.Hour).Unix())}, status: 401, reason: "beyond the 5m0s window"},
		{name: "timestamp from the future", push: wxPush{format: "xml", mode: "plain", body: good("xml"),
			ts: fmt.Sprint(t0.Add(10 * time.Minute).Unix())}, status: 401, reason: "stale or replayed"},
		{name: "timestamp not a number", push: wxPush{format: "xml", mode: "plain", body: good("xml"), ts: "soon"},
			status: 400, reason: "not Unix seconds"},
		{name: "msg_signature wrong", key: wxAESKey, push: wxPush{format: "json", mode: "safe", body: good("json"),
			query: func(q url.Values) { q.Set("msg_signature", strings.Repeat("0", 40)) }}, status: 401, reason: "msg_signature does not verify"},
		{name: "msg_signature missing", key: wxAESKey, push: wxPush{format: "xml", mode: "safe", body: good("xml"),
			query: func(q url.Values) { q.Del("msg_signature") }}, status: 401, reason: "msg_signature is required"},
		{name: "msg_signature of a compatible push", key: wxAESKey, push: wxPush{format: "xml", mode: "compatible", body: good("xml"),
			query: func(q url.Values) { q.Set("msg_signature", q.Get("signature")) }}, status: 401, reason: "msg_signature does not verify"},
		{name: "another key", key: wxAESKey, push: wxPush{format: "json", mode: "safe", body: good("json"), key: otherKey},
			status: 400, reason: "does not decrypt"},
		{name: "another app id", key: wxAESKey, push: wxPush{format: "xml", mode: "safe", body: good("xml"), appID: "wx0000000000000000"},
			status: 401, reason: `names app "wx0000000000000000"`},
		{name: "plain push to an encrypting app", key: wxAESKey, push: wxPush{format: "xml", mode: "plain", body: good("xml")},
			status: 401, reason: "not encrypted"},
		{name: "encrypted push to a plain app", push: wxPush{format: "json", mode: "safe", body: good("json")},
			status: 400, reason: "no encoding_aes_key"},
		{name: "unknown encrypt_type", key: wxAESKey, push: wxPush{format: "json", mode: "safe", body: good("json"),
			query: func(q url.Values) { q.Set("encrypt_type", "des") }}, status: 400, reason: `encrypt_type "des"`},
		{name: "malformed XML", push: wxPush{format: "xml", mode: "plain", body: "<xml><FromUserName>"}, status: 400, reason: "malformed XML"},
		{name: "XML root not xml", push: wxPush{format: "xml", mode: "plain", body: "<event><MsgType>event</MsgType></event>"},
			status: 400, reason: "want <xml>"},
		{name: "malformed JSON", push: wxPush{format: "json", mode: "plain", body: `{"FromUserName":`}, status: 400, reason: "malformed JSON"},
		{name: "empty body", push: wxPush{format: "json", mode: "plain", body: ""}, status: 400, reason: "empty body"},
		{name: "no FromUserName", push: wxPush{format: "json", mode: "plain",
			body: `{"CreateTime":1,"MsgType":"event","Event":"subscribe_msg_popup_event","List":{"TemplateId":"t","SubscribeStatusString":"accept"}}`},
			status: 400, reason: "FromUserName is missing"},
		{name: "CreateTime not a number", push: wxPush{format: "json", mode: "plain",
			body: `{"FromUserName":"o1","CreateTime":"yesterday","MsgType":"event","Event":"x"}`}, status: 400, reason: "CreateTime"},
		{name: "List neither object nor array", push: wxPush{format: "json", mode: "plain",
			body: `{"FromUserName":"o1","CreateTime":1,"MsgType":"event","Event":"subscribe_msg_popup_event","List":"t"}`},
			status: 400, reason: "List must be an object"},
		{name: "popup without List", push: wxPush{format: "xml", mode: "plain",
			body: `<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event></xml>`},
			status: 400, reason: "List is missing"},
		{name: "unknown status", push: wxPush{format: "json", mode: "plain",
			body: strings.Replace(good("json"), `"accept"`, `"maybe"`, 1)}, status: 400, reason: "SubscribeStatusString must be accept or reject"},
		{name: "sent event without MsgID", push: wxPush{format: "json", mode: "plain",
			body: strings.Replace(sent("json", ct, "1", "0"), `"MsgID":"1",`, ``, 1)}, status: 400, reason: "MsgID is missing"},
		{name: "ErrorCode an object", push: wxPush{format: "json", mode: "plain",
			body: strings.Replace(sent("json", ct, "1", "0"), `"ErrorCode":"0"`, `"ErrorCode":{}`, 1)}, status: 400, reason: "List"},
		{name: "a field an object", push: wxPush{format: "json", mode: "plain",
			body: `{"FromUserName":{"a":1},"CreateTime":1,"MsgType":"event","Event":"x"}`}, status: 400, reason: "malformed JSON"},
		{name: "too many items", push: wxPush{format: "json", mode: "plain",
			body: popup("json", ct, strings.Split(strings.Repeat("t:accept,", 33), ",")[:33]...)}, status: 400, reason: "more than 32"},
		{name: "openid too long", push: wxPush{format: "json", mode: "plain",
			body: strings.Replace(good("json"), wxUser, strings.Repeat("o", 200), 1)}, status: 400, reason: "longer than"},
		{name: "unknown app", push: wxPush{app: "nope", format: "xml", mode: "plain", body: good("xml")}, status: 404, reason: `no app named "nope"`},
		{name: "body over the limit", raw: func(h *harness) *http.Request {
			return h.wechat(wxPush{format: "xml", mode: "plain", body: "<xml>" + strings.Repeat(" ", events.MaxBody) + "</xml>"})
		}, status: 413, reason: "limit"},
		{name: "PUT", raw: func(h *harness) *http.Request {
			req := h.wechat(wxPush{format: "xml", mode: "plain", body: good("xml")})
			req.Method = http.MethodPut
			return req
		}, status: 405, reason: "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, []events.App{wechatApp(tc.key)})
			req := func() *http.Request {
				if tc.raw != nil {
					return tc.raw(h)
				}
				return h.wechat(tc.push)
			}()
			a := h.do(req)
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(a.body), &e)
			if a.status != tc.status || !strings.Contains(e.Error, tc.reason) {
				t.Errorf("answer %d %s, want %d with a reason saying %q", a.status, a.body, tc.status, tc.reason)
			}
			if a.status == http.StatusUnauthorized || a.status == http.StatusBadRequest {
				if !strings.Contains(a.body, `"error"`) {
					t.Errorf("no error field: %s", a.body)
				}
			}
			for _, secret := range []string{wxToken, wxAESKey} {
				if strings.Contains(a.body, secret) {
					t.Errorf("the answer shows a secret: %s", a.body)
				}
			}
			time.Sleep(20 * time.Millisecond) // a processor would have run
			if es := h.pending(); len(es) != 0 {
				t.Errorf("a refused push was stored: %+v", es)
			}
			if l := h.ledger(wxAppName); len(l) != 0 {
				t.Errorf("a refused push changed the ledger: %+v", l)
			}
		})
	}
}

// Re-sent pushes (freshly signed, as the platform re-sends) are stored
// once; distinct sends reported in the same second stay distinct; a user
// message is known by its MsgId.
func TestWeChatDedupe(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{wechatApp(wxAESKey)}, harnessOpt{noProcessor: true})
	ct := t0.Unix()
	accept := popup("json", ct, "tpl-order:accept")
	for i := range 3 {
		h.clock.add(time.Second) // each re-send has its own timestamp and nonce
		if a := h.do(h.wechat(wxPush{format: "json", mode: "safe", body: accept, nonce: fmt.Sprint(1000 + i)})); a.status != http.StatusOK || a.body != "success" {
			t.Fatalf("re-send %d: %d %q", i, a.status, a.body)
		}
	}
	// Two receipts in one second: two msgids, two events.
	for _, id := range []string{"101", "102"} {
		if a := h.do(h.wechat(wxPush{format: "xml", mode: "safe", body: sent("xml", ct, id, "0")})); a.status != http.StatusOK {
			t.Fatalf("sent event %s: %d %q", id, a.status, a.body)
		}
	}
	msg := fmt.Sprintf(`{"ToUserName":"gh_1","FromUserName":%q,"CreateTime":%d,"MsgType":"text","Content":"hi","MsgId":23637352235060880}`, wxUser, ct)
	for range 2 {
		if a := h.do(h.wechat(wxPush{format: "json", mode: "compatible", body: msg})); a.status != http.StatusOK {
			t.Fatalf("user message: %d %q", a.status, a.body)
		}
	}
	stored := map[string]int{}
	for _, e := range h.pending() {
		stored[e.Name]++
	}
	if want := map[string]int{"subscribe_msg_popup_event": 1, "subscribe_msg_sent_event": 2, "text": 1}; fmt.Sprint(stored) != fmt.Sprint(want) {
		t.Errorf("stored %v, want %v", stored, want)
	}
	h.runProcessor()
	h.settled()
	if e := h.entry(wxAppName, wxUser, "tpl-order"); e.Credits != 1 || e.Accepts != 1 {
		t.Errorf("one accept re-sent three times: %+v, want one credit", e)
	}
	// A re-send after processing is still caught.
	for _, body := range []string{accept, msg} {
		if a := h.do(h.wechat(wxPush{format: "json", mode: "safe", body: body})); a.status != http.StatusOK {
			t.Fatalf("%d %q", a.status, a.body)
		}
	}
	h.settled()
	if e := h.entry(wxAppName, wxUser, "tpl-order"); e.Credits != 1 {
		t.Errorf("after yet another re-send: %+v", e)
	}
}

// Field types as the platform sends them: numbers or strings.
func TestWeChatFieldTypes(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{wechatApp("")})
	ct := t0.Unix()
	bodies := []string{
		fmt.Sprintf(`{"FromUserName":%q,"CreateTime":"%d","MsgType":"event","Event":"subscribe_msg_popup_event","List":[{"TemplateId":"a","SubscribeStatusString":"accept","PopupScene":0}]}`, wxUser, ct),
		fmt.Sprintf(`{"FromUserName":%q,"CreateTime":%d,"MsgType":"event","Event":"subscribe_msg_popup_event","List":{"TemplateId":"b","SubscribeStatusString":"accept","PopupScene":"0"}}`, wxUser, ct),
		fmt.Sprintf(`{"FromUserName":%q,"CreateTime":%d,"MsgType":"event","Event":"subscribe_msg_sent_event","List":{"TemplateId":"a","MsgID":1864323726461255680,"ErrorCode":0,"ErrorStatus":"success"}}`, wxUser, ct),
		fmt.Sprintf(`{"FromUserName":%q,"CreateTime":%d,"MsgType":"event","Event":"subscribe_msg_sent_event","List":{"TemplateId":"a","MsgID":"1864323726461255681","ErrorCode":"10001","ErrorStatus":"system error"}}`, wxUser, ct),
		fmt.Sprintf("<xml><FromUserName>%s</FromUserName><CreateTime> %d </CreateTime><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event>"+
			"<List><TemplateId>c</TemplateId><SubscribeStatusString>accept</SubscribeStatusString></List></xml>", wxUser, ct), // List without its wrapper
	}
	for i, b := range bodies {
		format := "json"
		if strings.HasPrefix(b, "<") {
			format = "xml"
		}
		if a := h.do(h.wechat(wxPush{format: format, mode: "plain", body: b})); a.status != http.StatusOK {
			t.Fatalf("body %d: %d %q", i, a.status, a.body)
		}
	}
	h.settled()
	for _, tpl := range []string{"a", "b", "c"} {
		if e := h.entry(wxAppName, wxUser, tpl); e.Credits != 1 {
			t.Errorf("template %s: %+v, want one credit", tpl, e)
		}
	}
}

// subscribe_msg_sent_event attaches the platform's receipt to the message
// with that msgid — whether it arrives after the send's outcome or before.
func TestWeChatReceipts(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{wechatApp(wxAESKey)})
	ctx := context.Background()
	ms, _, err := h.store.Enqueue(ctx, []message.Message{
		{App: wxAppName, Platform: "wechat", To: wxUser, TemplateID: "tpl-order", Data: map[string]string{}},
		{App: wxAppName, Platform: "wechat", To: wxUser, TemplateID: "tpl-order", Data: map[string]string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The second message's receipt arrives before its outcome is written.
	if a := h.do(h.wechat(wxPush{format: "xml", mode: "safe", body: sent("xml", t0.Unix(), "9002", "0")})); a.status != http.StatusOK {
		t.Fatalf("early receipt: %d %q", a.status, a.body)
	}
	h.settled()
	claimed, err := h.store.Claim(ctx, time.Now().Add(time.Minute), 2, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	msgid := map[string]string{ms[0].ID: "9001", ms[1].ID: "9002"}
	for _, m := range claimed {
		if err := h.store.Record(ctx, m.ID, m.Lease.Fence, &message.Attempt{At: t0, Outcome: message.OutcomeDelivered},
			storageDelivered(msgid[m.ID])); err != nil {
			t.Fatal(err)
		}
	}
	if a := h.do(h.wechat(wxPush{format: "json", mode: "safe", body: sent("json", t0.Unix(), "9001", "10001")})); a.status != http.StatusOK {
		t.Fatalf("failed receipt: %d %q", a.status, a.body)
	}
	h.settled()
	first, err := h.store.Get(ctx, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := first.Receipt; r == nil || r.Status != message.ReceiptFailed || r.ErrorCode != "10001" || r.ErrorStatus != "system error" ||
		first.Status != message.StatusDelivered {
		t.Errorf("message with a failed receipt: %+v receipt %+v", first, first.Receipt)
	}
	second, _ := h.store.Get(ctx, ms[1].ID)
	if r := second.Receipt; r == nil || r.Status != message.ReceiptDelivered || r.ErrorCode != "0" {
		t.Errorf("message whose receipt came first: receipt %+v", second.Receipt)
	}
}

// Verify, store, answer, process after: a push answered "success" while no
// processor runs is kept, and processed once one runs — after a restart
// of storage too.
func TestWeChatProcessedAfterRestart(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{wechatApp(wxAESKey)}, harnessOpt{noProcessor: true})
	if a := h.do(h.wechat(wxPush{format: "xml", mode: "safe", body: popup("xml", t0.Unix(), "tpl-order:accept")})); a.status != http.StatusOK || a.body != "success" {
		t.Fatalf("push: %d %q", a.status, a.body)
	}
	if n := len(h.pending()); n != 1 {
		t.Fatalf("%d events pending, want the answered one", n)
	}
	if e := h.entry(wxAppName, wxUser, "tpl-order"); e.Known() {
		t.Fatalf("processed before any processor ran: %+v", e)
	}
	// The process dies; a new one opens the same database.
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := events.NewProcessor(h.apps, st, discard(), events.WithPoll(10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := st.Consent(context.Background(), consent.Key{App: wxAppName, User: wxUser, TemplateID: "tpl-order"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Credits == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stored push was not processed after the restart: %+v", e)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

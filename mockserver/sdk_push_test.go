package mockserver_test

// The mock's pushes judged by a receiver nobody here wrote: the public
// silenceper/wechat SDK (v2.1.10). Its mini-program PushReceiver is the
// developer's server in each test; the SDK decides whether a push is valid.
// Where the SDK and the platform docs disagree the mock follows the docs,
// and the SDK's deviation is asserted here explicitly:
//   - PushReceiver checks only signature, never msg_signature: a push whose
//     msg_signature is wrong passes it (the OA server.Server checks both
//     and rejects it).
//   - PushReceiver picks XML only for a Content-Type starting "text/xml";
//     everything else is parsed as JSON.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	wechat "github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	miniConfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/miniprogram/message"
	oaConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	oaMessage "github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// sdkReceiver is a developer's server built on the SDK's PushReceiver: it
// answers the handshake itself (the receiver has no handshake helper),
// hands every POST to GetMsgData, keeps what it parsed, and answers
// "success" — or 400 when the SDK refused the push.
type sdkReceiver struct {
	*devServer
	parsed chan sdkParsed
}

type sdkParsed struct {
	msgType message.MsgType
	event   message.EventType
	data    message.PushData
	err     error
}

func newSDKReceiver(t *testing.T) *sdkReceiver {
	t.Helper()
	mini := wechat.NewWechat().GetMiniProgram(&miniConfig.Config{AppID: pushWxApp, AppSecret: pushWxSecret,
		Token: pushToken, EncodingAESKey: pushAESKey, Cache: cache.NewMemory()})
	rcv := mini.GetMessageReceiver()
	s := &sdkReceiver{parsed: make(chan sdkParsed, 100)}
	s.devServer = newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
			return
		}
		mt, ev, data, err := rcv.GetMsgData(r)
		s.parsed <- sdkParsed{mt, ev, data, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
	return s
}

// nextParsed waits for the next push and returns what the SDK made of it.
func (s *sdkReceiver) nextParsed(t *testing.T) sdkParsed {
	t.Helper()
	select {
	case p := <-s.parsed:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no push reached the SDK receiver within 10s")
		return sdkParsed{}
	}
}

var pushCombos = []struct{ format, mode string }{
	{"xml", "plain"}, {"xml", "compatible"}, {"xml", "safe"},
	{"json", "plain"}, {"json", "compatible"}, {"json", "safe"},
}

func TestSilenceperReceiverSentEvent(t *testing.T) {
	t.Parallel()
	for _, c := range pushCombos {
		t.Run(c.format+"/"+c.mode, func(t *testing.T) {
			t.Parallel()
			m := startPushMock(t)
			s := newSDKReceiver(t)
			if res := setPush(t, m, "wechat", pushWxApp, wxPush(s.devServer, c.format, c.mode)); !res.Verify.Passed {
				t.Fatalf("handshake with the SDK receiver: %+v", res.Verify)
			}
			m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 1})
			ans := wxSend(t, m, wxToken(t, m), pushOneTime)
			p := s.nextParsed(t)
			if p.err != nil {
				t.Fatalf("the SDK refused the push: %v", p.err)
			}
			sent, ok := p.data.(*message.PushDataSubscribeMsgSent)
			if !ok || p.msgType != message.MsgTypeEvent || p.event != message.EventSubscribeMsgSent {
				t.Fatalf("SDK parsed %s/%s as %T", p.msgType, p.event, p.data)
			}
			items := sent.GetSubscribeMsgSentEvents()
			if len(items) != 1 || items[0].TemplateID != pushOneTime || items[0].MsgID != strconv.FormatInt(ans.MsgID, 10) ||
				items[0].ErrorCode != "0" || items[0].ErrorStatus != "success" {
				t.Fatalf("sent items = %+v (send answered msgid %d)", items, ans.MsgID)
			}
			if sent.FromUserName != pushUser || sent.CreateTime == 0 || sent.ToUserName == "" {
				t.Errorf("common fields = %+v", sent.CommonPushData)
			}
			waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_sent_event", Outcome: mockapi.PushDelivered}, 1)
		})
	}
}

// Corruptions the receiver must reject — and the one PushReceiver lets
// through because it never checks msg_signature.
func TestSilenceperReceiverRejectsCorruptPushes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		corrupt  string
		accepted bool // by the mini-program PushReceiver
	}{
		{"signature", false},
		{"encryption", false},
		{"appid", false},
		// SDK deviation: the docs sign the encrypted body with
		// msg_signature; PushReceiver ignores it and accepts the push.
		{"msg_signature", true},
		// PushReceiver has no replay window: a correctly signed hour-old
		// push passes it. A receiver should compare timestamp with its
		// clock (the sender's receiver will).
		{"timestamp", true},
	}
	for _, tc := range cases {
		t.Run(tc.corrupt, func(t *testing.T) {
			t.Parallel()
			m := startPushMock(t, mockserverRetriesOff()...)
			s := newSDKReceiver(t)
			setPush(t, m, "wechat", pushWxApp, wxPush(s.devServer, "json", "safe"))
			s.next(t)
			if _, err := m.Control.AddFault(context.Background(), mockapi.Fault{Platform: "wechat", Endpoint: "push", Corrupt: tc.corrupt}); err != nil {
				t.Fatal(err)
			}
			m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushOneTime, Count: 1})
			wxSend(t, m, wxToken(t, m), pushOneTime)
			p := s.nextParsed(t)
			if (p.err == nil) != tc.accepted {
				t.Fatalf("PushReceiver on a push with a bad %s: err = %v, want accepted %v", tc.corrupt, p.err, tc.accepted)
			}
			want := mockapi.PushFailed
			if tc.accepted {
				want = mockapi.PushDelivered
			}
			ps := waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_sent_event"}, 1)
			if ps[0].Outcome != want || (want == mockapi.PushFailed && ps[0].Status != http.StatusBadRequest) {
				t.Errorf("journal = %+v, want outcome %s", ps[0], want)
			}
		})
	}
}

// The OA server.Server checks msg_signature (as the docs ask) and answers
// the GET handshake itself.
func TestSilenceperOAServerChecksMsgSignature(t *testing.T) {
	t.Parallel()
	oa := wechat.NewWechat().GetOfficialAccount(&oaConfig.Config{AppID: pushWxApp, AppSecret: pushWxSecret,
		Token: pushToken, EncodingAESKey: pushAESKey, Cache: cache.NewMemory()})
	var mu sync.Mutex
	var events []string
	d := newDevServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(msg *oaMessage.MixMessage) *oaMessage.Reply {
			mu.Lock()
			events = append(events, fmt.Sprintf("%s/%s from %s", msg.MsgType, msg.Event, msg.FromUserName))
			mu.Unlock()
			return nil
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		// Serve has echoed the handshake's echostr itself. In safe mode it
		// leaves the event's answer to Send, which would encrypt an empty
		// passive reply; a mini-program answers success instead.
		if r.Method == http.MethodPost {
			_, _ = io.WriteString(w, "success")
		}
	})
	m := startPushMock(t, mockserverRetriesOff()...)
	// OA's server reads XML unless the Content-Type says JSON.
	res := setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "safe"))
	if !res.Verify.Passed {
		t.Fatalf("the OA server did not pass the handshake: %+v", res.Verify)
	}
	m.Control.Grant(context.Background(), mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushLongTerm, LongTerm: true})
	tok := wxToken(t, m)
	wxSend(t, m, tok, pushLongTerm)
	all := waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_sent_event"}, 1)
	if all[0].Outcome != mockapi.PushDelivered {
		t.Fatalf("the OA server refused a valid push: %+v", all[0])
	}
	mu.Lock()
	if len(events) != 1 || events[0] != "event/subscribe_msg_sent_event from "+pushUser {
		t.Fatalf("OA server saw %v", events)
	}
	mu.Unlock()
	if _, err := m.Control.AddFault(context.Background(), mockapi.Fault{Platform: "wechat", Endpoint: "push", Corrupt: "msg_signature"}); err != nil {
		t.Fatal(err)
	}
	wxSend(t, m, tok, pushLongTerm)
	ps := waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_sent_event", Outcome: mockapi.PushFailed}, 1)
	if ps[0].Status != http.StatusUnauthorized {
		t.Fatalf("a bad msg_signature: %+v", ps[0])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 {
		t.Fatalf("the OA server handled a push with a bad msg_signature: %v", events)
	}
}

// mockserverRetriesOff makes one attempt per push: a refused push fails at
// once instead of being re-sent.
func mockserverRetriesOff() []mockserver.Option {
	return []mockserver.Option{mockserver.WithPushRetries(-1)}
}

// Popup answers (two templates: a List array in JSON, two <List> in XML;
// one template: the object quirk) and a settings change, parsed by the SDK
// in every format and mode.
func TestSilenceperReceiverPopupAndChange(t *testing.T) {
	t.Parallel()
	for _, c := range pushCombos {
		t.Run(c.format+"/"+c.mode, func(t *testing.T) {
			t.Parallel()
			m := startPushMock(t)
			s := newSDKReceiver(t)
			setPush(t, m, "wechat", pushWxApp, wxPush(s.devServer, c.format, c.mode))
			ctx := context.Background()

			popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushOneTime}, Reject: []string{pushOneTime2}})
			p := s.nextParsed(t)
			pop, ok := p.data.(*message.PushDataSubscribePopup)
			if p.err != nil || !ok || p.event != message.EventSubscribePopup {
				t.Fatalf("SDK: %T, %v", p.data, p.err)
			}
			got := pop.GetSubscribeMsgPopupEvents()
			if len(got) != 2 || got[0].TemplateID != pushOneTime || got[0].SubscribeStatusString != "accept" ||
				got[0].PopupScene != "0" || got[1].TemplateID != pushOneTime2 || got[1].SubscribeStatusString != "reject" {
				t.Fatalf("two-template popup parsed as %+v", got)
			}
			if pop.FromUserName != pushUser || pop.CreateTime == 0 {
				t.Errorf("common fields %+v", pop.CommonPushData)
			}

			popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushLongTerm}})
			p = s.nextParsed(t)
			if got := p.data.(*message.PushDataSubscribePopup).GetSubscribeMsgPopupEvents(); p.err != nil || len(got) != 1 || got[0].TemplateID != pushLongTerm {
				t.Fatalf("one-template popup parsed as %+v, %v", got, p.err)
			}

			if err := m.Control.Revoke(ctx, "wechat", pushWxApp, pushUser, pushLongTerm); err != nil {
				t.Fatal(err)
			}
			p = s.nextParsed(t)
			ch, ok := p.data.(*message.PushDataSubscribeMsgChange)
			if p.err != nil || !ok {
				t.Fatalf("SDK: %T, %v", p.data, p.err)
			}
			if got := ch.GetSubscribeMsgChangeEvents(); len(got) != 1 || got[0].TemplateID != pushLongTerm || got[0].SubscribeStatusString != "reject" {
				t.Fatalf("change event parsed as %+v", got)
			}
			waitPushes(t, m, mockclient.PushFilter{Outcome: mockapi.PushDelivered}, 3)
		})
	}
}

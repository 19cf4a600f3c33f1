package controlapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func TestMessagesHoldWhatWasSent(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 5)
	if err := m.Control.AddUser(ctx(t), mockapi.User{Platform: wechat, AppID: appID, OpenID: "o_other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Control.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: "o_other", TemplateID: tmplID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	tok := token(t, m, appID, secret)
	before := time.Now()
	for i, to := range []string{openID, "o_other", openID} {
		if r := send(t, m, tok, to, tmplID, fmt.Sprint("item ", i)); r.ErrCode != 0 {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	// The raw answer has the documented shape.
	a := call(t, m, http.MethodGet, "/_mock/messages?platform=wechat&app_id="+appID+"&openid="+openID+"&template_id="+tmplID, nil)
	a.expect(t, http.StatusOK, "")
	var raw struct {
		Messages []map[string]any `json:"messages"`
	}
	a.decodeInto(t, &raw)
	if len(raw.Messages) != 2 {
		t.Fatalf("filtered by openid: %s", a.body)
	}
	for _, k := range []string{"id", "platform", "app_id", "openid", "template_id", "data", "page", "received_at"} {
		if _, ok := raw.Messages[0][k]; !ok {
			t.Fatalf("message lacks %q: %v", k, raw.Messages[0])
		}
	}
	got, err := m.Control.Messages(ctx(t), mockclient.MessageFilter{Platform: wechat, AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 3 || len(got.Messages) != 3 {
		t.Fatalf("all messages: %+v", got)
	}
	first := got.Messages[0]
	if first.OpenID != openID || first.TemplateID != tmplID || first.Data["thing1"] != "item 0" ||
		first.Page != "pages/index/index" || first.ReceivedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("first message %+v", first)
	}
	ids := map[string]bool{}
	for _, msg := range got.Messages {
		ids[msg.ID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("message ids not unique: %v", ids)
	}
	tests := []struct {
		name string
		f    mockclient.MessageFilter
		want int
	}{
		{"by user", mockclient.MessageFilter{OpenID: "o_other"}, 1},
		{"by template", mockclient.MessageFilter{TemplateID: tmplID}, 3},
		{"other template", mockclient.MessageFilter{TemplateID: "nope"}, 0},
		{"other app", mockclient.MessageFilter{AppID: "wx_other"}, 0},
		{"limit", mockclient.MessageFilter{Limit: 2}, 2},
		{"offset", mockclient.MessageFilter{Offset: 2}, 1},
	}
	for _, tc := range tests {
		got, err := m.Control.Messages(ctx(t), tc.f)
		if err != nil || len(got.Messages) != tc.want {
			t.Errorf("%s: %d messages, %v; want %d", tc.name, len(got.Messages), err, tc.want)
		}
	}
	if err := m.Control.ClearMessages(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Control.Messages(ctx(t), mockclient.MessageFilter{}); len(got.Messages) != 0 {
		t.Fatalf("inbox not cleared: %+v", got)
	}
}

func TestMessagesQueryErrors(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	for _, tc := range []struct{ query, field string }{
		{"wait=soon", "wait"},
		{"wait=-1s", "wait"},
		{"min=-1", "min"},
		{"min=two", "min"},
		{"offset=x", "offset"},
		{"limit=-5", "limit"},
		{"platform=myspace", "platform"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			call(t, m, http.MethodGet, "/_mock/messages?"+tc.query, nil).expect(t, http.StatusBadRequest, tc.field)
		})
	}
}

func TestWaitReturnsOnceMinArrive(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 10)
	tok := token(t, m, appID, secret)
	sent := make(chan error, 1)
	go func() {
		// Not t.Fatal from here: report to the test goroutine.
		time.Sleep(100 * time.Millisecond)
		for i := range 3 {
			r, err := trySend(context.Background(), m, tok, openID, tmplID, fmt.Sprint("late ", i))
			if err != nil || r.ErrCode != 0 {
				sent <- fmt.Errorf("send %d: %+v, %v", i, r, err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		sent <- nil
	}()
	start := time.Now()
	got, err := m.Control.Messages(ctx(t), mockclient.MessageFilter{OpenID: openID, Wait: testWait, Min: 3})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) < 3 {
		t.Fatalf("wait returned %d messages, want >= 3", len(got.Messages))
	}
	if took >= testWait/2 {
		t.Fatalf("wait took %v: it did not return when the messages arrived", took)
	}
	if took < 150*time.Millisecond {
		t.Fatalf("wait returned after %v, before the third message could arrive", took)
	}
}

func TestWaitEndsWithFewerAtDeadline(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 10)
	tok := token(t, m, appID, secret)
	if r := send(t, m, tok, openID, tmplID, "only one"); r.ErrCode != 0 {
		t.Fatal(r)
	}
	const wait = 300 * time.Millisecond
	start := time.Now()
	got, err := m.Control.Messages(ctx(t), mockclient.MessageFilter{OpenID: openID, Wait: wait, Min: 2})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("got %d messages, want the 1 there is", len(got.Messages))
	}
	if took < wait || took > wait+2*time.Second {
		t.Fatalf("wait of %v took %v", wait, took)
	}
	// Messages for another user do not satisfy a filtered wait.
	start = time.Now()
	got, err = m.Control.Messages(ctx(t), mockclient.MessageFilter{OpenID: "o_nobody", Wait: wait})
	if err != nil || len(got.Messages) != 0 || time.Since(start) < wait {
		t.Fatalf("filtered wait: %+v, %v after %v", got, err, time.Since(start))
	}
}

func TestWaitWithoutMinWaitsForOne(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 10)
	tok := token(t, m, appID, secret)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = trySend(context.Background(), m, tok, openID, tmplID, "x") // the wait below fails if this does
	}()
	start := time.Now()
	got, err := m.Control.Messages(ctx(t), mockclient.MessageFilter{Wait: testWait})
	if err != nil || len(got.Messages) != 1 || time.Since(start) > testWait/2 {
		t.Fatalf("got %+v, %v after %v", got, err, time.Since(start))
	}
}

func TestInboxIsBounded(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 10, mockserver.WithInboxLimit(3))
	tok := token(t, m, appID, secret)
	for i := range 5 {
		if r := send(t, m, tok, openID, tmplID, fmt.Sprint("n", i)); r.ErrCode != 0 {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	got, err := m.Control.Messages(ctx(t), mockclient.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 3 || got.Total != 3 || got.Dropped != 2 {
		t.Fatalf("held %d (total %d) dropped %d; want 3, 3, 2", len(got.Messages), got.Total, got.Dropped)
	}
	for i, msg := range got.Messages {
		if want := fmt.Sprint("n", i+2); msg.Data["thing1"] != want {
			t.Fatalf("message %d is %q, want %q (oldest dropped first)", i, msg.Data["thing1"], want)
		}
	}
	st, err := m.Control.Stats(ctx(t))
	if err != nil || st.Messages != 3 || st.Dropped != 2 || st.Delivered != 5 {
		t.Fatalf("stats %+v, %v; want 3 held, 2 dropped, 5 delivered", st, err)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1)
	tok := token(t, m, appID, secret)
	send(t, m, tok, openID, tmplID, "ok")
	send(t, m, tok, "o_stranger", tmplID, "refused")
	call(t, m, http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret=wrong", nil)

	all, err := m.Control.Requests(ctx(t), mockclient.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 4 || len(all.Requests) != 4 {
		t.Fatalf("journal holds %d: %+v", all.Total, all.Requests)
	}
	r := all.Requests[1]
	if r.Method != http.MethodPost || r.Path != "/cgi-bin/message/subscribe/send" || r.AppID != appID ||
		r.OpenID != openID || r.Endpoint != "subscribe_send" || r.ErrCode != 0 || r.Status != 200 || r.LatencyMS < 0 {
		t.Fatalf("send entry %+v", r)
	}
	for _, e := range all.Requests {
		if e.Time.IsZero() {
			t.Fatalf("entry without time: %+v", e)
		}
	}
	code := 40003
	tests := []struct {
		name string
		f    mockclient.RequestFilter
		want int
	}{
		{"by endpoint", mockclient.RequestFilter{Endpoint: "token"}, 2},
		{"by errcode", mockclient.RequestFilter{ErrCode: &code}, 1},
		{"by openid", mockclient.RequestFilter{OpenID: "o_stranger"}, 1},
		{"by app", mockclient.RequestFilter{AppID: appID, Platform: wechat}, 4},
		{"limit", mockclient.RequestFilter{Limit: 1}, 1},
	}
	for _, tc := range tests {
		got, err := m.Control.Requests(ctx(t), tc.f)
		if err != nil || len(got.Requests) != tc.want {
			t.Errorf("%s: %d entries, %v; want %d", tc.name, len(got.Requests), err, tc.want)
		}
	}
	call(t, m, http.MethodGet, "/_mock/requests?errcode=abc", nil).expect(t, http.StatusBadRequest, "errcode")
	call(t, m, http.MethodGet, "/_mock/requests?wait=x", nil).expect(t, http.StatusBadRequest, "wait")
	call(t, m, http.MethodGet, "/_mock/requests?offset=-1", nil).expect(t, http.StatusBadRequest, "offset")
	// Control calls are not journalled: the journal is what the sender did.
	if got, _ := m.Control.Requests(ctx(t), mockclient.RequestFilter{}); got.Total != 4 {
		t.Fatalf("control calls landed in the journal: %d entries", got.Total)
	}
	if err := m.Control.ClearRequests(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Control.Requests(ctx(t), mockclient.RequestFilter{}); got.Total != 0 {
		t.Fatalf("journal not cleared: %d", got.Total)
	}
}

func TestJournalWaitAndBound(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1, mockserver.WithJournalLimit(2))
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		for range 3 { // the checks below fail if these do
			_, _ = tryCall(context.Background(), m, http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret="+secret, nil)
		}
	}()
	start := time.Now()
	got, err := m.Control.Requests(ctx(t), mockclient.RequestFilter{Endpoint: "token", Wait: testWait, Min: 2})
	if err != nil || len(got.Requests) < 2 || time.Since(start) > testWait/2 {
		t.Fatalf("wait: %+v, %v after %v", got, err, time.Since(start))
	}
	<-done
	got, _ = m.Control.Requests(ctx(t), mockclient.RequestFilter{})
	if len(got.Requests) != 2 || got.Dropped != 1 {
		t.Fatalf("journal of 2 after 3 calls: %d held, %d dropped", len(got.Requests), got.Dropped)
	}
}

// The journal keeps each call's query, body and answer with every secret
// masked: the app secret in a query and in a body, the access token in a
// query and in a token answer.
func TestJournalKeepsMaskedBodies(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1)
	tok := token(t, m, appID, secret) // GET /cgi-bin/token?…&secret=…
	call(t, m, http.MethodPost, "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"`+appID+`","secret":"`+secret+`"}`).
		expect(t, http.StatusOK, "")
	send(t, m, tok, openID, tmplID, "Phone case 42")
	a := call(t, m, http.MethodGet, "/_mock/requests", nil)
	a.expect(t, http.StatusOK, "")
	for _, leak := range []string{secret, tok} {
		if strings.Contains(string(a.body), leak) {
			t.Fatalf("the journal holds %q: %s", leak, a.body)
		}
	}
	var j mockapi.Requests
	a.decodeInto(t, &j)
	if len(j.Requests) != 3 {
		t.Fatalf("journal %s", a.body)
	}
	tokenCall, stable, sendCall := j.Requests[0], j.Requests[1], j.Requests[2]
	if !strings.Contains(tokenCall.Query, "secret=***") || !strings.Contains(tokenCall.Query, "appid="+appID) ||
		!strings.Contains(tokenCall.Answer, `"access_token":"***"`) || tokenCall.AnswerBytes == 0 {
		t.Fatalf("token call %+v", tokenCall)
	}
	if !strings.Contains(stable.Body, `"secret":"***"`) || stable.BodyBytes != int64(len(`{"grant_type":"client_credential","appid":"`+appID+`","secret":"`+secret+`"}`)) {
		t.Fatalf("stable_token call %+v", stable)
	}
	if sendCall.Query != "access_token=***" || !strings.Contains(sendCall.Body, "Phone case 42") ||
		!strings.Contains(sendCall.Answer, `"errcode":0`) || sendCall.BodyTruncated || sendCall.AnswerTruncated {
		t.Fatalf("send call %+v", sendCall)
	}
}

// Captures stop at the body limit and say so; a limit of 0 keeps none.
func TestJournalBodyLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, 16} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			t.Parallel()
			m := startSeeded(t, 1, mockserver.WithJournalBodyLimit(limit))
			tok := token(t, m, appID, secret)
			send(t, m, tok, openID, tmplID, "long enough value")
			j, err := m.Control.Requests(ctx(t), mockclient.RequestFilter{Endpoint: "subscribe_send"})
			if err != nil || len(j.Requests) != 1 {
				t.Fatalf("journal %+v, %v", j, err)
			}
			c := j.Requests[0]
			if c.BodyBytes < 50 || c.AnswerBytes < 10 || c.Query != "access_token=***" {
				t.Fatalf("sizes or query not recorded: %+v", c)
			}
			if limit == 0 {
				if c.Body != "" || c.Answer != "" || c.BodyTruncated {
					t.Fatalf("limit 0 kept bodies: %+v", c)
				}
				return
			}
			if len(c.Body) != limit || !c.BodyTruncated || len(c.Answer) != limit || !c.AnswerTruncated {
				t.Fatalf("limit %d: %+v", limit, c)
			}
		})
	}
}

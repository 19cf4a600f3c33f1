package baidu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func TestSubscribeSendDelivers(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	r := m.send(tok, sendForm(userA, "order-7"))
	wantErrno(t, r, baidu.ErrnoOK)
	if r.str("msg") != "success" {
		t.Errorf("msg %q, want success", r.str("msg"))
	}
	data := r.Fields["data"].(map[string]any)
	msgKey, ok := data["msg_key"]
	if !ok {
		t.Fatalf("data has no msg_key: %s", r.Body)
	}
	ms := m.messages()
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	got := ms[0]
	if got.AppID != appA || got.OpenID != userA || got.TemplateID != tmplA || got.Page != "pages/order/detail?id=7" {
		t.Errorf("message %+v: wrong app, user, template or page", got)
	}
	if n, _ := msgKey.(json.Number); got.MsgID != n.String() || got.MsgID == "" {
		t.Errorf("inbox msgid %q, answer msg_key %v", got.MsgID, msgKey)
	}
	if got.Data["thing1"] != "肯德基" || got.Data["number2"] != "2" {
		t.Errorf("data %v", got.Data)
	}
	if n := m.remaining(userA, tmplA); n != creditsOfA-1 {
		t.Errorf("%d credits left, want %d", n, creditsOfA-1)
	}
}

// "同一用户在同一个订阅id 下的多次授权不累积下发权限，只能下发一条。若要订阅多条，需要不同订阅 id".
func TestSubscribeIDCarriesOneMessage(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantErrno(t, m.send(tok, sendForm(userA, "s1")), baidu.ErrnoOK)
	r := m.send(tok, sendForm(userA, "s1"))
	wantErrno(t, r, baidu.ErrnoNotSubscribed)
	if !strings.Contains(r.str("msg"), "subscribe_id") {
		t.Errorf("msg %q does not name the spent subscribe_id", r.str("msg"))
	}
	if n := m.remaining(userA, tmplA); n != creditsOfA-1 {
		t.Fatalf("the refused replay consumed a credit: %d left, want %d", n, creditsOfA-1)
	}
	wantErrno(t, m.send(tok, sendForm(userA, "s2")), baidu.ErrnoOK)
	// One subscribe call may cover several templates under one id.
	other := sendForm(userA, "s1")
	other.Set("template_id", tmplA2)
	other.Set("data", `{"thing1":{"value":"提醒"}}`)
	wantErrno(t, m.send(tok, other), baidu.ErrnoOK)
	// Credits run out: the third credit spent, a fresh id is refused.
	wantErrno(t, m.send(tok, sendForm(userA, "s3")), baidu.ErrnoOK)
	wantErrno(t, m.send(tok, sendForm(userA, "s4")), baidu.ErrnoNotSubscribed)
	if got := len(m.messages()); got != 4 {
		t.Fatalf("%d messages, want 4", got)
	}
}

func TestSubscribeIDOnLongTermGrant(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantErrno(t, m.send(tok, sendForm(userLong, "s1")), baidu.ErrnoOK)
	wantErrno(t, m.send(tok, sendForm(userLong, "s1")), baidu.ErrnoNotSubscribed)
	wantErrno(t, m.send(tok, sendForm(userLong, "s2")), baidu.ErrnoOK)
}

func TestSubscribeSendErrors(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/order/detail", "pages/index"} })
	tok := m.token(appA, secretA)
	tests := []struct {
		name   string
		method string
		edit   url.Values // replaces fields; an empty value removes the field
		errno  baidu.Errno
		detail string
	}{
		{"GET", http.MethodGet, nil, baidu.ErrnoParam, "POST"},
		{"no template_id", "", url.Values{"template_id": {""}}, baidu.ErrnoParam, "template_id"},
		{"no touser_openId", "", url.Values{"touser_openId": {""}}, baidu.ErrnoParam, "touser_openId"},
		{"no subscribe_id", "", url.Values{"subscribe_id": {""}}, baidu.ErrnoParam, "subscribe_id"},
		{"no data", "", url.Values{"data": {""}}, baidu.ErrnoParam, "data"},
		{"data not JSON", "", url.Values{"data": {"keyword1=x"}}, baidu.ErrnoParam, "data"},
		{"data a JSON string", "", url.Values{"data": {`"x"`}}, baidu.ErrnoParam, "data"},
		{"unknown user", "", url.Values{"touser_openId": {"nobody"}}, baidu.ErrnoOpenID, ""},
		{"user of another app", "", url.Values{"touser_openId": {userB}}, baidu.ErrnoOpenID, ""},
		{"template of another app", "", url.Values{"template_id": {tmplB}}, baidu.ErrnoTemplate, ""},
		{"missing keyword", "", url.Values{"data": {`{"thing1":{"value":"x"}}`}}, baidu.ErrnoParam, "data.number2"},
		{"extra keyword", "", url.Values{"data": {`{"thing1":{"value":"x"},"number2":{"value":"1"},"keyword3":{"value":"y"}}`}}, baidu.ErrnoParam, "data.keyword3"},
		{"blank value", "", url.Values{"data": {`{"thing1":{"value":"  "},"number2":{"value":"1"}}`}}, baidu.ErrnoParam, "data.thing1"},
		{"no value", "", url.Values{"data": {`{"thing1":{},"number2":{"value":"1"}}`}}, baidu.ErrnoParam, "data.thing1"},
		{"flat value", "", url.Values{"data": {`{"thing1":"x","number2":{"value":"1"}}`}}, baidu.ErrnoParam, "data.thing1"},
		{"page not published", "", url.Values{"page": {"pages/other"}}, baidu.ErrnoParam, "page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sendForm(userA, "s-"+tt.name)
			for k, v := range tt.edit {
				if v[0] == "" {
					f.Del(k)
				} else {
					f[k] = v
				}
			}
			var r reply
			if tt.method == http.MethodGet {
				r = m.form(http.MethodGet, withToken(sendPath, tok)+"&"+f.Encode(), nil)
			} else {
				r = m.send(tok, f)
			}
			wantErrno(t, r, tt.errno)
			if !strings.Contains(r.str("msg"), tt.detail) {
				t.Errorf("msg %q does not mention %q", r.str("msg"), tt.detail)
			}
		})
	}
	t.Run("no subscription", func(t *testing.T) {
		wantErrno(t, m.send(tok, sendForm(userA2, "s1")), baidu.ErrnoNotSubscribed)
	})
	if got := len(m.messages()); got != 0 {
		t.Fatalf("%d messages delivered by rejected sends, want 0", got)
	}
	if n := m.remaining(userA, tmplA); n != creditsOfA {
		t.Fatalf("rejected sends left %d credits, want %d", n, creditsOfA)
	}
	// Page is optional: without it the send goes through.
	f := sendForm(userA, "no-page")
	f.Del("page")
	wantErrno(t, m.send(tok, f), baidu.ErrnoOK)
}

func TestSubscribeSendJournal(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantErrno(t, m.send(tok, sendForm(userA, "s1")), baidu.ErrnoOK)
	wantErrno(t, m.send(tok, sendForm(userA, "s1")), baidu.ErrnoNotSubscribed)
	wantGateway(t, m.send("bogus", sendForm(userA, "s1")), baidu.GatewayTokenInvalid)
	rs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformBaidu,
		Endpoint: baidu.EndpointSubscribeSend})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	var codes []string
	for _, r := range rs.Requests {
		codes = append(codes, strconv.Itoa(r.ErrCode))
	}
	if got := strings.Join(codes, ","); got != "0,4007,110" {
		t.Fatalf("journal errcodes %s, want 0,4007,110", got)
	}
	if rs.Requests[0].AppID != appA || rs.Requests[0].OpenID != userA {
		t.Errorf("journal entry %+v: want app A and user A", rs.Requests[0])
	}
}

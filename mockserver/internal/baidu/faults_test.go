package baidu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	gw, biz, other := int(baidu.GatewayTokenInvalid), int(baidu.ErrnoTemplate), 9999
	send := func(m *mock, tok string) reply { return m.send(tok, sendForm(userA, "s1")) }
	tests := []struct {
		name  string
		fault mockapi.Fault
		call  func(m *mock, tok string) reply
		check func(t *testing.T, r reply)
	}{
		{"gateway code on send, gateway shape",
			mockapi.Fault{Endpoint: baidu.EndpointSubscribeSend, ErrCode: &gw, Times: 1}, send,
			func(t *testing.T, r reply) { wantGateway(t, r, baidu.GatewayTokenInvalid) }},
		{"business code on send, business shape",
			mockapi.Fault{Endpoint: baidu.EndpointSubscribeSend, ErrCode: &biz, Times: 1}, send,
			func(t *testing.T, r reply) { wantErrno(t, r, baidu.ErrnoTemplate) }},
		{"custom message",
			mockapi.Fault{Endpoint: baidu.EndpointCheckText, ErrCode: &other, ErrMsg: "系统繁忙", Times: 1},
			func(m *mock, tok string) reply { return m.checkText(tok, map[string]any{"content": "hi"}) },
			func(t *testing.T, r reply) {
				if r.num(t, "errno") != 9999 || r.str("msg") != "系统繁忙" {
					t.Fatalf("answer %s, want errno 9999 msg 系统繁忙", r.Body)
				}
			}},
		{"any code on token, gateway shape",
			mockapi.Fault{Endpoint: baidu.EndpointToken, ErrCode: &other, Times: 1},
			func(m *mock, _ string) reply {
				return m.form(http.MethodGet, tokenPath+"?"+tokenQuery("client_credentials", appA, secretA, "smartapp_snsapi_base").Encode(), nil)
			},
			func(t *testing.T, r reply) {
				if r.Status != http.StatusOK || r.num(t, "error_code") != 9999 || r.str("error_msg") == "" {
					t.Fatalf("answer %d %s, want error_code 9999", r.Status, r.Body)
				}
			}},
		{"http status",
			mockapi.Fault{Endpoint: baidu.EndpointSubscribeSend, HTTPStatus: http.StatusServiceUnavailable, Times: 1}, send,
			func(t *testing.T, r reply) {
				if r.Status != http.StatusServiceUnavailable {
					t.Fatalf("status %d, want 503", r.Status)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			id := m.addFault(tt.fault)
			tt.check(t, tt.call(m, tok))
			rs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformBaidu, Endpoint: tt.fault.Endpoint})
			if err != nil {
				t.Fatalf("read journal: %v", err)
			}
			if last := rs.Requests[len(rs.Requests)-1]; last.Fault != id {
				t.Errorf("journal %+v does not name fault %s", last, id)
			}
			// Times 1: the next call is served normally; the fault consumed nothing.
			wantErrno(t, m.send(tok, sendForm(userA, "after-fault")), baidu.ErrnoOK)
			if n := m.remaining(userA, tmplA); n != creditsOfA-1 {
				t.Errorf("%d credits left, want %d (only the unfaulted send spends one)", n, creditsOfA-1)
			}
		})
	}
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		per      string
		code     baidu.GatewayCode
	}{
		{baidu.EndpointSubscribeSend, "day", baidu.GatewayDailyLimit},
		{baidu.EndpointCheckText, "minute", baidu.GatewayRequestLimit},
		{baidu.EndpointToken, "day", baidu.GatewayDailyLimit},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+"/"+tt.per, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA) // before the quota, for the token case
			m.setQuota(tt.endpoint, 1, tt.per)
			call := map[string]func() reply{
				baidu.EndpointSubscribeSend: func() reply { return m.send(tok, sendForm(userLong, "q"+time.Now().String())) },
				baidu.EndpointCheckText:     func() reply { return m.checkText(tok, map[string]any{"content": "hi"}) },
				baidu.EndpointToken: func() reply {
					return m.form(http.MethodGet, tokenPath+"?"+tokenQuery("client_credentials", appA, secretA, "smartapp_snsapi_base").Encode(), nil)
				},
			}[tt.endpoint]
			if r := call(); r.Status != http.StatusOK || r.Fields["error_code"] != nil {
				t.Fatalf("first call refused: %s", r.Body)
			}
			wantGateway(t, call(), tt.code)
		})
	}
}

// A per-second limit answers 18 "Open api qps request limit reached".
func TestQPSQuota(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	m.setQuota(baidu.EndpointCheckText, 1, "second")
	for attempt := 0; ; attempt++ {
		now, err := m.Control.Now(m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		window := now.Truncate(time.Second).Add(time.Second)
		m.advance(window.Add(time.Millisecond).Sub(now))
		first := m.checkText(tok, map[string]any{"content": "hi"})
		second := m.checkText(tok, map[string]any{"content": "hi"})
		after, err := m.Control.Now(m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !after.Truncate(time.Second).Equal(window) && attempt < 5 {
			continue
		}
		wantErrno(t, first, baidu.ErrnoOK)
		wantGateway(t, second, baidu.GatewayQPSLimit)
		break
	}
}

func TestUnknownPaths(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	for _, p := range []string{
		"/rest/2.0/smartapp/template/send/",
		"/rest/2.0/smartapp/template/templatedelete",
		"/rest/2.0/smartapp/template/message/subscribe/send/",
		"/rest/2.0/smartapp/riskDetection/v2/syncCheckImage",
	} {
		t.Run(p, func(t *testing.T) {
			wantGateway(t, m.form(http.MethodPost, withToken(p, tok), nil), baidu.GatewayUnsupportedMethod)
		})
	}
	t.Run("/oauth/2.0/authorize", func(t *testing.T) {
		wantOAuth(t, m.form(http.MethodGet, "/oauth/2.0/authorize", nil), baidu.OAuthInvalidRequest, "")
	})
}

func TestReset(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantErrno(t, m.send(tok, sendForm(userA, "s1")), baidu.ErrnoOK)
	if err := m.Control.Reset(m.ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	wantGateway(t, m.send(tok, sendForm(userA, "s1")), baidu.GatewayTokenInvalid)
	// Spent subscribe ids are forgotten with the grants they spent.
	wantErrno(t, m.send(m.token(appA, secretA), sendForm(userA, "s1")), baidu.ErrnoOK)
}

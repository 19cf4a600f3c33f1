package kuaishou_test

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	code := 100200500
	tests := []struct {
		name     string
		fault    mockapi.Fault
		call     func(m *mock, tok string) reply
		status   int
		result   int64
		errorMsg string
	}{
		{
			name:   "errcode on send, platform shape",
			fault:  mockapi.Fault{Endpoint: kuaishou.EndpointTemplateSend, ErrCode: &code, ErrMsg: "服务繁忙", Times: 1},
			call:   func(m *mock, tok string) reply { return m.send(sendForm(m.t, tok, userLong)) },
			status: http.StatusOK, result: int64(code), errorMsg: "服务繁忙",
		},
		{
			name:  "errcode on token, default text",
			fault: mockapi.Fault{Endpoint: kuaishou.EndpointToken, ErrCode: &code, Times: 1},
			call: func(m *mock, _ string) reply {
				return m.do(http.MethodPost, tokenPath, tokenForm("client_credentials", appA, secretA))
			},
			status: http.StatusOK, result: int64(code), errorMsg: kuaishou.ResultSystemError.Message(),
		},
		{
			name:   "http status on send",
			fault:  mockapi.Fault{Endpoint: kuaishou.EndpointTemplateSend, HTTPStatus: http.StatusBadGateway, Times: 1},
			call:   func(m *mock, tok string) reply { return m.send(sendForm(m.t, tok, userLong)) },
			status: http.StatusBadGateway,
		},
		{
			name:   "fault scoped to another user does not fire",
			fault:  mockapi.Fault{Endpoint: kuaishou.EndpointTemplateSend, OpenID: userA2, ErrCode: &code},
			call:   func(m *mock, tok string) reply { return m.send(sendForm(m.t, tok, userLong)) },
			status: http.StatusOK, result: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			id := m.addFault(tt.fault)
			r := tt.call(m, tok)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.status != http.StatusOK {
				// The fault fired once; the next call is normal again.
				wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
				return
			}
			if got := r.result(t); got != tt.result {
				t.Fatalf("result %d, want %d: %s", got, tt.result, r.Body)
			}
			if tt.errorMsg != "" && r.str("error_msg") != tt.errorMsg {
				t.Errorf("error_msg %q, want %q", r.str("error_msg"), tt.errorMsg)
			}
			if tt.result != 1 {
				rs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformKuaishou,
					Endpoint: tt.fault.Endpoint})
				if err != nil {
					t.Fatalf("read journal: %v", err)
				}
				last := rs.Requests[len(rs.Requests)-1]
				if last.Fault != id || last.ErrCode != code {
					t.Errorf("journal %+v: want fault %s and errcode %d", last, id, code)
				}
			}
		})
	}
}

// A faulted send consumes nothing.
func TestFaultedSendKeepsTheGrant(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	code := int(kuaishou.ResultRateLimited)
	m.addFault(mockapi.Fault{Endpoint: kuaishou.EndpointTemplateSend, ErrCode: &code, Times: 1})
	wantResult(t, m.send(sendForm(t, tok, userA)), kuaishou.ResultRateLimited)
	if got := m.remaining(appA, userA, tmplA); got != grantsOfA {
		t.Fatalf("%d credits left after a faulted send, want %d", got, grantsOfA)
	}
	if got := len(m.messages()); got != 0 {
		t.Fatalf("%d messages after a faulted send, want 0", got)
	}
}

func TestUnknownPathsAnswerInKuaishouShape(t *testing.T) {
	t.Parallel()
	m := start(t)
	for _, p := range []string{
		"/openapi/mp/developer/message/template/send/", // trailing slash
		"/openapi/mp/developer/epay/create_order",
		"/oauth2/authorize",
		"/oauth2/access_token/",
	} {
		t.Run(p, func(t *testing.T) {
			wantResult(t, m.do(http.MethodPost, p, nil), kuaishou.ResultNoSuchAPI)
		})
	}
}

func TestFaultEndpointsAreKnownToTheControlAPI(t *testing.T) {
	t.Parallel()
	m := start(t)
	for _, ep := range []string{kuaishou.EndpointToken, kuaishou.EndpointTemplateSend} {
		if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformKuaishou, Endpoint: ep, Latency: 1}); err != nil {
			t.Errorf("fault on %s refused: %v", ep, err)
		}
	}
	if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformKuaishou, Endpoint: "subscribe_send", Latency: 1}); err == nil {
		t.Error("a fault on an endpoint Kuaishou does not have was accepted")
	}
}

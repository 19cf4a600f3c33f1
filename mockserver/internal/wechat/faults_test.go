package wechat_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func ptr[T any](v T) *T { return &v }

func TestFaultErrCodeTimesThenSuccess(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 1})
	tok := m.token(appA, secretA)
	id := m.addFault(mockapi.Fault{Endpoint: "subscribe_send", ErrCode: ptr(-1), Times: 2})
	wantMsg(t, m.send(tok, goodMsg()), -1, "system error")
	wantMsg(t, m.send(tok, goodMsg()), -1, "system error")
	// The faulted sends spent no credit.
	wantCode(t, m.send(tok, goodMsg()), 0)

	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: "subscribe_send"})
	if err != nil {
		t.Fatal(err)
	}
	var faulted, ok int
	for _, r := range reqs.Requests {
		switch {
		case r.Fault == id && r.ErrCode == -1 && r.AppID == appA && r.OpenID == userA:
			faulted++
		case r.Fault == "" && r.ErrCode == 0:
			ok++
		default:
			t.Errorf("journal entry %+v", r)
		}
	}
	if faulted != 2 || ok != 1 {
		t.Errorf("journal: %d faulted, %d ok; want 2 and 1", faulted, ok)
	}
}

func TestFaultCustomErrMsgAndToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.addFault(mockapi.Fault{Endpoint: "token", ErrCode: ptr(45009), ErrMsg: "reach max api daily quota limit", Times: 1})
	wantMsg(t, m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil), 45009, "reach max api daily quota limit")
	m.token(appA, secretA)
}

func TestFaultHTTPStatus(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	id := m.addFault(mockapi.Fault{Endpoint: "msg_sec_check", HTTPStatus: 502, Times: 1})
	r := m.do(http.MethodPost, secPath(tok), map[string]string{"content": "x"})
	if r.Status != http.StatusBadGateway || !strings.Contains(string(r.Body), "502") {
		t.Fatalf("status %d body %q, want a 502 page", r.Status, r.Body)
	}
	wantCode(t, m.do(http.MethodPost, secPath(tok), map[string]string{"content": "x"}), 0)
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: "msg_sec_check"})
	if err != nil || len(reqs.Requests) != 2 || reqs.Requests[0].Fault != id || reqs.Requests[0].Status != 502 ||
		reqs.Requests[1].Status != 200 {
		t.Fatalf("journal %+v %v: want the 502 (fault %s) then a 200", reqs.Requests, err, id)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	m := start(t)
	id := m.addFault(mockapi.Fault{Endpoint: "stable_token", Latency: mockapi.Duration(200 * time.Millisecond), Times: 1})
	began := time.Now()
	m.stableToken(false) // delayed, then answered normally
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Fatalf("call took %v, want at least 200ms", took)
	}
	m.stableToken(false)
	fs, err := m.Control.Faults(m.ctx)
	if err != nil || len(fs) != 1 || fs[0].ID != id || fs[0].Fired != 1 {
		t.Fatalf("faults %+v %v: want %s fired once", fs, err, id)
	}
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: "stable_token"})
	if err != nil || len(reqs.Requests) != 2 || reqs.Requests[0].LatencyMS < 200 || reqs.Requests[0].Fault != id {
		t.Fatalf("journal %+v %v: want the delayed call recorded with its latency and fault", reqs.Requests, err)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 1})
	tok := m.token(appA, secretA)
	id := m.addFault(mockapi.Fault{Endpoint: "subscribe_send", Drop: true, Times: 1})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(m.URL+sendPath(tok), "application/json", strings.NewReader(`{"touser":"`+userA+`"}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped call answered %d, want a connection error", resp.StatusCode)
	}
	wantCode(t, m.send(tok, goodMsg()), 0)
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: "subscribe_send"})
	if err != nil || len(reqs.Requests) != 2 || reqs.Requests[0].Fault != id || reqs.Requests[0].OpenID != userA {
		t.Fatalf("journal %+v %v: want the dropped call first, with fault %s", reqs.Requests, err, id)
	}
}

func TestFaultFilters(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	m.grant(mockapi.Grant{OpenID: userA2, TemplateID: tmplA, LongTerm: true})
	m.grant(mockapi.Grant{Platform: mockapi.PlatformWeChat, AppID: appB, OpenID: userB, TemplateID: tmplB, LongTerm: true})
	tokA, tokB := m.token(appA, secretA), m.token(appB, secretB)
	m.addFault(mockapi.Fault{Endpoint: "subscribe_send", AppID: appB, ErrCode: ptr(43107)})
	m.addFault(mockapi.Fault{Endpoint: "subscribe_send", OpenID: userA2, ErrCode: ptr(43108)})
	m.addFault(mockapi.Fault{Endpoint: "token", AppID: appB, ErrCode: ptr(-1)})

	bMsg := sendMsg{ToUser: userB, TemplateID: tmplB, Data: map[string]any{"thing1": map[string]any{"value": "x"}}}
	wantCode(t, m.send(tokB, bMsg), 43107)
	wantCode(t, m.send(tokA, goodMsg()), 0)
	a2 := goodMsg()
	a2.ToUser = userA2
	wantCode(t, m.send(tokA, a2), 43108)
	wantCode(t, m.do(http.MethodGet, tokenPath("client_credential", appB, secretB), nil), -1)
	m.token(appA, secretA)
}

// firePattern sends n token calls through a fresh mock with a seeded
// probabilistic fault and returns which ones the fault hit.
func firePattern(t *testing.T, seed int64, n int) string {
	m := start(t)
	m.addFault(mockapi.Fault{Endpoint: "token", ErrCode: ptr(-1), Probability: 0.5, Seed: seed})
	var b strings.Builder
	for range n {
		if m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil).errCode(t) == -1 {
			b.WriteByte('x')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestFaultProbabilityIsReproducible(t *testing.T) {
	t.Parallel()
	const n = 40
	a, b := firePattern(t, 42, n), firePattern(t, 42, n)
	if a != b {
		t.Fatalf("same seed, different patterns:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Fatalf("pattern %s: probability 0.5 should both fire and not fire in %d calls", a, n)
	}
	if c := firePattern(t, 7, n); c == a {
		t.Errorf("seeds 42 and 7 gave the same pattern %s", a)
	}
}

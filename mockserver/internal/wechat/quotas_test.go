package wechat_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestQuotaSubscribeSendPerDay(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	m.setQuota(appA, "subscribe_send", 3, "day")
	tok := m.token(appA, secretA)
	for i := range 3 {
		if r := m.send(tok, goodMsg()); r.errCode(t) != 0 {
			t.Fatalf("send %d: %s", i+1, r.Body)
		}
	}
	wantMsg(t, m.send(tok, goodMsg()), 45009, "reach max api daily quota limit")
	// Still the same Beijing day half an hour later.
	m.advance(30 * time.Minute)
	wantCode(t, m.send(tok, goodMsg()), 45009)
	// Past Beijing midnight the quota is back.
	m.advance(31 * time.Minute)
	wantCode(t, m.send(tok, goodMsg()), 0)
	// The limit is per app.
	m.grant(mockapi.Grant{Platform: mockapi.PlatformWeChat, AppID: appB, OpenID: userB, TemplateID: tmplB, LongTerm: true})
	tokB := m.token(appB, secretB)
	for range 4 {
		wantCode(t, m.send(tokB, sendMsg{ToUser: userB, TemplateID: tmplB, Data: map[string]any{"thing1": map[string]any{"value": "x"}}}), 0)
	}
}

func TestQuotaToken(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	m.setQuota(appA, "token", 2, "day")
	m.token(appA, secretA)
	m.token(appA, secretA)
	wantMsg(t, m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil), 45009, "reach max api daily quota limit")
	// Bad credentials answer their own error, not the quota one.
	wantCode(t, m.do(http.MethodGet, tokenPath("client_credential", appA, "nope"), nil), 40125)
	m.advance(13 * time.Hour)
	m.token(appA, secretA)
}

func TestQuotaStableTokenPerMinute(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	m.setQuota(appA, "stable_token", 2, "minute")
	m.stableToken(false)
	m.stableToken(false)
	wantMsg(t, m.stable(false), 45011, "api minute-quota reach limit  mustslower  retry next minute")
	m.advance(time.Minute)
	m.stableToken(false)
}

func TestQuotaMsgSecCheckPerMinute(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	m.setQuota(appA, "msg_sec_check", 2, "minute")
	tok := m.token(appA, secretA)
	check := func() reply { return m.do(http.MethodPost, secPath(tok), map[string]string{"content": "hello"}) }
	wantCode(t, check(), 0)
	wantCode(t, check(), 0)
	wantMsg(t, check(), 44991, "reach max api minute frequence")
	m.advance(time.Minute)
	wantCode(t, check(), 0)

	m.setQuota(appA, "msg_sec_check", 1, "day")
	wantCode(t, check(), 45009)
}

// A per-minute cap on sends answers 45011, not the daily 45009, so clients
// slow down instead of waiting for midnight.
func TestQuotaSubscribeSendPerMinute(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	m.setQuota(appA, "subscribe_send", 1, "minute")
	tok := m.token(appA, secretA)
	wantCode(t, m.send(tok, goodMsg()), 0)
	wantMsg(t, m.send(tok, goodMsg()), 45011, "api minute-quota reach limit  mustslower  retry next minute")
	m.advance(time.Minute)
	wantCode(t, m.send(tok, goodMsg()), 0)
}

package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/seed"
)

func userForm(user string, kv ...string) url.Values {
	f := url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {user}, "page": {"subscriptions"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func TestSubscriptionButtonsActAsTheUser(t *testing.T) {
	t.Parallel()
	m := start(t)
	subs := "/_ui/subscriptions?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {bob}}.Encode()
	get(t, m, subs).expect(t, 200, "1 one-time send left", "not subscribed")

	// Accept in the popup: one more send; the long-term template gets the
	// long-term grant.
	// A popup may not mix one-time and long-term templates (the platform's
	// rule, kept by the control API's AnswerPopup).
	post(t, m, "/_ui/subscriptions/popup", userForm(bob, "answer."+order, "accept", "answer."+seed.DemoTemplateRemind, "accept"), nil).
		expect(t, http.StatusBadRequest, "cannot mix one-time and long-term")
	p := post(t, m, "/_ui/subscriptions/popup", userForm(bob, "answer."+order, "accept"), nil)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/_ui/subscriptions?") || !strings.Contains(p.location, "notice=accepted") {
		t.Fatalf("popup accept: %d → %q", p.status, p.location)
	}
	post(t, m, "/_ui/subscriptions/popup", userForm(bob, "accept", seed.DemoTemplateRemind), nil).expect(t, http.StatusSeeOther)
	g, _ := grantsOf(t, m, bob)
	if g[order].Remaining != 2 || !g[seed.DemoTemplateRemind].LongTerm {
		t.Fatalf("after accepting: %+v", g)
	}
	get(t, m, p.location).expect(t, 200, "2 one-time sends left", "Done: the user accepted in the popup.")

	// Switch off in settings: DELETE /_mock/grants, remembered as rejected.
	p = post(t, m, "/_ui/subscriptions/switch-off", userForm(bob, "template_id", seed.DemoTemplateRemind), nil)
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "notice=switched-off") {
		t.Fatalf("switch off: %d → %q", p.status, p.location)
	}
	g, rejected := grantsOf(t, m, bob)
	if _, ok := g[seed.DemoTemplateRemind]; ok || len(rejected) != 1 || rejected[0] != seed.DemoTemplateRemind {
		t.Fatalf("after switching off: %+v rejected %v", g, rejected)
	}

	// Reject in the popup (the Reject button): the order credits end and
	// the next send answers 43101.
	p = post(t, m, "/_ui/subscriptions/popup", userForm(bob, "reject", order), nil)
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "notice=rejected") {
		t.Fatalf("reject: %d → %q", p.status, p.location)
	}
	if r := send(t, m, bob, "x", "SF1"); r.ErrCode != 43101 {
		t.Fatalf("send after reject: %+v", r)
	}
	page := get(t, m, subs)
	page.expect(t, 200, `<td class="state s-rejected">rejected</td>`)
	if strings.Count(page.body, `s-rejected`) != 2 {
		t.Fatalf("both templates should show rejected:\n%s", page.body)
	}

	// Errors render the page with the error and the control API's status.
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		says   string
	}{
		{"no answer", "/_ui/subscriptions/popup", userForm(bob), 400, "the popup needs an answer"},
		{"both answers", "/_ui/subscriptions/popup", userForm(bob, "accept", order, "reject", order), 400, "already answered"},
		{"bad answer", "/_ui/subscriptions/popup", userForm(bob, "answer."+order, "maybe"), 400, "must be accept or reject"},
		{"unknown template", "/_ui/subscriptions/popup", userForm(bob, "accept", "nope"), 404, "template &#34;nope&#34; is not a template"},
		{"unknown app", "/_ui/subscriptions/popup", url.Values{"platform": {"wechat"}, "app_id": {"wxnope"}, "openid": {bob}, "accept": {order}}, 404, "unknown wechat app"},
		{"switch off without a grant", "/_ui/subscriptions/switch-off", userForm(bob, "template_id", order), 404, "no grant for that user and template"},
		{"switch off without a template", "/_ui/subscriptions/switch-off", userForm(bob), 400, "template_id is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := post(t, m, tc.path, tc.form, nil)
			p.expect(t, tc.status, tc.says, `role="alert"`)
		})
	}
}

// Forged posts change nothing: without the page's token, with a wrong
// one, from another site (fetch metadata or Origin), or not as a form.
func TestCSRFRefusesForgedPosts(t *testing.T) {
	t.Parallel()
	m := start(t)
	fault := func(kv ...string) url.Values {
		f := url.Values{"platform": {"wechat"}, "endpoint": {"*"}, "action": {"drop"}, "page": {"control"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		header map[string]string
		status int
	}{
		{"no token", fault("csrf", ""), nil, http.StatusForbidden},
		{"wrong token", fault("csrf", strings.Repeat("0", 64)), nil, http.StatusForbidden},
		{"token of another mock", fault("csrf", token(t, start(t))), nil, http.StatusForbidden},
		{"cross-site fetch metadata", fault(), map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site but other origin", fault(), map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"old browser: foreign Origin", fault(), map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"not a form", fault(), map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := post(t, m, "/_ui/faults", tc.form, tc.header)
			p.expect(t, tc.status, "Refused")
			if faults, err := m.Control.Faults(ctx(t)); err != nil || len(faults) != 0 {
				t.Fatalf("a refused post added a fault: %+v %v", faults, err)
			}
		})
	}
	// The same post from the mock's own page passes, and so does a client
	// that sends no browser headers but has the token (curl with the page's
	// token is the user, not a forger).
	post(t, m, "/_ui/faults", fault(), nil).expect(t, http.StatusSeeOther)
	post(t, m, "/_ui/faults", fault(), map[string]string{"Sec-Fetch-Site": "", "Origin": ""}).expect(t, http.StatusSeeOther)
	if faults, _ := m.Control.Faults(ctx(t)); len(faults) != 2 {
		t.Fatalf("faults after two good posts: %+v", faults)
	}
}

func TestControlActions(t *testing.T) {
	t.Parallel()
	m := start(t)

	// Faults: a bad field comes back named, with what was typed.
	p := post(t, m, "/_ui/faults", url.Values{"platform": {"wechat"}, "endpoint": {"subscribe_sned"}, "action": {"errcode"},
		"errcode": {"45009"}, "openid": {"typed-user"}, "page": {"control"}}, nil)
	p.expect(t, http.StatusBadRequest, "unknown wechat endpoint", "(field: endpoint)", `value="subscribe_sned"`, `value="typed-user"`)
	for _, bad := range []struct{ field, value, action, says string }{
		{"errcode", "x", "errcode", "errcode must be a whole number"},
		{"latency", "soon", "latency", "latency must be a duration"},
		{"times", "-", "drop", "times must be a whole number"},
		{"probability", "half", "drop", "probability must be a number"},
		{"http_status", "", "http_status", "http_status is required"},
		{"action", "", "", "choose what the fault does"},
	} {
		f := url.Values{"platform": {"wechat"}, "endpoint": {"subscribe_send"}, "action": {bad.action}, "page": {"control"}}
		f.Set(bad.field, bad.value)
		post(t, m, "/_ui/faults", f, nil).expect(t, http.StatusBadRequest, bad.says)
	}
	p = post(t, m, "/_ui/faults", url.Values{"platform": {"wechat"}, "endpoint": {"subscribe_send"}, "action": {"errcode"},
		"errcode": {"45009"}, "errmsg": {"reach max api daily quota limit"}, "latency": {"5ms"}, "times": {"2"}, "page": {"control"}}, nil)
	if p.status != http.StatusSeeOther || p.location != "/_ui/control?notice=fault-added#faults" {
		t.Fatalf("add fault: %d → %q", p.status, p.location)
	}
	faults, err := m.Control.Faults(ctx(t))
	if err != nil || len(faults) != 1 || *faults[0].ErrCode != 45009 || faults[0].Times != 2 || time.Duration(faults[0].Latency) != 5*time.Millisecond {
		t.Fatalf("faults: %+v %v", faults, err)
	}
	get(t, m, "/_ui/control?notice=fault-added").expect(t, 200, "Fault added", "errcode 45009", "+5ms latency", "2×")
	if r := send(t, m, alice, "x", "SF1"); r.ErrCode != 45009 {
		t.Fatalf("send under the fault: %+v", r)
	}
	post(t, m, "/_ui/faults/delete", url.Values{"id": {faults[0].ID}, "page": {"control"}}, nil).expect(t, http.StatusSeeOther)
	post(t, m, "/_ui/faults/delete", url.Values{"id": {faults[0].ID}, "page": {"control"}}, nil).expect(t, http.StatusNotFound, "no fault")
	post(t, m, "/_ui/faults", url.Values{"platform": {"wechat"}, "endpoint": {"*"}, "action": {"latency"}, "latency": {"1ms"}}, nil).expect(t, http.StatusSeeOther)
	post(t, m, "/_ui/faults/clear", url.Values{}, nil).expect(t, http.StatusSeeOther)
	if faults, _ := m.Control.Faults(ctx(t)); len(faults) != 0 {
		t.Fatalf("faults after clear: %+v", faults)
	}

	// Clock: advance, set (Beijing time), refuse nonsense.
	before, _ := m.Control.Now(ctx(t))
	post(t, m, "/_ui/clock", url.Values{"op": {"advance"}, "advance": {"2h"}}, nil).expect(t, http.StatusSeeOther)
	after, _ := m.Control.Now(ctx(t))
	if d := after.Sub(before); d < 2*time.Hour || d > 2*time.Hour+time.Minute {
		t.Fatalf("advance 2h moved the clock %v", d)
	}
	get(t, m, "/_ui/control").expect(t, 200, `<span class="offset">&#43;2h</span>`)
	post(t, m, "/_ui/clock", url.Values{"op": {"set"}, "set": {"2030-01-02 03:04:05"}}, nil).expect(t, http.StatusSeeOther)
	now, _ := m.Control.Now(ctx(t))
	if want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600)); now.Sub(want).Abs() > time.Minute {
		t.Fatalf("set: clock %v, want about %v", now, want)
	}
	post(t, m, "/_ui/clock", url.Values{"op": {"advance"}, "advance": {"soon"}, "page": {"control"}}, nil).expect(t, http.StatusBadRequest, "(field: advance)")
	post(t, m, "/_ui/clock", url.Values{"op": {"set"}, "set": {"2999-01-01 00:00:00"}}, nil).expect(t, http.StatusBadRequest, "within 100 years")
	post(t, m, "/_ui/clock", url.Values{"op": {"set"}, "set": {"yesterday"}}, nil).expect(t, http.StatusBadRequest, "(field: set)")

	// Content rules: words with labels, review words, risky images.
	post(t, m, "/_ui/content-rules", url.Values{"risky": {"scam | 20008\r\nfraud\n\n"}, "review": {"promo"}, "risky_images": {""}}, nil).
		expect(t, http.StatusSeeOther)
	rules, _ := m.Control.ContentRules(ctx(t))
	if len(rules.Risky) != 2 || rules.Risky[0].Word != "scam" || rules.Risky[0].Label != 20008 || rules.Risky[1].Word != "fraud" ||
		len(rules.Review) != 1 || rules.Review[0].Word != "promo" {
		t.Fatalf("rules %+v", rules)
	}
	get(t, m, "/_ui/control").expect(t, 200, "scam | 20008\nfraud")
	post(t, m, "/_ui/content-rules", url.Values{"risky": {"scam | many"}, "page": {"control"}}, nil).expect(t, http.StatusBadRequest, "the label after | must be a number")
	post(t, m, "/_ui/content-rules", url.Values{"risky_images": {"not-a-hash"}, "page": {"control"}}, nil).expect(t, http.StatusBadRequest, "risky_images[0]")

	// Quotas: set a limit, see usage, clear it.
	post(t, m, "/_ui/quotas", url.Values{"form": {"quota"}, "platform": {"wechat"}, "app_id": {appID}, "endpoint": {"subscribe_send"}, "limit": {"1"}, "per": {"day"}}, nil).
		expect(t, http.StatusSeeOther)
	send(t, m, alice, "x", "SF1")
	if r := send(t, m, alice, "x", "SF1"); r.ErrCode != 45009 {
		t.Fatalf("second send over a limit of 1/day: %+v", r)
	}
	get(t, m, "/_ui/control?quota=wechat/"+appID).expect(t, 200, `<meter min="0" max="1" value="1"></meter> 1 / 1`)
	post(t, m, "/_ui/quotas", url.Values{"form": {"quota"}, "platform": {"wechat"}, "app_id": {appID}, "endpoint": {"nope"}, "limit": {"1"}, "per": {"day"}, "page": {"control"}}, nil).
		expect(t, http.StatusBadRequest, "unknown endpoint", `value="nope"`)
	post(t, m, "/_ui/quotas", url.Values{"platform": {"wechat"}, "app_id": {appID}, "endpoint": {"token"}, "limit": {""}}, nil).expect(t, http.StatusBadRequest, "limit is required")
	post(t, m, "/_ui/quotas/clear-usage", url.Values{"platform": {"wechat"}, "app_id": {appID}}, nil).expect(t, http.StatusSeeOther)
	if r := send(t, m, alice, "x", "SF1"); r.ErrCode != 0 {
		t.Fatalf("send after clearing usage: %+v", r)
	}

	// Inbox and journal clear; reset returns everything to the seed.
	post(t, m, "/_ui/inbox/clear", userForm(alice), nil).expect(t, http.StatusSeeOther)
	if msgs, _ := m.Control.Messages(ctx(t), mockclient.MessageFilter{}); msgs.Total != 0 {
		t.Fatalf("inbox after clear: %d", msgs.Total)
	}
	post(t, m, "/_ui/journal/clear", url.Values{}, nil).expect(t, http.StatusSeeOther)
	post(t, m, "/_ui/reset", url.Values{}, nil).expect(t, http.StatusSeeOther)
	if now, _ := m.Control.Now(ctx(t)); time.Since(now).Abs() > time.Minute {
		t.Fatalf("clock after reset: %v", now)
	}
	if rules, _ := m.Control.ContentRules(ctx(t)); len(rules.Risky) != 3 {
		t.Fatalf("content rules after reset: %+v", rules)
	}
	get(t, m, "/_ui/control?notice=reset").expect(t, 200, "Everything is back to the seed.")
	// Notices are fixed texts: a link cannot make the page say anything.
	if p := get(t, m, "/_ui/control?notice=<b>pwned</b>"); strings.Contains(p.body, "pwned") {
		t.Fatal("an unknown notice was shown")
	}
}

func TestJournalPage(t *testing.T) {
	t.Parallel()
	m := start(t)
	send(t, m, alice, "Journal me", "SF1")
	if r := send(t, m, seed.DemoUserCarol, "no grant", "SF1"); r.ErrCode != 43101 { // Carol holds only the reminder
		t.Fatalf("send to Carol: %+v", r)
	}
	p := get(t, m, "/_ui/journal")
	p.expect(t, 200, "token", "subscribe_send", "access_token=***", "secret=***", `&#34;access_token&#34;:&#34;***&#34;`, "Journal me", "43101")
	if strings.Contains(p.body, seed.DemoWeChatSecret) {
		t.Fatal("the journal page shows the app secret")
	}
	// Newest first.
	if strings.Index(p.body, `id="call-3"`) > strings.Index(p.body, `id="call-2"`) {
		t.Fatal("the journal is not newest first")
	}
	p = get(t, m, "/_ui/journal?errcode=43101")
	p.expect(t, 200, seed.DemoUserCarol, `value="43101"`)
	if strings.Contains(p.body, "Journal me") || strings.Contains(p.body, `id="call-1"`) {
		t.Fatal("the errcode filter let other calls through")
	}
	p = get(t, m, "/_ui/journal?endpoint=token&platform=wechat")
	if strings.Contains(p.body, "subscribe_send</span>") || !strings.Contains(p.body, `id="call-1"`) {
		t.Fatalf("the endpoint filter:\n%s", p.body)
	}
	if p := get(t, m, "/_ui/journal?openid="+alice+"&app_id="+appID); !strings.Contains(p.body, `id="call-2"`) || strings.Contains(p.body, `id="call-3"`) {
		t.Fatal("the user filter")
	}
	get(t, m, "/_ui/journal?errcode=abc").expect(t, http.StatusBadRequest, "errcode must be an integer", "No calls match.")
}

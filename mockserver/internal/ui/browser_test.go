package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minipush/minipush/internal/browsertest"
)

// TestBrowserAcceptance drives the UI in headless Chromium as a developer
// would (issue 14's acceptance): a message sent to the mock's platform API
// appears on the phone within 2 s without a reload, keyword values and an
// XSS probe rendered as text; Reject on the subscriptions page makes the
// grant rejected and the next send 43101; a fault injected from the form
// shows in the live journal; a forged cross-site post is refused. Every
// page is photographed at desktop and phone size into build/reports/ui/.
func TestBrowserAcceptance(t *testing.T) {
	m := start(t)
	b := browsertest.Start(t)
	tab := b.Tab(t, 3*time.Minute)
	phoneURL := m.URL + "/_ui/phone?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}}.Encode()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}

	// 1. The phone: a send appears live, within 2 s, without a reload.
	do("open the phone", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(phoneURL),
		chromedp.WaitVisible(chromedp.CSS(".live.on")), // the event stream is connected
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = "yes"`))
	if r := send(t, m, alice, "Phone case", xss); r.ErrCode != 0 {
		t.Fatalf("send: %+v", r)
	}
	sent := time.Now()
	{
		wait, cancel := context.WithTimeout(tab, 2*time.Second)
		err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.CSS("#inbox article.card")))
		cancel()
		if err != nil {
			t.Fatalf("the card did not appear within 2 s of the send: %v", err)
		}
	}
	t.Logf("card on the phone %v after the send", time.Since(sent).Round(time.Millisecond))
	if got := eval(`window.__sameDocument || "reloaded"`); got != "yes" {
		t.Fatalf("the page reloaded to show the card (%s): it must arrive live", got)
	}
	for sel, want := range map[string]string{
		"#inbox .card-title":              "订单发货通知",
		"#inbox .kw-thing1":               "Phone case",
		"#inbox .kw-character_string2":    xss, // the probe, as text
		"#inbox .kw-phrase4":              "已发货",
		"#inbox .card-row:first-child dt": "商品名称",
		"#inbox .card-jump span":          "进入小程序查看",
	} {
		if got := eval(`document.querySelector(` + strconv.Quote(sel) + `).textContent`); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if n := eval(`String(document.querySelectorAll("#inbox script, #inbox *[onerror], #inbox img").length)`); n != "0" {
		t.Fatalf("the keyword value became markup: %s script/img elements in the phone", n)
	}
	// A second message, to a reloaded page: both render, newest last.
	if r := send(t, m, alice, "Coffee beans", "SF1234567890"); r.ErrCode != 0 {
		t.Fatalf("send: %+v", r)
	}
	do("second card", chromedp.WaitVisible(chromedp.CSS("#inbox article.card:nth-of-type(2)")))
	if got := eval(`document.querySelector("#inbox article.card:last-of-type .kw-thing1").textContent`); got != "Coffee beans" {
		t.Fatalf("newest card shows %q", got)
	}
	shoot(t, tab, "phone", phoneURL)

	// The customer-service conversation: the user writes, the app's reply
	// arrives live as a chat bubble.
	kefuURL := phoneURL + "&view=kefu"
	do("open the conversation", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(kefuURL))
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.ID("kefu-write"))); err != nil {
		t.Fatalf("write to customer service: %v", err)
	}
	do("the window opened, the stream is live", chromedp.WaitVisible(chromedp.CSS(".live.on")))
	if got := eval(`document.querySelector(".kefu-remaining").textContent`); got != "5" {
		t.Fatalf("replies left after the user wrote: %q", got)
	}
	var kefu sendResult
	wechatCall(t, m, "/cgi-bin/message/custom/send", map[string]any{"touser": alice, "msgtype": "text",
		"text": map[string]string{"content": "您好，您的订单已发货 " + xss}}, &kefu)
	if kefu.ErrCode != 0 {
		t.Fatalf("custom/send: %+v", kefu)
	}
	do("the reply arrives", chromedp.WaitVisible(chromedp.CSS("#inbox article.bubble")))
	if got := eval(`document.querySelector("#inbox .kf-content").textContent`); got != "您好，您的订单已发货 "+xss {
		t.Fatalf("the bubble shows %q", got)
	}
	shoot(t, tab, "phone-kefu", kefuURL)

	// 2. Subscriptions: Reject as the user → rejected, and the next send
	//    answers 43101.
	subsURL := m.URL + "/_ui/subscriptions?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}}.Encode()
	do("open subscriptions", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(subsURL))
	if got := eval(`document.querySelector("#sub-` + order + ` .state").textContent`); !strings.Contains(got, "98 one-time sends left") {
		t.Fatalf("Alice's order template shows %q, want 98 one-time sends left", got)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("#sub-"+order+" button.reject"))); err != nil {
		t.Fatalf("click reject: %v", err)
	}
	if got := eval(`document.querySelector("#sub-` + order + ` .state").textContent`); got != "rejected" {
		t.Fatalf("after reject the template shows %q, want rejected", got)
	}
	if got := eval(`document.querySelector(".notice").textContent`); !strings.Contains(got, "rejected") {
		t.Errorf("notice after reject: %q", got)
	}
	grants, err := m.Control.Grants(ctx(t), "wechat", appID, alice)
	if err != nil || len(grants) != 0 {
		t.Fatalf("the control API still lists grants for Alice after reject: %+v, %v", grants, err)
	}
	if r := send(t, m, alice, "After reject", "SF0"); r.ErrCode != 43101 {
		t.Fatalf("send after reject answered %+v, want 43101", r)
	}
	shoot(t, tab, "subscriptions", subsURL)
	// Accept in the popup brings one send back.
	do("answer the popup", chromedp.Navigate(subsURL),
		chromedp.Click(chromedp.CSS(`#popup input[name="answer.`+order+`"][value="accept"]`)))
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("#popup button[type=submit]"))); err != nil {
		t.Fatalf("submit the popup: %v", err)
	}
	if got := eval(`document.querySelector("#sub-` + order + ` .state").textContent`); got != "1 one-time send left" {
		t.Fatalf("after accepting in the popup: %q", got)
	}

	// 3. Control: a fault from the form shows in the live journal.
	controlURL := m.URL + "/_ui/control"
	do("open control", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(controlURL),
		chromedp.SetValue(chromedp.CSS(`#fault-form select[name=platform]`), "wechat"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=endpoint]`), "subscribe_send"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=openid]`), bob),
		chromedp.Click(chromedp.CSS(`#fault-form input[name=action][value=errcode]`)),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=errcode]`), "-1"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=times]`), "1"))
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("#fault-form button[type=submit]"))); err != nil {
		t.Fatalf("submit the fault form: %v", err)
	}
	faults, err := m.Control.Faults(ctx(t))
	if err != nil || len(faults) != 1 || faults[0].OpenID != bob || faults[0].ErrCode == nil || *faults[0].ErrCode != -1 {
		t.Fatalf("faults after the form: %+v, %v", faults, err)
	}
	if got := eval(`document.querySelector("#fault-` + faults[0].ID + `").textContent`); !strings.Contains(got, "errcode -1") {
		t.Fatalf("the fault list shows %q", got)
	}
	shoot(t, tab, "control", controlURL)
	journalURL := m.URL + "/_ui/journal?endpoint=subscribe_send"
	do("open the journal", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(journalURL),
		chromedp.WaitVisible(chromedp.CSS(".live.on")))
	if r := send(t, m, bob, "Faulted", "SF1"); r.ErrCode != -1 {
		t.Fatalf("send under the fault answered %+v, want -1", r)
	}
	do("the faulted call arrives", chromedp.WaitVisible(chromedp.CSS("#calls details.call.faulted")))
	row := eval(`document.querySelector("#calls details.call.faulted summary").textContent`)
	for _, want := range []string{"subscribe_send", bob, "-1", "fault " + faults[0].ID} {
		if !strings.Contains(row, want) {
			t.Errorf("the faulted call's row %q lacks %q", row, want)
		}
	}
	do("open the call", chromedp.Click(chromedp.CSS("#calls details.call.faulted summary")))
	detail := eval(`document.querySelector("#calls details.call.faulted .call-detail").textContent`)
	if !strings.Contains(detail, "access_token=***") || !strings.Contains(detail, `"touser":"`+bob+`"`) || !strings.Contains(detail, `"errcode":-1`) {
		t.Errorf("the call's detail lacks the masked query, the body or the answer: %s", detail)
	}
	shoot(t, tab, "journal", journalURL, chromedp.Click(chromedp.CSS("#calls details.call.faulted summary")))

	// 4. A forged post from another site is refused, and changes nothing.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/_ui/faults"><input name="platform" value="wechat">`+
			`<input name="endpoint" value="*"><input name="action" value="drop"></form>`+
			`<script>document.getElementById("f").submit()</script>`, m.URL)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site
	do("the evil page posts its form", chromedp.Navigate(evilURL), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	if got := eval(`location.href`); got != m.URL+"/_ui/faults" {
		t.Fatalf("the forged post landed on %s", got)
	}
	if got := eval(`String(performance.getEntriesByType("navigation")[0].responseStatus)`); got != "403" {
		t.Fatalf("the forged post answered %s, want 403", got)
	}
	if got := eval(`document.querySelector("#form-error").textContent`); !strings.Contains(got, "Refused") {
		t.Errorf("the refusal page says %q", got)
	}
	if faults, _ := m.Control.Faults(ctx(t)); len(faults) != 1 {
		t.Fatalf("the forged post changed the faults: %+v", faults)
	}
}

// shoot photographs the page at url at desktop and phone size, after the
// steps (e.g. opening a detail).
func shoot(t *testing.T, tab context.Context, name, pageURL string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		if err := chromedp.Do(tab, append([]chromedp.Action[chromedp.Void]{browsertest.SetViewport(v), chromedp.Navigate(pageURL)}, steps...)...); err != nil {
			t.Fatalf("open %s at %s: %v", name, v.Name, err)
		}
		t.Logf("screenshot %s", browsertest.Screenshot(t, tab, name, v))
	}
}

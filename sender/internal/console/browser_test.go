package console_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minipush/minipush/internal/browsertest"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender/senderclient"
)

// TestBrowserAcceptance drives both UIs in headless Chromium as a
// developer would (issue 14's acceptance): a message sent through the
// sender's API appears on the mock's phone (/_ui/) within 2 s without a
// reload, with its keyword values; Reject in the mock's UI makes the grant
// rejected and the next send end not_subscribed / 43101; a fault injected
// from the mock's form shows as retries in the console, whose Redrive
// button then gets the dead letter delivered; the XSS probe renders as
// text in both; a broadcast's progress moves live; a read-only key sees
// no buttons and its forged post answers 403, as does a post without the
// CSRF token. Every console page is photographed at desktop and phone
// size into build/reports/ui/.
func TestBrowserAcceptance(t *testing.T) {
	w := start(t)
	b := browsertest.Start(t)
	tab := b.Tab(t, 4*time.Minute)
	m := w.mock
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
	text := func(sel string) string {
		t.Helper()
		return eval(`(function(){var e=document.querySelector(` + strconv.Quote(sel) + `);return e?e.textContent.trim():"<none>"})()`)
	}
	click := func(what, sel string) {
		t.Helper()
		if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("%s (%s): %v", what, sel, err)
		}
	}
	wechat := url.Values{"platform": {"wechat"}, "app_id": {seed.DemoWeChatAppID}, "openid": {alice}}.Encode()

	// 1. Sent through the sender, the card is on the mock's phone within
	//    2 s, live.
	do("open the mock's phone", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(m.URL+"/_ui/phone?"+wechat),
		chromedp.WaitVisible(chromedp.CSS(".live.on")), chromedp.Evaluate[chromedp.Void](`window.__sameDocument = "yes"`))
	probe := w.sendOrder(t, alice, "Phone case", xss)
	sent := time.Now()
	{
		wait, cancel := context.WithTimeout(tab, 2*time.Second)
		err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.CSS("#inbox article.card")))
		cancel()
		if err != nil {
			t.Fatalf("the card did not appear on the phone within 2 s of the sender accepting the message: %v", err)
		}
	}
	t.Logf("card on the phone %v after the sender's 202", time.Since(sent).Round(time.Millisecond))
	if got := eval(`window.__sameDocument || "reloaded"`); got != "yes" {
		t.Fatalf("the phone reloaded to show the card (%s)", got)
	}
	for sel, want := range map[string]string{"#inbox .kw-thing1": "Phone case", "#inbox .kw-character_string2": xss, "#inbox .kw-phrase4": "已发货"} {
		if got := text(sel); got != want {
			t.Errorf("the phone's %s shows %q, want %q", sel, got, want)
		}
	}
	if n := eval(`String(document.querySelectorAll("#inbox script, #inbox img").length)`); n != "0" {
		t.Fatalf("the probe became markup on the phone: %s elements", n)
	}
	if got := w.waitFinal(t, probe.ID); got.Status != senderclient.StatusDelivered {
		t.Fatalf("the probe message ended %s", got.Status)
	}

	// Sign in to the console with the admin key, on its form.
	signIn := func(key, name string) {
		t.Helper()
		do("open the console", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(w.URL+"/console/"),
			chromedp.WaitVisible(chromedp.CSS(`#login-form input[name=key]`)))
		if got := eval(`location.pathname`); got != "/console/login" {
			t.Fatalf("the console without a session showed %s, want the login page", got)
		}
		do("type the key", chromedp.SetValue(chromedp.CSS(`#login-form input[name=key]`), key))
		click("sign in", `#login-form button[type=submit]`)
		if got := text("#key-name"); got != name {
			t.Fatalf("signed in as %q, want %q", got, name)
		}
		if href := eval(`location.href`); strings.Contains(href, key) {
			t.Fatalf("the key is in the URL %s", href)
		}
		if c := eval(`document.cookie`); c != "" {
			t.Fatalf("script can read cookies %q: the session cookie must be HttpOnly", c)
		}
	}
	signIn(adminKey, "ops")
	shootConsole(t, tab, "console-overview", w.URL+"/console/", chromedp.WaitVisible(chromedp.CSS(".live.on")))

	// The overview is live: the stream replaces the numbers every tick;
	// delivered/s is known from the second sample.
	do("the overview goes live", chromedp.Navigate(w.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS(".live.on")),
		chromedp.WaitVisible(chromedp.CSS(`#stats[data-updates="2"]`)))
	if got := text("#rate"); got == "…" || got == "<none>" {
		t.Errorf("delivered/s after a live update: %q", got)
	}

	// The probe renders as text in the console too.
	msgURL := w.URL + "/console/messages/" + probe.ID
	do("open the probe's page", chromedp.Navigate(msgURL), chromedp.WaitVisible(chromedp.CSS("#data")))
	if got := text("#data .kw-character_string2"); got != xss {
		t.Fatalf("the console shows the probe as %q", got)
	}
	if n := eval(`String(document.querySelectorAll("main script, main img").length)`); n != "0" {
		t.Fatalf("the probe became markup in the console: %s elements", n)
	}

	// 2. Reject in the mock's UI: the grant shows rejected, the next send
	//    ends not_subscribed / 43101, and the ledger learned it.
	subsURL := m.URL + "/_ui/subscriptions?" + wechat
	do("open the mock's subscriptions", chromedp.Navigate(subsURL))
	click("reject", "#sub-"+order+" button.reject")
	if got := text("#sub-" + order + " .state"); got != "rejected" {
		t.Fatalf("after reject the mock shows %q", got)
	}
	after := w.waitFinal(t, w.sendOrder(t, alice, "After reject", "SF2").ID)
	if after.Reason != senderclient.ReasonNotSubscribed || after.LastCode != "43101" || after.Status == senderclient.StatusDelivered {
		t.Fatalf("the send after reject ended %s / %s / %s, want not_subscribed / 43101", after.Status, after.Reason, after.LastCode)
	}
	do("open it in the console", chromedp.Navigate(w.URL+"/console/messages/"+after.ID), chromedp.WaitVisible(chromedp.CSS("#status")))
	if got := text("#reason") + " " + text("#last-code"); !strings.HasPrefix(got, "not_subscribed 43101") {
		t.Errorf("the console shows the rejected send as %q", got)
	}
	consentsURL := w.URL + "/console/consents?" + url.Values{"app": {appName}, "user": {alice}}.Encode()
	waitFor(t, tab, "the ledger learns the reject", consentsURL, `#consents tbody tr .pill.bad`)

	// 3. A fault from the mock's form: the console shows the retries, and
	//    its Redrive button gets the dead letter delivered.
	do("open the mock's control", chromedp.Navigate(m.URL+"/_ui/control"),
		chromedp.SetValue(chromedp.CSS(`#fault-form select[name=platform]`), "wechat"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=endpoint]`), "subscribe_send"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=openid]`), bob),
		chromedp.Click(chromedp.CSS(`#fault-form input[name=action][value=errcode]`)),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=errcode]`), "-1"),
		chromedp.SetValue(chromedp.CSS(`#fault-form input[name=times]`), strconv.Itoa(w.cfg.Delivery.MaxAttempts)))
	click("add the fault", "#fault-form button[type=submit]")
	if fs, err := m.Control.Faults(ctxT(t)); err != nil || len(fs) != 1 || fs[0].OpenID != bob {
		t.Fatalf("faults after the form: %+v, %v", fs, err)
	}
	dead := w.waitFinal(t, w.sendOrder(t, bob, "Coffee beans", "SF3").ID)
	if dead.Status != senderclient.StatusFailed {
		t.Fatalf("under the fault the message ended %s (%s), want failed", dead.Status, dead.Reason)
	}
	deadURL := w.URL + "/console/messages/" + dead.ID
	do("open the dead letter", chromedp.Navigate(deadURL), chromedp.WaitVisible(chromedp.CSS("#attempts")))
	if n := eval(`String(document.querySelectorAll("#attempts li.kind-send").length)`); n != strconv.Itoa(w.cfg.Delivery.MaxAttempts) {
		t.Fatalf("the timeline shows %s sends, want %d: %s", n, w.cfg.Delivery.MaxAttempts, text("#attempts"))
	}
	if got := text("#attempts li.kind-send:last-of-type"); !strings.Contains(got, "code -1") || !strings.Contains(got, " ms") {
		t.Errorf("the last send's entry lacks the platform code or the latency: %q", got)
	}
	shootConsole(t, tab, "console-message-failed", deadURL)
	dlURL := w.URL + "/console/dead-letters?app=" + appName
	do("open the dead letters", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(dlURL),
		chromedp.WaitVisible(chromedp.CSS("#row-"+dead.ID)))
	shootConsole(t, tab, "console-dead-letters", dlURL)
	do("back to the dead letters", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(dlURL))
	click("redrive", "#row-"+dead.ID+" button.redrive")
	if got := text(".notice"); !strings.Contains(got, "Redriven") {
		t.Errorf("after redrive the page says %q", got)
	}
	if got := w.waitFinal(t, dead.ID); got.Status != senderclient.StatusDelivered {
		t.Fatalf("after the redrive the message ended %s (%s), want delivered", got.Status, got.Reason)
	}
	do("open the redriven message", chromedp.Navigate(deadURL), chromedp.WaitVisible(chromedp.CSS("#status")))
	if got := text("#status"); got != "delivered" {
		t.Fatalf("the console shows the redriven message as %q", got)
	}
	shootConsole(t, tab, "console-message", deadURL)

	// A broadcast's progress moves on its page without a reload.
	at := time.Now().Add(3 * time.Second)
	if _, err := m.Control.Grant(ctxT(t), mockapi.Grant{Platform: "wechat", AppID: seed.DemoWeChatAppID, OpenID: carol, TemplateID: order, Count: 1}); err != nil {
		t.Fatal(err)
	}
	bc, err := w.admin.Broadcast(ctxT(t), senderclient.BroadcastRequest{App: appName, To: []string{carol, alice}, TemplateID: order,
		Data: map[string]string{"thing1": "Tea", "character_string2": "SF4", "date3": "2026-11-25", "phrase4": "已发货"}, SendAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	bcURL := w.URL + "/console/broadcasts/" + bc.ID
	do("open the broadcast", chromedp.Navigate(bcURL), chromedp.WaitVisible(chromedp.CSS(".live.on")),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = "yes"`))
	if got := text("#progress .state"); got != "in progress" {
		t.Fatalf("a scheduled broadcast shows %q", got)
	}
	do("the broadcast finishes", chromedp.WaitVisible(chromedp.CSS(`#progress [data-finished="true"]`)))
	if got := eval(`window.__sameDocument || "reloaded"`); got != "yes" {
		t.Fatalf("the broadcast page reloaded (%s)", got)
	}
	if got := text("#progress .delivered") + "/" + text("#progress .recipients"); got != "1/2" {
		t.Errorf("the finished broadcast shows %s delivered", got)
	}
	shootConsole(t, tab, "console-broadcast", bcURL)
	shootConsole(t, tab, "console-broadcasts", w.URL+"/console/broadcasts")

	if _, err := w.admin.PutGroup(ctxT(t), appName, "vip", []string{alice, bob, carol}); err != nil {
		t.Fatal(err)
	}
	shootConsole(t, tab, "console-groups", w.URL+"/console/groups?app="+appName+"&name=vip")
	shootConsole(t, tab, "console-apps", w.URL+"/console/apps")
	shootConsole(t, tab, "console-consents", w.URL+"/console/consents?app="+appName)
	shootConsole(t, tab, "console-messages", w.URL+"/console/messages")

	// A post without the CSRF token is refused, even from the console's
	// own page with the session.
	xhr := func(path, body string) string {
		return eval(`(function(){var x=new XMLHttpRequest();x.open("POST",` + strconv.Quote(path) + `,false);` +
			`x.setRequestHeader("Content-Type","application/x-www-form-urlencoded");x.send(` + body + `);return String(x.status)})()`)
	}
	do("open the dead letters", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(w.URL+"/console/messages/"+after.ID))
	if got := xhr("/console/messages/"+after.ID+"/retry", `""`); got != "403" {
		t.Fatalf("a post without the CSRF token answered %s, want 403", got)
	}

	// 4. A read-only key: no buttons, and a forged post (with the
	//    session's valid CSRF token) answers 403 and changes nothing.
	do("sign out", chromedp.Navigate(w.URL+"/console/apps"))
	click("sign out", ".who button[type=submit]")
	signIn(viewerKey, "viewer")
	for _, path := range []string{"/console/messages/" + after.ID, "/console/dead-letters", "/console/apps", "/console/messages"} {
		do("open "+path, chromedp.Navigate(w.URL+path), chromedp.WaitVisible(chromedp.CSS("main")))
		if n := eval(`String(document.querySelectorAll("main button.action, main form[method=post]").length)`); n != "0" {
			t.Errorf("%s shows the read-only key %s buttons or forms", path, n)
		}
	}
	do("back to the rejected message", chromedp.Navigate(w.URL+"/console/messages/"+after.ID))
	if got := xhr("/console/messages/"+after.ID+"/retry", `"csrf="+encodeURIComponent(document.querySelector("input[name=csrf]").value)`); got != "403" {
		t.Fatalf("a read-only key's forged redrive answered %s, want 403", got)
	}
	if got, _ := w.admin.Message(ctxT(t), after.ID); got.Status != after.Status {
		t.Fatalf("the forged post changed the message to %s", got.Status)
	}
	do("sign out", chromedp.Navigate(w.URL+"/console/apps"))
	click("sign out", ".who button[type=submit]")
	shootConsole(t, tab, "console-login", w.URL+"/console/login")

	// The README's picture of the console.
	if os.Getenv("MINIPUSH_UPDATE_SCREENSHOTS") == "1" {
		src := filepath.Join(browsertest.ReportDir(t), "console-message-failed-desktop.png")
		png, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(browsertest.ReportDir(t)))), "docs", "img", "sender-console.png")
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", dst)
	}
}

// waitFor reloads pageURL until sel is on it (the console's pages are
// not all live; an event the mock pushed takes a moment to be processed).
func waitFor(t *testing.T, tab context.Context, what, pageURL, sel string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := chromedp.Do(tab, chromedp.Navigate(pageURL)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		found, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) !== null`))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not on %s after 30 s", what, sel, pageURL)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shootConsole photographs the page at desktop and phone size, after the
// steps.
func shootConsole(t *testing.T, tab context.Context, name, pageURL string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		if err := chromedp.Do(tab, append([]chromedp.Action[chromedp.Void]{browsertest.SetViewport(v), chromedp.Navigate(pageURL)}, steps...)...); err != nil {
			t.Fatalf("open %s at %s: %v", name, v.Name, err)
		}
		t.Logf("screenshot %s", browsertest.Screenshot(t, tab, name, v))
	}
}

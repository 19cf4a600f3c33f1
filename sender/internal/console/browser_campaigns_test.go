package console_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minipush/minipush/internal/browsertest"
	"github.com/minipush/minipush/sender/senderclient"
)

// TestBrowserSchedules drives the Schedules and Broadcasts pages in
// headless Chromium (issue 16): a schedule made through the API is listed
// with its cron, time zone and next run; its Pause button, clicked, pauses
// it — the API reports it paused and the page says so — and Resume
// undoes it; the broadcasts page lists a broadcast made through the API
// with its state, and its state filter narrows the list. The pages are
// photographed into build/reports/ui/.
func TestBrowserSchedules(t *testing.T) {
	w := start(t)
	b := browsertest.Start(t)
	tab := b.Tab(t, 2*time.Minute)
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

	sc, err := w.admin.CreateSchedule(ctxT(t), senderclient.ScheduleRequest{App: appName, Cron: "30 8 * * 1-5",
		TimeZone: "Asia/Shanghai", To: []string{alice}, TemplateID: order, Data: orderData("Morning")})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	bc, err := w.admin.Broadcast(ctxT(t), senderclient.BroadcastRequest{App: appName, To: []string{bob, carol}, TemplateID: order,
		Data: orderData("Later"), SendAt: &later})
	if err != nil {
		t.Fatal(err)
	}

	// Sign in with the admin key, on the form.
	do("open the console", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(w.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`#login-form input[name=key]`)),
		chromedp.SetValue(chromedp.CSS(`#login-form input[name=key]`), adminKey))
	click("sign in", `#login-form button[type=submit]`)
	if got := text("#key-name"); got != "ops" {
		t.Fatalf("signed in as %q", got)
	}

	// The Schedules tab lists the schedule.
	click("the Schedules tab", `nav.tabs a[href="/console/schedules"]`)
	row := "#sch-" + sc.ID
	do("the schedule is listed", chromedp.WaitVisible(chromedp.CSS(row)))
	if got := text(row + " .cron"); got != "30 8 * * 1-5" {
		t.Errorf("cron shown as %q", got)
	}
	if got := text(row + " .tz"); got != "Asia/Shanghai" {
		t.Errorf("time zone shown as %q", got)
	}
	if got, want := text(row+" .next-run"), sc.NextRunAt.UTC().Format("2006-01-02 15:04:05.000Z"); got != want {
		t.Errorf("next run shown as %q, want %q", got, want)
	}
	if got := text(row + " .state"); got != "active" {
		t.Errorf("state shown as %q, want active", got)
	}
	shootConsole(t, tab, "console-schedules", w.URL+"/console/schedules")

	// Pause from the page: the API reports it paused, the page says so.
	do("back to the schedules", browsertest.SetViewport(browsertest.Desktop), chromedp.Navigate(w.URL+"/console/schedules"),
		chromedp.WaitVisible(chromedp.CSS(row)))
	click("pause", row+" button.pause")
	if got := text(".notice"); !strings.HasPrefix(got, "Paused:") {
		t.Errorf("after Pause the page says %q", got)
	}
	if got := text(row + " .state"); got != "paused" {
		t.Errorf("after Pause the state shows %q", got)
	}
	if s, err := w.admin.Schedule(ctxT(t), sc.ID); err != nil || !s.Paused {
		t.Fatalf("after Pause the API reports %+v, %v; want paused", s, err)
	}
	click("resume", row+" button.resume")
	if s, err := w.admin.Schedule(ctxT(t), sc.ID); err != nil || s.Paused {
		t.Fatalf("after Resume the API reports %+v, %v; want active", s, err)
	}
	if got := text(row + " .state"); got != "active" {
		t.Errorf("after Resume the state shows %q", got)
	}

	// The Broadcasts tab: the broadcast with its state; the filter.
	click("the Broadcasts tab", `nav.tabs a[href="/console/broadcasts"]`)
	do("the broadcast is listed", chromedp.WaitVisible(chromedp.CSS("#bc-"+bc.ID)))
	if got := text("#bc-" + bc.ID + " .state"); got != "scheduled" {
		t.Errorf("the broadcast due in an hour shows %q", got)
	}
	do("filter done", chromedp.SetValue(chromedp.CSS(`#broadcast-filters select[name=state]`), "done"))
	click("filter", `#broadcast-filters button[type=submit]`)
	if got := eval(`String(document.querySelectorAll("#bc-` + bc.ID + `").length)`); got != "0" {
		t.Errorf("state=done still lists the scheduled broadcast")
	}
	if got := eval(`location.search`); !strings.Contains(got, "state=done") {
		t.Errorf("the filter did not reach the URL: %q", got)
	}
	shootConsole(t, tab, "console-broadcasts-list", w.URL+"/console/broadcasts")
}

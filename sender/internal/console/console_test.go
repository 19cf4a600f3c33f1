package console_test

import (
	"bufio"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/senderclient"
)

// TestSignIn: the console asks for an API key with the read scope on a
// form; the session cookie is HttpOnly, SameSite=Strict, scoped to
// /console/ and is not the key; the key never appears in a URL; sign-out
// ends the session on the server.
func TestSignIn(t *testing.T) {
	w := start(t)
	b := w.newBrowser(t)

	resp, _ := b.get("/console/messages?app=" + appName)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login?next=") {
		t.Fatalf("a page without a session answered %d → %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/console/events/stats"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a live stream without a session answered %d, want 401", resp.StatusCode)
	}
	resp, body := b.get("/console/login")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `type="password" name="key"`) || !strings.Contains(body, `method="post"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name, key string
		status    int
	}{
		{"unknown key", "not-a-key", http.StatusUnauthorized},
		{"empty key", "", http.StatusUnauthorized},
		{"key without read scope", senderKey, http.StatusForbidden},
	} {
		resp, body := b.post("/console/login", url.Values{"key": {tc.key}})
		if resp.StatusCode != tc.status || len(resp.Cookies()) != 0 {
			t.Errorf("%s: %d with cookies %v, want %d and none (%s)", tc.name, resp.StatusCode, resp.Cookies(), tc.status, body)
		}
	}
	// A login form posted from another site is refused.
	if resp, _ := b.post("/console/login", url.Values{"key": {adminKey}}, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site login answered %d, want 403", resp.StatusCode)
	}

	resp, _ = b.post("/console/login", url.Values{"key": {viewerKey}, "next": {"/console/apps"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/apps" {
		t.Fatalf("sign in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cks := resp.Cookies()
	if len(cks) != 1 {
		t.Fatalf("cookies: %v", cks)
	}
	ck := cks[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/ (Secure only over TLS)", ck)
	}
	if strings.Contains(ck.Value, viewerKey) || len(ck.Value) < 32 {
		t.Errorf("session cookie value %q: want an opaque random id, not the key", ck.Value)
	}
	if strings.Contains(resp.Header.Get("Location"), viewerKey) {
		t.Error("the key is in the redirect")
	}
	resp, body = b.get("/console/apps")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="key-name">viewer<`) || strings.Contains(body, viewerKey) {
		t.Fatalf("apps page after sign-in: %d, shows the key's name and never the key? %s", resp.StatusCode, body)
	}
	// An open redirect is not offered.
	resp, _ = w.newBrowser(t).post("/console/login", url.Values{"key": {viewerKey}, "next": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/console/" {
		t.Errorf("next=//evil.example/ redirected to %q", loc)
	}

	csrf := b.csrf()
	if resp, _ := b.post("/console/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token answered %d, want 403", resp.StatusCode)
	}
	resp, _ = b.post("/console/logout", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	// The old cookie no longer opens anything, even if a browser kept it.
	req, _ := http.NewRequest(http.MethodGet, w.URL+"/console/apps", nil)
	req.AddCookie(ck)
	old, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	old.Body.Close()
	if old.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out session's cookie still answers %d", old.StatusCode)
	}
}

// TestPagesEscapeAndRender: every page renders for an admin, with the
// security headers; a keyword value <script>alert(1)</script> is shown
// escaped wherever the console shows data; the assets are embedded.
func TestPagesEscapeAndRender(t *testing.T) {
	w := start(t)
	a := w.sendOrder(t, alice, "Phone case", xss)
	m := w.waitFinal(t, a.ID)
	if m.Status != "delivered" {
		t.Fatalf("the probe message ended %s (%s)", m.Status, m.Reason)
	}
	b := w.newBrowser(t)
	b.signIn(adminKey)
	escaped := html.EscapeString(xss)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/", []string{`id="stats"`, `data-stream="/console/events/stats"`, "delivered/s", appName}},
		{"/console/messages", []string{a.ID, alice}},
		{"/console/messages?app=" + appName + "&status=delivered&user=" + alice, []string{a.ID}},
		{"/console/messages?reason=not_subscribed&user=" + alice, []string{"No messages match."}},
		{"/console/messages?user=nobody", []string{"No messages match."}},
		{"/console/messages?user=" + alice + "&from=2000-01-01&to=" + url.QueryEscape("2100-01-01T00:00:00+08:00"), []string{a.ID}},
		{"/console/messages?from=2100-01-01T00:00", []string{"No messages match."}},
		{"/console/messages/" + a.ID, []string{`<td class="kw kw-character_string2">` + escaped + "<", `class="timeline"`, "delivered"}},
		{"/console/dead-letters", []string{"Redrive in bulk", "No messages match."}},
		{"/console/broadcasts", []string{"broadcast id", "No broadcasts match."}},
		{"/console/schedules", []string{"No schedules"}},
		{"/console/groups", []string{appName}},
		{"/console/apps", []string{appName, "valid until", "healthy"}},
		{"/console/consents?app=" + appName, []string{"consent ledger"}},
	} {
		resp, body := b.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, body)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tc.path, want)
			}
		}
		if strings.Contains(body, xss) {
			t.Errorf("%s holds the probe unescaped", tc.path)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
	}
	// A filter the API refuses or the console cannot read says which.
	if resp, body := b.get("/console/messages?status=lost&from=yesterday"); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "status must be one of") || !strings.Contains(body, "from must be a time") {
		t.Errorf("bad filters: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.get("/console/messages/msg_nope"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("an unknown message: %d %s", resp.StatusCode, body)
	}
	for _, asset := range []string{"/console/static/console.js", "/console/static/console.css"} {
		if resp, body := b.get(asset); resp.StatusCode != http.StatusOK || len(body) < 500 {
			t.Errorf("%s: %d, %d bytes", asset, resp.StatusCode, len(body))
		}
	}
}

// TestActionsNeedAdminAndCSRF: a read-only key sees no action buttons and
// its forged post (with a valid CSRF token) answers 403 and changes
// nothing; an admin's post without the token, or from another site,
// answers 403; with it, the action is done through the API.
func TestActionsNeedAdminAndCSRF(t *testing.T) {
	w := start(t)
	if _, err := w.mock.Control.AddFault(ctxT(t), faultFor(bob, 3)); err != nil {
		t.Fatal(err)
	}
	a := w.sendOrder(t, bob, "Retry me", "SF1")
	if m := w.waitFinal(t, a.ID); m.Status != "failed" {
		t.Fatalf("under the fault the message ended %s, want failed", m.Status)
	}

	viewer := w.newBrowser(t)
	viewer.signIn(viewerKey)
	for _, path := range []string{"/console/dead-letters", "/console/messages/" + a.ID, "/console/messages", "/console/apps"} {
		if resp, body := viewer.get(path); resp.StatusCode != http.StatusOK || strings.Contains(body, `class="action`) ||
			strings.Contains(body, "Redrive in bulk") {
			t.Errorf("%s shows a read-only key an action (%d)", path, resp.StatusCode)
		}
	}
	resp, body := viewer.post("/console/messages/"+a.ID+"/retry", url.Values{"csrf": {viewer.csrf()}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "lacks the admin scope") {
		t.Fatalf("a read-only key's redrive answered %d: %s", resp.StatusCode, body)
	}
	if m, _ := w.admin.Message(ctxT(t), a.ID); m.Status != "failed" {
		t.Fatalf("the refused redrive changed the message: %s", m.Status)
	}

	admin := w.newBrowser(t)
	admin.signIn(adminKey)
	if _, body := admin.get("/console/dead-letters"); !strings.Contains(body, `action="/console/messages/`+a.ID+`/retry"`) {
		t.Fatalf("the admin sees no redrive button for %s", a.ID)
	}
	csrf := admin.csrf()
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
		want int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {strings.Repeat("0", len(csrf))}}, nil, http.StatusForbidden},
		{"another session's token", url.Values{"csrf": {viewer.csrf()}}, nil, http.StatusForbidden},
		{"from another site", url.Values{"csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"not a form", url.Values{"csrf": {csrf}}, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
	} {
		if resp, _ := admin.post("/console/messages/"+a.ID+"/retry", tc.form, tc.hdr...); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if m, _ := w.admin.Message(ctxT(t), a.ID); m.Status != "failed" {
		t.Fatalf("a refused post changed the message: %s", m.Status)
	}
	if resp, _ := admin.get("/console/messages/" + a.ID + "/retry"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on an action answered %d, want 405", resp.StatusCode)
	}
	// The bulk redrive (the fault is used up: the message is delivered).
	resp, _ = admin.post("/console/dead-letters/retry", url.Values{"csrf": {csrf}, "app": {appName}, "status": {"failed"},
		"reason": {"platform_unavailable"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk redrive: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.Contains(loc, "notice=bulk-retry") || !strings.Contains(loc, "count=1") {
		t.Errorf("bulk redrive went to %q, want the notice and count=1", loc)
	}
	if m := w.waitFinal(t, a.ID); m.Status != "delivered" {
		t.Fatalf("after the bulk redrive: %s (%s)", m.Status, m.Reason)
	}
	// A bad form value is named.
	resp, body = admin.post("/console/dead-letters/retry", url.Values{"csrf": {csrf}, "app": {appName}, "created_from": {"soon"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "created_from must be a time") {
		t.Errorf("bad created_from: %d %s", resp.StatusCode, body)
	}
	resp, body = admin.post("/console/dead-letters/retry", url.Values{"csrf": {csrf}, "app": {"nope"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "no app named") {
		t.Errorf("unknown app: %d %s", resp.StatusCode, body)
	}
}

// TestLiveStats: the overview's stream sends the stats fragment (escaped
// by the same template as the page) every tick, delivered/s from the
// second sample on, and ends when its session is signed out.
func TestLiveStats(t *testing.T) {
	w := start(t)
	b := w.newBrowser(t)
	b.signIn(adminKey)
	csrf := b.csrf()
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, w.URL+"/console/events/stats", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var items []string
	var cur strings.Builder
	for len(items) < 2 && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			cur.WriteString(strings.TrimPrefix(line, "data: ") + "\n")
		case line == "" && cur.Len() > 0:
			items = append(items, cur.String())
			cur.Reset()
		}
	}
	if len(items) < 2 {
		t.Fatalf("got %d events before the stream ended: %v", len(items), sc.Err())
	}
	if !strings.Contains(items[0], `id="rate">…<`) || !strings.Contains(items[0], `id="stats-`+appName+`"`) {
		t.Errorf("first sample: %s", items[0])
	}
	if !strings.Contains(items[1], `id="rate">0.0<`) {
		t.Errorf("second sample lacks delivered/s 0.0: %s", items[1])
	}
	if r, _ := b.post("/console/logout", url.Values{"csrf": {csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the stream outlived its session by 30 s")
	}
}

// TestBulkCancelAndResume: the console's bulk cancel cancels the waiting
// messages its form selects; an app the platform paused (WeChat 45009,
// the daily quota) shows its pause and a Resume button, which ends it.
func TestBulkCancelAndResume(t *testing.T) {
	w := start(t)
	admin := w.newBrowser(t)
	admin.signIn(adminKey)
	csrf := admin.csrf()

	later := time.Now().Add(time.Hour)
	var ids []string
	for _, user := range []string{alice, carol} {
		a, err := w.admin.Send(ctxT(t), senderclient.MessageRequest{App: appName, To: user, TemplateID: order,
			Data: map[string]string{"thing1": "Later", "character_string2": "SF9", "date3": "2026-11-25", "phrase4": "已发货"}, SendAt: &later})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	resp, _ := admin.post("/console/messages/cancel", url.Values{"csrf": {csrf}, "app": {appName}, "status": {"queued"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "count=2") {
		t.Fatalf("bulk cancel: %d → %q, want 303 with count=2", resp.StatusCode, loc)
	}
	for _, id := range ids {
		if m, _ := w.admin.Message(ctxT(t), id); m.Status != senderclient.StatusCancelled {
			t.Errorf("%s after the bulk cancel: %s", id, m.Status)
		}
	}
	if _, body := admin.get("/console/messages?notice=bulk-cancel&count=2"); !strings.Contains(body, "Bulk cancel done. Messages changed: 2.") {
		t.Errorf("the notice after the bulk cancel is missing")
	}

	code := 45009
	if _, err := w.mock.Control.AddFault(ctxT(t), mockapi.Fault{Platform: "wechat", Endpoint: "subscribe_send", ErrCode: &code, Times: 1}); err != nil {
		t.Fatal(err)
	}
	held := w.sendOrder(t, alice, "Quota", "SF10")
	deadline := time.Now().Add(30 * time.Second)
	for {
		app, err := w.admin.App(ctxT(t), appName)
		if err != nil {
			t.Fatal(err)
		}
		if app.Paused() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not pause after 45009: %+v", app)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, body := admin.get("/console/apps")
	if !strings.Contains(body, "paused until") || !strings.Contains(body, `action="/console/apps/`+appName+`/resume"`) {
		t.Fatalf("the apps page shows no pause or Resume button: %s", body)
	}
	resp, _ = admin.post("/console/apps/"+appName+"/resume", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "notice=resumed") {
		t.Fatalf("resume: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if app, _ := w.admin.App(ctxT(t), appName); app.Paused() {
		t.Fatalf("the app is still paused after Resume: %+v", app)
	}
	if m := w.waitFinal(t, held.ID); m.Status != senderclient.StatusDelivered {
		t.Fatalf("the held message after Resume: %s (%s)", m.Status, m.Reason)
	}
	if _, body := admin.get("/console/apps"); strings.Contains(body, "paused until") {
		t.Errorf("the apps page still shows a pause")
	}
}

// TestCampaignFields: a duplicate's page names and links the message it
// repeats; the apps page shows the app's campaign rules.
func TestCampaignFields(t *testing.T) {
	w := start(t)
	req := senderclient.MessageRequest{App: appName, To: bob, TemplateID: order,
		Data:  map[string]string{"thing1": "Mug", "character_string2": "D-1", "date3": "2026-11-25", "phrase4": "已发货"},
		Dedup: &senderclient.Dedup{Key: "order-D-1", Window: "1h"}}
	first, err := w.admin.Send(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := w.admin.Send(ctxT(t), req)
	if err != nil || dup.DuplicateOf != first.ID {
		t.Fatalf("second send: %+v, %v; want a duplicate of %s", dup, err, first.ID)
	}
	b := w.newBrowser(t)
	b.signIn(viewerKey)
	resp, body := b.get("/console/messages/" + dup.ID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="duplicate-of"><a href="/console/messages/`+first.ID+`">`) ||
		!strings.Contains(body, "duplicate") {
		t.Errorf("the duplicate's page: %d, lacks the link to %s:\n%s", resp.StatusCode, first.ID, body)
	}
	resp, body = b.get("/console/apps")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "campaigns (Asia/Shanghai):") || !strings.Contains(body, "≤100000/day") {
		t.Errorf("the apps page lacks the campaign rules: %d\n%s", resp.StatusCode, body)
	}
}

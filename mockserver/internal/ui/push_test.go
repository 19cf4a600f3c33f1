package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// receiver is an app's push endpoint: it passes WeChat's handshake and
// keeps what it is pushed.
type receiver struct {
	mu     sync.Mutex
	bodies []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
		return
	}
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, string(b))
	rc.mu.Unlock()
	_, _ = io.WriteString(w, "success")
}

// wait returns the pushes once there are n.
func (rc *receiver) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]string(nil), rc.bodies...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pushes after 10 s, want %d: %v", len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The user's buttons fire the platform's events, like the control API:
// a popup answer pushes subscribe_msg_popup_event, switching off in
// settings subscribe_msg_change_event.
func TestButtonsPushThePlatformsEvents(t *testing.T) {
	t.Parallel()
	m := start(t)
	rc := &receiver{}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	res, err := m.Control.SetPush(ctx(t), "wechat", appID, &mockapi.PushConfig{URL: hs.URL + "/push", Token: "pushtoken0123", Format: "json"})
	if err != nil || res.Verify == nil || !res.Verify.Passed {
		t.Fatalf("push settings: %+v %v", res, err)
	}
	p := post(t, m, "/_ui/subscriptions/popup", userForm(bob, "reject", order), nil)
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "notice=rejected-pushed") {
		t.Fatalf("reject: %d → %q", p.status, p.location)
	}
	get(t, m, p.location).expect(t, http.StatusOK, "the platform&#39;s event was pushed to the app")
	pushed := rc.wait(t, 1)
	if !strings.Contains(pushed[0], "subscribe_msg_popup_event") || !strings.Contains(pushed[0], order) ||
		!strings.Contains(pushed[0], "reject") || !strings.Contains(pushed[0], bob) {
		t.Fatalf("popup push %s", pushed[0])
	}
	post(t, m, "/_ui/subscriptions/switch-off", userForm(alice, "template_id", order), nil).expect(t, http.StatusSeeOther)
	pushed = rc.wait(t, 2)
	if !strings.Contains(pushed[1], "subscribe_msg_change_event") || !strings.Contains(pushed[1], alice) {
		t.Fatalf("settings push %s", pushed[1])
	}
}

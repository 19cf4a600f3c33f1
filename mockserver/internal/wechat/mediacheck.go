package wechat

import (
	"sync"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// media_check_async answers at once with a trace_id; the verdict reaches
// the developer's server later as the wxa_media_check push ("30 分钟内",
// mediaCheckAsync page). The mock pushes it MediaCheckDelay after the call
// on the mock clock — a few seconds by default, changeable with
// PUT /_mock/media-checks/settings — and at once when the clock is moved
// past that moment.

// DefaultMediaCheckDelay is the default wait before a verdict is pushed.
const DefaultMediaCheckDelay = 3 * time.Second

// maxMediaChecks bounds the checks remembered; the oldest are forgotten
// first (a forgotten pending check is never pushed).
const maxMediaChecks = 10_000

type mediaCheck struct {
	appID, traceID, openID, mediaURL string
	version, mediaType               int
	suggest                          string
	label                            int
	at, due                          time.Time

	// done: the verdict is being or has been pushed; finished: the push is
	// queued (pushID) or could not be (note).
	done     bool
	finished bool
	pushedAt time.Time
	pushID   string
	note     string
	timer    *time.Timer
}

type mediaChecks struct {
	mu    sync.Mutex
	list  []*mediaCheck // oldest first
	delay time.Duration
}

// resetMediaChecks forgets every check (stopping their timers) and the
// delay setting.
func (e *Emulator) resetMediaChecks() {
	m := &e.checks
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mc := range m.list {
		mc.done = true // a timer already firing finds nothing to push
		if mc.timer != nil {
			mc.timer.Stop()
		}
	}
	m.list, m.delay = nil, DefaultMediaCheckDelay
}

// MediaCheckDelay is the wait before a verdict is pushed.
func (e *Emulator) MediaCheckDelay() time.Duration {
	e.checks.mu.Lock()
	defer e.checks.mu.Unlock()
	return e.checks.delay
}

// SetMediaCheckDelay changes the wait for checks requested from now on.
func (e *Emulator) SetMediaCheckDelay(d time.Duration) {
	e.checks.mu.Lock()
	e.checks.delay = d
	e.checks.mu.Unlock()
}

// scheduleMediaCheck remembers a check and arms a real-time timer for its
// due moment; the clock watcher (mediaChecksDue) catches clock jumps.
func (e *Emulator) scheduleMediaCheck(mc mediaCheck) {
	m := &e.checks
	m.mu.Lock()
	c := &mc
	c.due = c.at.Add(m.delay)
	if len(m.list) >= maxMediaChecks {
		old := m.list[0]
		old.done = true
		if old.timer != nil {
			old.timer.Stop()
		}
		m.list[0] = nil
		m.list = m.list[1:]
	}
	m.list = append(m.list, c)
	c.timer = time.AfterFunc(m.delay, func() { e.mediaCheckTimer(c) })
	m.mu.Unlock()
}

// mediaCheckTimer runs when a check's delay has passed in real time. If the
// mock clock was moved back meanwhile, the check is not due yet: the timer
// is armed again for what remains.
func (e *Emulator) mediaCheckTimer(c *mediaCheck) {
	now := e.env.Clock.Now()
	m := &e.checks
	m.mu.Lock()
	if c.done { // pushed already, or forgotten by a reset
		m.mu.Unlock()
		return
	}
	if wait := c.due.Sub(now); wait > 0 {
		c.timer = time.AfterFunc(wait, func() { e.mediaCheckTimer(c) })
		m.mu.Unlock()
		return
	}
	c.done = true
	m.mu.Unlock()
	e.pushMediaCheck(c, now)
}

// mediaChecksDue pushes every check due at now: the clock watcher, so that
// moving the mock clock past a check's moment pushes it at once.
func (e *Emulator) mediaChecksDue(now time.Time) {
	m := &e.checks
	m.mu.Lock()
	var due []*mediaCheck
	for _, c := range m.list {
		if !c.done && !now.Before(c.due) {
			c.done = true
			if c.timer != nil {
				c.timer.Stop()
			}
			due = append(due, c)
		}
	}
	m.mu.Unlock()
	for _, c := range due {
		e.pushMediaCheck(c, now)
	}
}

// MediaChecks lists an app's checks, oldest first, for the control API.
func (e *Emulator) MediaChecks(appID string) []mockapi.MediaCheck {
	m := &e.checks
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []mockapi.MediaCheck{}
	for _, c := range m.list {
		if c.appID != appID {
			continue
		}
		mc := mockapi.MediaCheck{Platform: Name, AppID: c.appID, TraceID: c.traceID, OpenID: c.openID,
			MediaURL: c.mediaURL, MediaType: c.mediaType, Version: c.version, Suggest: c.suggest, Label: c.label,
			RequestedAt: c.at, DueAt: c.due, Status: mockapi.MediaCheckPending, PushID: c.pushID, Note: c.note}
		if c.finished {
			mc.Status = mockapi.MediaCheckPushed
			if c.pushID == "" {
				mc.Status = mockapi.MediaCheckNotPushed
			}
			t := c.pushedAt
			mc.PushedAt = &t
		}
		out = append(out, mc)
	}
	return out
}

// finishMediaCheck records what became of a check's push.
func (e *Emulator) finishMediaCheck(c *mediaCheck, now time.Time, pushID, note string) {
	e.checks.mu.Lock()
	c.finished, c.pushedAt, c.pushID, c.note = true, now, pushID, note
	e.checks.mu.Unlock()
}

package store

import (
	"errors"
	"sort"
	"sync"
	"time"
)

// Customer-service (客服) windows. A platform lets a mini-program message a
// user through its customer-service API only for a while after the user
// acted: on WeChat, a message from the user allows 5 replies within 48 hours
// and entering the session from a contact button allows 2 within a minute
// (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/send.html).
// The allowances do not add up: each user action raises the remaining
// count and the deadline to at least that action's own (the old page:
// "可发送客服消息条数不累加 … 可下发消息条数更新为当前可下发条数限制的最大值，
// 有效下发时间限制也更新为最长有效时间").

// KefuTrigger is the user action that opens or renews a window.
type KefuTrigger string

// Triggers.
const (
	// KefuUserMessage: the user sent a message to customer service.
	KefuUserMessage KefuTrigger = "message"
	// KefuSessionEnter: the user entered the customer-service session
	// (the user_enter_tempsession event).
	KefuSessionEnter KefuTrigger = "enter"
)

// Allowance is how many replies a trigger allows and for how long.
func (t KefuTrigger) Allowance() (replies int, life time.Duration, ok bool) {
	switch t {
	case KefuUserMessage:
		return 5, 48 * time.Hour, true
	case KefuSessionEnter:
		return 2, time.Minute, true
	}
	return 0, 0, false
}

// Typing rules (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/typing.html):
// the typing state needs a message exchange in the last 30 s, lasts 15 s,
// cannot be set again meanwhile, and a sent message cancels it.
const (
	KefuTypingNeedsInteraction = 30 * time.Second
	KefuTypingLasts            = 15 * time.Second
)

// Errors of the customer-service window, in the order they are checked.
var (
	ErrUnknownTrigger    = errors.New("unknown customer-service trigger")
	ErrKefuClosed        = errors.New("no open customer-service window for this user")
	ErrKefuExhausted     = errors.New("the customer-service window has no replies left")
	ErrKefuNoInteraction = errors.New("no message exchange with the user in the last 30 s")
	ErrKefuTyping        = errors.New("already typing")
)

// KefuWindow is a user's customer-service window as of a moment.
type KefuWindow struct {
	Platform, AppID, OpenID string
	// Trigger is the last user action; OpenedAt its time.
	Trigger  KefuTrigger
	OpenedAt time.Time
	// Deadline ends the window; Remaining replies may be sent before it.
	Deadline  time.Time
	Remaining int
	// LastInteraction is the last message either way (the user's action or
	// a reply); TypingUntil is when the typing state ends (zero: not typing).
	LastInteraction time.Time
	TypingUntil     time.Time
	// Sent counts the replies sent since the window was first opened.
	Sent int
}

// Open reports whether replies may be sent at now.
func (w KefuWindow) Open(now time.Time) bool { return now.Before(w.Deadline) }

// Typing reports whether the typing state shows at now.
func (w KefuWindow) Typing(now time.Time) bool { return now.Before(w.TypingUntil) }

type kefuKey struct{ platform, appID, openID string }

// kefuState holds the windows, under its own lock so customer-service
// traffic does not contend with subscribe sends on the store's lock.
type kefuState struct {
	mu      sync.Mutex
	windows map[kefuKey]*KefuWindow
}

func (k *kefuState) clear() {
	k.mu.Lock()
	k.windows = nil
	k.mu.Unlock()
}

// OpenKefuWindow records that the user sent a message to the app's
// customer service at at (the platform's user-message event): the window
// then allows 5 replies within 48 hours. The user becomes a user of the app.
func (s *Store) OpenKefuWindow(platform, appID, openID string, at time.Time) (KefuWindow, error) {
	return s.OpenKefuWindowBy(platform, appID, openID, KefuUserMessage, at)
}

// OpenKefuWindowBy records a user action that opens or renews the window.
func (s *Store) OpenKefuWindowBy(platform, appID, openID string, by KefuTrigger, at time.Time) (KefuWindow, error) {
	replies, life, ok := by.Allowance()
	if !ok {
		return KefuWindow{}, ErrUnknownTrigger
	}
	if _, err := s.AddUser(platform, appID, openID); err != nil {
		return KefuWindow{}, err
	}
	s.kefu.mu.Lock()
	defer s.kefu.mu.Unlock()
	if s.kefu.windows == nil {
		s.kefu.windows = map[kefuKey]*KefuWindow{}
	}
	k := kefuKey{platform, appID, openID}
	w := s.kefu.windows[k]
	if w == nil {
		w = &KefuWindow{Platform: platform, AppID: appID, OpenID: openID}
		s.kefu.windows[k] = w
	}
	deadline := at.Add(life)
	if w.Open(at) {
		replies = max(replies, w.Remaining)
		if w.Deadline.After(deadline) {
			deadline = w.Deadline
		}
	}
	w.Trigger, w.OpenedAt, w.Deadline, w.Remaining = by, at, deadline, replies
	if at.After(w.LastInteraction) {
		w.LastInteraction = at
	}
	return *w, nil
}

// KefuWindowOf returns the user's window (ok false when the user never
// opened one).
func (s *Store) KefuWindowOf(platform, appID, openID string) (KefuWindow, bool) {
	s.kefu.mu.Lock()
	defer s.kefu.mu.Unlock()
	w, ok := s.kefu.windows[kefuKey{platform, appID, openID}]
	if !ok {
		return KefuWindow{}, false
	}
	return *w, true
}

// KefuWindows lists an app's windows (one user's when openID is set),
// sorted by openid.
func (s *Store) KefuWindows(platform, appID, openID string) []KefuWindow {
	s.kefu.mu.Lock()
	defer s.kefu.mu.Unlock()
	var out []KefuWindow
	for k, w := range s.kefu.windows {
		if k.platform == platform && k.appID == appID && (openID == "" || k.openID == openID) {
			out = append(out, *w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpenID < out[j].OpenID })
	return out
}

// TakeKefuReply spends one reply of the user's window at now: ErrKefuClosed
// when there is no window or it has ended, ErrKefuExhausted when its replies
// are used up. A reply cancels the typing state and counts as an
// interaction. Concurrent replies never spend one allowance twice.
func (s *Store) TakeKefuReply(platform, appID, openID string, now time.Time) (KefuWindow, error) {
	s.kefu.mu.Lock()
	defer s.kefu.mu.Unlock()
	w, ok := s.kefu.windows[kefuKey{platform, appID, openID}]
	switch {
	case !ok || !w.Open(now):
		return KefuWindow{}, ErrKefuClosed
	case w.Remaining <= 0:
		return *w, ErrKefuExhausted
	}
	w.Remaining--
	w.Sent++
	w.TypingUntil = time.Time{}
	if now.After(w.LastInteraction) {
		w.LastInteraction = now
	}
	return *w, nil
}

// SetKefuTyping sets (typing true) or cancels the typing state at now. Both
// need an open window (ErrKefuClosed); setting it also needs a message
// exchange in the last 30 s (ErrKefuNoInteraction) and no typing state
// already showing (ErrKefuTyping). Cancelling when not typing is not an
// error.
func (s *Store) SetKefuTyping(platform, appID, openID string, typing bool, now time.Time) (KefuWindow, error) {
	s.kefu.mu.Lock()
	defer s.kefu.mu.Unlock()
	w, ok := s.kefu.windows[kefuKey{platform, appID, openID}]
	if !ok || !w.Open(now) {
		return KefuWindow{}, ErrKefuClosed
	}
	if !typing {
		w.TypingUntil = time.Time{}
		return *w, nil
	}
	switch {
	case now.Sub(w.LastInteraction) > KefuTypingNeedsInteraction:
		return *w, ErrKefuNoInteraction
	case w.Typing(now):
		return *w, ErrKefuTyping
	}
	w.TypingUntil = now.Add(KefuTypingLasts)
	return *w, nil
}

package dispatch_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/consent/consenttest"
	"github.com/minipush/minipush/sender/internal/dispatch"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/ratelimit"
)

// ledger is the consent store of these tests; user's entries are of
// app "app" and template "t".
type ledger struct{ consenttest.Store }

func newLedger() *ledger { return &ledger{} }

func key(user string) consent.Key { return consent.Key{App: "app", User: user, TemplateID: "t"} }

func (l *ledger) entry(user string) consent.Entry { return l.Entry(key(user)) }

func (l *ledger) set(user string, c consent.Change) { l.Set(key(user), c) }

func gatedDispatcher(st *store, c *client, l *ledger, mode consent.Mode) *dispatch.Dispatcher {
	apps := map[string]*dispatch.App{"app": {Name: "app", Platform: "wechat", Client: c,
		Shaper: ratelimit.New(0, 0, 0), Consent: consent.NewGate("app", mode, l, nil)}}
	return dispatch.New(st, apps, delivery(), slog.New(slog.DiscardHandler))
}

func to(user string) message.Message {
	m := messages(1)[0]
	m.To = user
	return m
}

func outcome(t *testing.T, st *store, c *client, d *dispatch.Dispatcher, n int) []record {
	t.Helper()
	stop := run(d)
	waitFor(t, "the outcomes", func() bool { return len(st.snapshot()) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return st.snapshot()
}

// Enforce: a message to a user who rejected the template, or whose
// credits the ledger saw spent, ends rejected with reason not_subscribed
// and never reaches the platform.
func TestConsentEnforceHoldsWithoutSending(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.set("rejecter", consent.Change{Kind: consent.Reject, Source: consent.SourceSettings})
	l.set("spent", consent.Change{Kind: consent.Accept})
	l.set("spent", consent.Change{Kind: consent.Take})
	for _, user := range []string{"rejecter", "spent"} {
		st, c := &store{queue: []message.Message{to(user)}}, &client{}
		rs := outcome(t, st, c, gatedDispatcher(st, c, l, consent.ModeEnforce), 1)
		u, a := rs[0].update, rs[0].attempt
		if u.Status != message.StatusRejected || u.Reason != message.ReasonNotSubscribed || u.LastCode != string(message.ReasonNotSubscribed) {
			t.Errorf("%s: update %+v, want rejected, reason not_subscribed", user, u)
		}
		if a == nil || a.Outcome != message.OutcomeRejected || a.Code != string(message.ReasonNotSubscribed) || a.Message == "" {
			t.Errorf("%s: attempt %+v", user, a)
		}
		if n := c.sent.Load(); n != 0 {
			t.Errorf("%s: %d platform calls, want none", user, n)
		}
	}
}

// Credits are spent by delivered sends only; a send that fails without
// using its credit gives it back.
func TestConsentCreditsFollowSends(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.set("alice", consent.Change{Kind: consent.Accept})
	l.set("alice", consent.Change{Kind: consent.Accept})

	busy := &client{send: func(context.Context, platform.Send) error {
		return &platform.Error{Platform: "wechat", Code: "-1", Class: message.OutcomeRetryable}
	}}
	st := &store{queue: []message.Message{to("alice")}}
	if rs := outcome(t, st, busy, gatedDispatcher(st, busy, l, consent.ModeEnforce), 1); rs[0].update.Status != message.StatusRetrying {
		t.Fatalf("busy platform: %+v", rs[0].update)
	}
	if e := l.entry("alice"); e.Credits != 2 {
		t.Fatalf("after a failed send: %d credits, want 2 (given back)", e.Credits)
	}

	ok := &client{}
	st = &store{queue: []message.Message{to("alice"), to("alice"), to("alice")}}
	rs := outcome(t, st, ok, gatedDispatcher(st, ok, l, consent.ModeEnforce), 3)
	delivered, held := 0, 0
	for _, r := range rs {
		switch r.update.Status {
		case message.StatusDelivered:
			delivered++
		case message.StatusRejected:
			held++
		}
	}
	if delivered != 2 || held != 1 || ok.sent.Load() != 2 {
		t.Errorf("3 messages on 2 credits: %d delivered, %d held, %d platform calls; want 2, 1, 2", delivered, held, ok.sent.Load())
	}
	if e := l.entry("alice"); e.Credits != 0 {
		t.Errorf("%d credits left, want 0", e.Credits)
	}
}

// The platform's not-subscribed answer fails the message as before (with
// reason not_subscribed) and teaches the ledger: the next message is held
// in enforce mode without a platform call.
func TestConsentLearnsFromPlatform(t *testing.T) {
	t.Parallel()
	l := newLedger()
	refuse := &client{send: func(context.Context, platform.Send) error {
		return &platform.Error{Platform: "wechat", Code: "43101", Class: message.OutcomePermanent, NotSubscribed: true}
	}}
	st := &store{queue: []message.Message{to("bob")}}
	rs := outcome(t, st, refuse, gatedDispatcher(st, refuse, l, consent.ModeEnforce), 1)
	if u := rs[0].update; u.Status != message.StatusFailed || u.LastCode != "43101" || u.Reason != message.ReasonNotSubscribed {
		t.Fatalf("43101: %+v, want failed 43101 with reason not_subscribed", u)
	}
	if e := l.entry("bob"); !e.Known() || e.Source != consent.SourcePlatform || e.Credits != 0 {
		t.Fatalf("ledger after 43101: %+v", e)
	}
	st = &store{queue: []message.Message{to("bob")}}
	rs = outcome(t, st, refuse, gatedDispatcher(st, refuse, l, consent.ModeEnforce), 1)
	if rs[0].update.Status != message.StatusRejected || refuse.sent.Load() != 1 {
		t.Errorf("the next message: %+v after %d calls, want held without a second call", rs[0].update, refuse.sent.Load())
	}
}

// Observe only counts: the message is sent whatever the ledger says.
func TestConsentObserveSends(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.set("carol", consent.Change{Kind: consent.Reject})
	c, st := &client{}, &store{queue: []message.Message{to("carol")}}
	rs := outcome(t, st, c, gatedDispatcher(st, c, l, consent.ModeObserve), 1)
	if rs[0].update.Status != message.StatusDelivered || c.sent.Load() != 1 {
		t.Errorf("observe: %+v after %d calls, want delivered", rs[0].update, c.sent.Load())
	}
}

// A ledger that cannot be read holds the message back for later rather
// than send to someone who may have said no.
func TestConsentUnreadableWaits(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.ReadErr = errors.New("disk I/O error")
	c, st := &client{}, &store{queue: []message.Message{to("dan")}}
	rs := outcome(t, st, c, gatedDispatcher(st, c, l, consent.ModeEnforce), 1)
	if u := rs[0].update; (u.Status != message.StatusQueued && u.Status != message.StatusRetrying) || rs[0].attempt != nil || c.sent.Load() != 0 {
		t.Errorf("unreadable ledger: %+v, attempt %+v, %d calls; want handed back unsent", u, rs[0].attempt, c.sent.Load())
	}
}

// slowGate is a consent gate that reads its ledger slowly (it has no
// Blind method, like a gate that reads the store).
type slowGate struct{ wait time.Duration }

func (g slowGate) Admit(context.Context, string, string) (consent.Ticket, error) {
	time.Sleep(g.wait)
	return consent.Ticket{Send: true}, nil
}

func (slowGate) Settle(context.Context, consent.Ticket, consent.Result) error { return nil }

// The send's own timeout starts when the send does, however long the
// consent gate took to read its ledger; with a gate that reads nothing
// (blind) the one deadline is still the send timeout at most, inside the
// lease (issue 15 gave that case a single context).
func TestSendTimeoutStartsAfterTheGate(t *testing.T) {
	t.Parallel()
	for name, gate := range map[string]dispatch.ConsentGate{
		"slow ledger": slowGate{wait: 500 * time.Millisecond},
		"blind":       consent.NewGate("app", consent.ModeObserve, newLedger(), nil, consent.WithoutEvents()),
		"none":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := delivery()
			cfg.Lease, cfg.SendTimeout = 5*time.Second, time.Second
			var (
				mu   sync.Mutex
				left time.Duration
			)
			c := &client{send: func(ctx context.Context, _ platform.Send) error {
				d, ok := ctx.Deadline()
				mu.Lock()
				left = time.Until(d)
				if !ok {
					left = -1
				}
				mu.Unlock()
				return nil
			}}
			st := &store{queue: messages(1)}
			apps := map[string]*dispatch.App{"app": {Name: "app", Platform: "wechat", Client: c,
				Shaper: ratelimit.New(0, 0, 0), Consent: gate}}
			stop := run(dispatch.New(st, apps, cfg, slog.New(slog.DiscardHandler)))
			waitFor(t, "the outcome", func() bool { return len(st.snapshot()) == 1 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if left < cfg.SendTimeout-250*time.Millisecond || left > cfg.SendTimeout {
				t.Fatalf("the send started %v before its deadline, want its whole timeout %v and no more", left, cfg.SendTimeout)
			}
			if r := st.snapshot()[0]; r.update.Status != message.StatusDelivered {
				t.Fatalf("update %+v, want delivered", r.update)
			}
		})
	}
}

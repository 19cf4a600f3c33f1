package consent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/consent/consenttest"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestApply(t *testing.T) {
	t.Parallel()
	unknown := consent.Entry{}
	credits := func(n int) consent.Entry { return consent.Entry{Credits: n, UpdatedAt: t0} }
	longTerm := consent.Entry{LongTerm: true, UpdatedAt: t0}
	rejected := consent.Entry{Rejected: true, Rejects: 1, UpdatedAt: t0}
	tests := []struct {
		name    string
		in      consent.Entry
		c       consent.Change
		want    consent.Entry // UpdatedAt and Source are checked apart
		changed bool
	}{
		{"accept one-time creates", unknown, consent.Change{Kind: consent.Accept}, consent.Entry{Credits: 1, Accepts: 1}, true},
		{"accept adds a credit", credits(2), consent.Change{Kind: consent.Accept}, consent.Entry{Credits: 3, Accepts: 1}, true},
		{"accept long-term", unknown, consent.Change{Kind: consent.Accept, LongTerm: true}, consent.Entry{LongTerm: true, Accepts: 1}, true},
		{"accept ends a rejection", rejected, consent.Change{Kind: consent.Accept}, consent.Entry{Credits: 1, Accepts: 1, Rejects: 1}, true},
		{"reject ends credits", credits(5), consent.Change{Kind: consent.Reject}, consent.Entry{Rejected: true, Rejects: 1}, true},
		{"reject ends a long-term grant", longTerm, consent.Change{Kind: consent.Reject}, consent.Entry{Rejected: true, Rejects: 1}, true},
		{"not subscribed creates a known empty entry", unknown, consent.Change{Kind: consent.NotSubscribed}, consent.Entry{}, true},
		{"not subscribed ends credits", credits(2), consent.Change{Kind: consent.NotSubscribed}, consent.Entry{}, true},
		{"not subscribed keeps a rejection", rejected, consent.Change{Kind: consent.NotSubscribed}, consent.Entry{Rejected: true, Rejects: 1}, true},
		{"take a credit", credits(2), consent.Change{Kind: consent.Take}, consent.Entry{Credits: 1}, true},
		{"take from unknown: nothing", unknown, consent.Change{Kind: consent.Take}, consent.Entry{}, false},
		{"take from none: nothing", credits(0), consent.Change{Kind: consent.Take}, consent.Entry{}, false},
		{"take under long-term: nothing", longTerm, consent.Change{Kind: consent.Take}, consent.Entry{LongTerm: true}, false},
		{"take after rejection: nothing", rejected, consent.Change{Kind: consent.Take}, consent.Entry{Rejected: true, Rejects: 1}, false},
		{"refund", credits(0), consent.Change{Kind: consent.Refund}, consent.Entry{Credits: 1}, true},
		{"refund to unknown: nothing", unknown, consent.Change{Kind: consent.Refund}, consent.Entry{}, false},
		{"refund after rejection: nothing", rejected, consent.Change{Kind: consent.Refund}, consent.Entry{Rejected: true, Rejects: 1}, false},
		{"unknown kind: nothing", credits(1), consent.Change{Kind: "bogus"}, consent.Entry{Credits: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := t0.Add(time.Hour)
			tc.c.Source = "test"
			got, changed := tc.c.Apply(tc.in, at)
			if changed != tc.changed {
				t.Fatalf("changed = %v, want %v", changed, tc.changed)
			}
			if changed && (!got.UpdatedAt.Equal(at) || got.Source != "test") {
				t.Errorf("a change must stamp time and source: %+v", got)
			}
			if !changed && got != tc.in {
				t.Errorf("no change, yet %+v became %+v", tc.in, got)
			}
			got.UpdatedAt, got.Source = time.Time{}, ""
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e      consent.Entry
		ok     bool
		reason string
	}{
		{consent.Entry{}, true, consent.ReasonUnknown},
		{consent.Entry{Credits: 1, UpdatedAt: t0}, true, consent.ReasonCredit},
		{consent.Entry{LongTerm: true, UpdatedAt: t0}, true, consent.ReasonLongTerm},
		{consent.Entry{UpdatedAt: t0}, false, consent.ReasonNoCredit},
		{consent.Entry{Rejected: true, Credits: 3, UpdatedAt: t0}, false, consent.ReasonRejected},
	}
	for _, tc := range tests {
		if ok, why := tc.e.Allows(); ok != tc.ok || why != tc.reason {
			t.Errorf("%+v: Allows() = %v %q, want %v %q", tc.e, ok, why, tc.ok, tc.reason)
		}
	}
}

type counter struct {
	mu      sync.Mutex
	held    map[string]int
	learned int
}

func (c *counter) Held(_ string, m consent.Mode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[string]int{}
	}
	c.held[string(m)+"/"+reason]++
}

func (c *counter) Learned(string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.learned++
}

func apply(t *testing.T, s *consenttest.Store, k consent.Key, c consent.Change) {
	t.Helper()
	if _, _, err := s.ApplyConsent(context.Background(), k, c, t0); err != nil {
		t.Fatal(err)
	}
}

func newMemStore() *consenttest.Store { return &consenttest.Store{} }

func TestGateEnforce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, obs := newMemStore(), &counter{}
	g := consent.NewGate("shop", consent.ModeEnforce, s, obs)
	k := consent.Key{App: "shop", User: "alice", TemplateID: "tpl"}

	// Unknown: sent, nothing written.
	tk, err := g.Admit(ctx, "alice", "tpl")
	if err != nil || !tk.Send || tk.Reason != consent.ReasonUnknown || s.Applied != 0 {
		t.Fatalf("unknown user: %+v %v (%d writes), want sent without a write", tk, err, s.Applied)
	}

	// Three accepts: three sends, the fourth held.
	for range 3 {
		apply(t, s, k, consent.Change{Kind: consent.Accept, Source: consent.SourcePopup})
	}
	for i := range 3 {
		tk, err := g.Admit(ctx, "alice", "tpl")
		if err != nil || !tk.Send {
			t.Fatalf("send %d: %+v %v", i+1, tk, err)
		}
		before := s.Applied
		if err := g.Settle(ctx, tk, consent.Used); err != nil {
			t.Fatal(err)
		}
		// The dispatcher settles a used credit without a deadline of its
		// own, because this writes nothing.
		if s.Applied != before {
			t.Fatalf("settling a used credit wrote %d changes, want none", s.Applied-before)
		}
	}
	tk, _ = g.Admit(ctx, "alice", "tpl")
	if tk.Send || tk.Reason != consent.ReasonNoCredit {
		t.Fatalf("fourth send: %+v, want held for no_credit", tk)
	}
	if obs.held["enforce/no_credit"] != 1 {
		t.Errorf("held counts %v", obs.held)
	}

	// A send that did not happen gives its credit back.
	apply(t, s, k, consent.Change{Kind: consent.Accept, Source: consent.SourcePopup})
	tk, _ = g.Admit(ctx, "alice", "tpl")
	if !tk.Send {
		t.Fatalf("after a new accept: %+v", tk)
	}
	if err := g.Settle(ctx, tk, consent.NotSent); err != nil {
		t.Fatal(err)
	}
	if e := s.Entry(k); e.Credits != 1 {
		t.Fatalf("after a send that did not happen: %+v, want the credit back", e)
	}

	// A rejection holds; a later accept resumes.
	apply(t, s, k, consent.Change{Kind: consent.Reject, Source: consent.SourceSettings})
	if tk, _ := g.Admit(ctx, "alice", "tpl"); tk.Send || tk.Reason != consent.ReasonRejected {
		t.Fatalf("after a rejection: %+v", tk)
	}
	apply(t, s, k, consent.Change{Kind: consent.Accept, Source: consent.SourcePopup})
	if tk, _ := g.Admit(ctx, "alice", "tpl"); !tk.Send {
		t.Fatalf("after a re-accept: %+v", tk)
	}
}

func TestGateLearnsNotSubscribed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, obs := newMemStore(), &counter{}
	g := consent.NewGate("shop", consent.ModeEnforce, s, obs)
	tk, _ := g.Admit(ctx, "bob", "tpl")
	if err := g.Settle(ctx, tk, consent.Refused); err != nil {
		t.Fatal(err)
	}
	if obs.learned != 1 {
		t.Errorf("learned %d, want 1", obs.learned)
	}
	if tk, _ := g.Admit(ctx, "bob", "tpl"); tk.Send || tk.Reason != consent.ReasonNoCredit {
		t.Fatalf("after the platform said not subscribed: %+v, want held", tk)
	}
}

func TestGateObserveSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, obs := newMemStore(), &counter{}
	g := consent.NewGate("shop", "", s, obs)
	if g.Mode() != consent.ModeObserve {
		t.Fatalf("default mode %q", g.Mode())
	}
	apply(t, s, consent.Key{App: "shop", User: "carol", TemplateID: "tpl"}, consent.Change{Kind: consent.Reject})
	tk, err := g.Admit(ctx, "carol", "tpl")
	if err != nil || !tk.Send || tk.Reason != consent.ReasonRejected {
		t.Fatalf("observe: %+v %v, want sent, reason rejected", tk, err)
	}
	if obs.held["observe/rejected"] != 1 {
		t.Errorf("held counts %v, want one observe/rejected", obs.held)
	}
}

// Without events, observe mode does not read the ledger before sends, and
// still learns from the platform's answers; enforce reads it regardless.
func TestGateWithoutEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, obs := newMemStore(), &counter{}
	apply(t, s, consent.Key{App: "shop", User: "erin", TemplateID: "tpl"}, consent.Change{Kind: consent.Reject})
	g := consent.NewGate("shop", consent.ModeObserve, s, obs, consent.WithoutEvents())
	tk, err := g.Admit(ctx, "erin", "tpl")
	if err != nil || !tk.Send || len(obs.held) != 0 {
		t.Fatalf("observe without events: %+v %v, held %v; want sent, nothing read or counted", tk, err, obs.held)
	}
	if err := g.Settle(ctx, tk, consent.Refused); err != nil || obs.learned != 1 {
		t.Fatalf("the 43101 was not learned: %v, learned %d", err, obs.learned)
	}
	if tk, _ := consent.NewGate("shop", consent.ModeEnforce, s, obs, consent.WithoutEvents()).Admit(ctx, "erin", "tpl"); tk.Send {
		t.Errorf("enforce ignored the ledger: %+v", tk)
	}
}

// Concurrent sends cannot spend one credit twice.
func TestGateConcurrentCredits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newMemStore()
	g := consent.NewGate("shop", consent.ModeEnforce, s, nil)
	k := consent.Key{App: "shop", User: "dan", TemplateID: "tpl"}
	for range 3 {
		apply(t, s, k, consent.Change{Kind: consent.Accept})
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent int
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := g.Admit(ctx, "dan", "tpl")
			if err != nil {
				t.Error(err)
				return
			}
			if tk.Send {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if sent != 3 {
		t.Fatalf("%d sends admitted on 3 credits", sent)
	}
}

func ExampleChange_Apply() {
	e := consent.Entry{}
	e, _ = consent.Change{Kind: consent.Accept, Source: consent.SourcePopup}.Apply(e, t0)
	e, _ = consent.Change{Kind: consent.Take, Source: consent.SourceSend}.Apply(e, t0)
	ok, why := e.Allows()
	fmt.Println(e.Credits, ok, why)
	// Output: 0 false no_credit
}

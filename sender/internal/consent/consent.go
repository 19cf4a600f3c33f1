// Package consent is the sender's consent ledger: per app × user ×
// template, what the platforms told the sender about a user's
// subscription — one-time credits added by popup accepts, long-term
// grants, rejections from a popup or the settings, and what a
// not-subscribed answer taught — and the gate the dispatcher asks before
// each send (docs/events.md).
//
// The ledger is only as good as what it heard. An entry exists once an
// event or a not-subscribed answer named that user and template; until
// then the ledger knows nothing and never holds a message back. Once it
// knows, in enforce mode a message to a user who rejected the template,
// or whose one-time credits the ledger has seen spent, ends rejected with
// reason not_subscribed without a platform call; observe mode only counts
// what enforce would have held back.
//
// Transitions are pure (Change.Apply); storage applies them atomically, so
// concurrent sends cannot spend one credit twice.
package consent

import (
	"context"
	"fmt"
	"time"
)

// Mode is how an app uses its ledger.
type Mode string

// Modes.
const (
	// ModeObserve (default) keeps the ledger and counts the sends enforce
	// would hold back, but sends them.
	ModeObserve Mode = "observe"
	// ModeEnforce holds back sends the ledger knows the user refused.
	ModeEnforce Mode = "enforce"
)

// Key names one ledger entry.
type Key struct {
	App        string
	User       string
	TemplateID string
}

func (k Key) String() string { return k.App + "/" + k.User + "/" + k.TemplateID }

// Sources of a change: where the ledger learned it.
const (
	SourcePopup    = "popup"    // the user answered a subscribe popup
	SourceSettings = "settings" // the user switched the template off (or on) in the settings
	SourceAction   = "action"   // a subscription action the platform reports without saying where (Douyin)
	SourcePlatform = "platform" // a send answered the platform's not-subscribed code
	SourceSend     = "send"     // a send took (or gave back) a one-time credit
)

// Entry is what the ledger knows of one user's subscription to one
// template.
type Entry struct {
	App        string `json:"app"`
	User       string `json:"user"`
	TemplateID string `json:"template_id"`
	// Credits is the one-time sends left, as far as the ledger knows.
	Credits int `json:"credits"`
	// LongTerm: the user holds a long-term grant.
	LongTerm bool `json:"long_term"`
	// Rejected: the user said no (popup or settings) and has not accepted
	// since.
	Rejected bool `json:"rejected"`
	// Source is where the last change came from (Source…).
	Source string `json:"source"`
	// Accepts and Rejects count the user's answers the ledger heard.
	Accepts int `json:"accepts"`
	Rejects int `json:"rejects"`
	// UpdatedAt is the last change; zero for an entry the ledger has
	// never heard of.
	UpdatedAt time.Time `json:"updated_at"`
}

// Known reports whether the ledger has heard of this user and template.
func (e Entry) Known() bool { return !e.UpdatedAt.IsZero() }

// Verdict reasons.
const (
	ReasonUnknown  = "unknown"   // nothing heard: the platform decides
	ReasonLongTerm = "long_term" // a long-term grant
	ReasonCredit   = "credit"    // a one-time credit left
	ReasonRejected = "rejected"  // the user rejected the template
	ReasonNoCredit = "no_credit" // the one-time credits the ledger knows of are spent
)

// Allows reports whether the ledger lets a message through, and why.
func (e Entry) Allows() (bool, string) {
	switch {
	case !e.Known():
		return true, ReasonUnknown
	case e.Rejected:
		return false, ReasonRejected
	case e.LongTerm:
		return true, ReasonLongTerm
	case e.Credits > 0:
		return true, ReasonCredit
	}
	return false, ReasonNoCredit
}

// Kind is what a change does.
type Kind string

// Kinds of change.
const (
	// Accept: the user accepted the template — one more one-time credit,
	// or a long-term grant — and any rejection ends.
	Accept Kind = "accept"
	// Reject: the user rejected it: credits and grant end until an accept.
	Reject Kind = "reject"
	// NotSubscribed: the platform answered a send with its
	// not-subscribed code: no credit and no grant left.
	NotSubscribed Kind = "not_subscribed"
	// Take: a send is about to use a one-time credit.
	Take Kind = "take"
	// Refund: a send that took a credit did not use it.
	Refund Kind = "refund"
)

// Change is one thing the ledger learns.
type Change struct {
	Kind Kind
	// LongTerm (Accept): a long-term grant rather than one credit.
	LongTerm bool
	// Source is where it came from (Source…).
	Source string
}

// Apply returns e after c at time at, and whether anything changed. Take
// and Refund change only entries the ledger knows, and never a rejection
// or a long-term grant; the others create the entry.
func (c Change) Apply(e Entry, at time.Time) (Entry, bool) {
	switch c.Kind {
	case Accept:
		e.Rejected = false
		if c.LongTerm {
			e.LongTerm = true
		} else {
			e.Credits++
		}
		e.Accepts++
	case Reject:
		e.Rejected, e.LongTerm, e.Credits = true, false, 0
		e.Rejects++
	case NotSubscribed:
		e.LongTerm, e.Credits = false, 0
	case Take:
		if !e.Known() || e.Rejected || e.LongTerm || e.Credits <= 0 {
			return e, false
		}
		e.Credits--
	case Refund:
		if !e.Known() || e.Rejected || e.LongTerm {
			return e, false
		}
		e.Credits++
	default:
		return e, false
	}
	e.Source, e.UpdatedAt = c.Source, at
	return e, true
}

// Valid reports whether c is a change Apply knows.
func (c Change) Valid() error {
	switch c.Kind {
	case Accept, Reject, NotSubscribed, Take, Refund:
		return nil
	}
	return fmt.Errorf("unknown consent change %q", c.Kind)
}

// Store is what the ledger needs from storage.
type Store interface {
	// Consent reads one entry (zero but for the key when unknown).
	Consent(ctx context.Context, k Key) (Entry, error)
	// ApplyConsent reads, applies c and writes one entry atomically.
	// before is the entry as it was (zero but for the key when unknown),
	// after as it is now.
	ApplyConsent(ctx context.Context, k Key, c Change, at time.Time) (before, after Entry, err error)
}

// Observer counts what the ledger does (metrics). Any method may be a
// no-op.
type Observer interface {
	// Held counts a send the ledger holds back (enforce) or would have
	// (observe), with the verdict's reason.
	Held(app string, mode Mode, reason string)
	// Learned counts a not-subscribed answer the ledger recorded.
	Learned(app string)
}

// Gate is one app's ledger as the dispatcher asks it.
type Gate struct {
	app   string
	mode  Mode
	store Store
	obs   Observer
	now   func() time.Time
	// blind: the gate does not read the ledger before a send (see
	// WithoutEvents); it still learns from not-subscribed answers.
	blind bool
}

// GateOption configures a Gate.
type GateOption func(*Gate)

// WithoutEvents is for an app whose platform pushes it nothing: in
// observe mode its gate does not read the ledger before each send — the
// ledger could hold back nothing, and the read would cost every send —
// while the platform's not-subscribed answers are still recorded. Enforce
// mode ignores it.
func WithoutEvents() GateOption { return func(g *Gate) { g.blind = true } }

// Blind reports whether Admit answers without reading the ledger (so
// without waiting on the store): the dispatcher then needs no deadline
// of its own around it.
func (g *Gate) Blind() bool { return g.blind }

// NewGate returns the gate of app in mode over store. obs may be nil.
func NewGate(app string, mode Mode, store Store, obs Observer, opts ...GateOption) *Gate {
	if mode == "" {
		mode = ModeObserve
	}
	if obs == nil {
		obs = nopObserver{}
	}
	g := &Gate{app: app, mode: mode, store: store, obs: obs, now: time.Now}
	for _, o := range opts {
		o(g)
	}
	g.blind = g.blind && mode != ModeEnforce
	return g
}

// Mode is the gate's mode.
func (g *Gate) Mode() Mode { return g.mode }

// Ticket is the gate's answer for one send.
type Ticket struct {
	key Key
	// Send: go ahead. False only in enforce mode.
	Send bool
	// Reason is the verdict's reason (Reason…).
	Reason string
	// took: a credit was taken for this send; Settle gives it back
	// unless the send used it.
	took bool
}

// Admit decides whether a message to user with template may be sent, and
// takes a one-time credit for it when the ledger counts them. Call Settle
// with the send's result.
//
// Most sends are to users the ledger never heard of, or who hold a
// long-term grant: a read tells, and only an entry with credits to count
// goes through storage's atomic Take — the writer every send already
// waits for once, to record its outcome.
func (g *Gate) Admit(ctx context.Context, user, templateID string) (Ticket, error) {
	k := Key{App: g.app, User: user, TemplateID: templateID}
	if g.blind {
		return Ticket{key: k, Send: true, Reason: ReasonUnknown}, nil
	}
	before, err := g.store.Consent(ctx, k)
	if err != nil {
		return Ticket{}, fmt.Errorf("consent of %s: %w", k, err)
	}
	after := before
	if ok, why := before.Allows(); ok && why == ReasonCredit {
		before, after, err = g.store.ApplyConsent(ctx, k, Change{Kind: Take, Source: SourceSend}, g.now())
		if err != nil {
			return Ticket{}, fmt.Errorf("consent of %s: %w", k, err)
		}
	}
	ok, why := before.Allows()
	t := Ticket{key: k, Send: true, Reason: why, took: after.Credits < before.Credits}
	if !ok {
		g.obs.Held(g.app, g.mode, why)
		t.Send = g.mode != ModeEnforce
	}
	return t, nil
}

// Result is how a send admitted by a ticket ended.
type Result int

// Results.
const (
	// NotSent: no platform call happened (released, shut down, rejected
	// by a check before the send), or it failed without using a credit.
	NotSent Result = iota
	// Used: the platform accepted the message: the credit is spent.
	Used
	// Refused: the platform answered its not-subscribed code.
	Refused
)

// Settle records how t's send ended: an unused credit goes back, a
// not-subscribed answer is learned. Used writes nothing (the credit was
// taken by Admit): the dispatcher settles it without a deadline of its own.
func (g *Gate) Settle(ctx context.Context, t Ticket, r Result) error {
	var c Change
	switch {
	case r == Refused:
		c = Change{Kind: NotSubscribed, Source: SourcePlatform}
		g.obs.Learned(g.app)
	case r == NotSent && t.took:
		c = Change{Kind: Refund, Source: SourceSend}
	default:
		return nil
	}
	if _, _, err := g.store.ApplyConsent(ctx, t.key, c, g.now()); err != nil {
		return fmt.Errorf("consent of %s: %w", t.key, err)
	}
	return nil
}

type nopObserver struct{}

func (nopObserver) Held(string, Mode, string) {}
func (nopObserver) Learned(string)            {}

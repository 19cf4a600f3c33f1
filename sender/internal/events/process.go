package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Processor defaults.
const (
	// DefaultPoll is how often pending events are looked for when nothing
	// wakes the processor (events stored by another process, or left by a
	// crash).
	DefaultPoll = time.Second
	// DefaultRetention keeps processed events a week: far longer than
	// any platform re-sends (WeChat about 20 s, Douyin three tries).
	DefaultRetention = 7 * 24 * time.Hour
	batch            = 64
	pruneEvery       = time.Hour
	maxBackoff       = 30 * time.Second
)

// Processor turns stored events into their effects — consent changes and
// receipts — one at a time in the order they arrived, each applied with
// its event's completion in one storage transaction: a crash leaves the
// event pending, and two processors cannot apply it twice.
type Processor struct {
	store Store
	apps  map[string]App
	log   *slog.Logger
	obs   Observer
	now   func() time.Time
	poll  time.Duration
	keep  time.Duration
	wake  chan struct{}
}

// NewProcessor returns the processor of apps' events.
func NewProcessor(apps []App, store Store, log *slog.Logger, opts ...Option) *Processor {
	o := buildOptions(opts)
	p := &Processor{store: store, apps: map[string]App{}, log: log, obs: o.obs, now: o.now, poll: o.poll, keep: o.keep,
		wake: make(chan struct{}, 1)}
	for _, a := range apps {
		p.apps[a.Name] = a
	}
	return p
}

// Wake tells the processor an event was stored.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	backoff := p.poll
	lastPrune := time.Time{}
	for ctx.Err() == nil {
		if err := p.drain(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("process platform events", "err", err)
			backoff = min(2*backoff, maxBackoff)
		} else {
			backoff = p.poll
		}
		if now := p.now(); now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			p.prune(ctx, now)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// drain processes pending events until none is left.
func (p *Processor) drain(ctx context.Context) error {
	for {
		es, err := p.store.PendingEvents(ctx, batch)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := p.process(ctx, e); err != nil {
				return err
			}
		}
		if len(es) < batch {
			return nil
		}
	}
}

func (p *Processor) process(ctx context.Context, e message.Event) error {
	fx := p.effects(e)
	err := p.store.CompleteEvent(ctx, e.ID, fx, p.now())
	switch {
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
		// Another processor completed it (or pruned it) first: its
		// effects stand, ours are not applied.
		return nil
	case err != nil:
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	for _, c := range fx.Consent {
		p.obs.Consent(e.App, string(c.Change.Kind))
	}
	for _, r := range fx.Receipts {
		p.obs.Receipt(e.App, string(r.Receipt.Status))
	}
	p.log.Debug("platform event processed", "app", e.App, "event", e.Name, "id", e.ID, "result", fx.Result)
	return nil
}

func (p *Processor) prune(ctx context.Context, now time.Time) {
	before := now.Add(-p.keep)
	total := 0
	for ctx.Err() == nil {
		n, err := p.store.PruneEvents(ctx, before)
		if err != nil {
			p.log.Error("prune processed platform events", "err", err)
			return
		}
		total += n
		if n < storage.PruneBatch {
			break
		}
	}
	if total > 0 {
		p.log.Info("pruned processed platform events", "count", total, "before", before)
	}
}

// effects is what e changes. An event the processor cannot read (a
// payload from a newer build, or damaged) is completed with no effect and
// a result saying so, rather than block the events behind it.
func (p *Processor) effects(e message.Event) storage.EventEffects {
	var pl Payload
	if err := json.Unmarshal(e.Payload, &pl); err != nil {
		return storage.EventEffects{Result: "unreadable: " + err.Error()}
	}
	app, ok := p.apps[e.App]
	if !ok {
		return storage.EventEffects{Result: "ignored: app " + e.App + " is no longer configured"}
	}
	switch pl.Platform {
	case "wechat":
		return wechatEffects(app, pl, e.ReceivedAt)
	case "douyin":
		return douyinEffects(app, pl)
	}
	return storage.EventEffects{Result: "ignored: platform " + pl.Platform}
}

func wechatEffects(app App, pl Payload, at time.Time) storage.EventEffects {
	var fx storage.EventEffects
	var words []string
	key := func(tpl string) consent.Key { return consent.Key{App: app.Name, User: pl.User, TemplateID: tpl} }
	switch pl.Event {
	case wxEventPopup, wxEventChange:
		source := consent.SourcePopup
		if pl.Event == wxEventChange {
			source = consent.SourceSettings
		}
		for _, it := range pl.Items {
			c := consent.Change{Kind: consent.Reject, Source: source}
			if it.Status == "accept" {
				c = consent.Change{Kind: consent.Accept, LongTerm: app.LongTerm[it.TemplateID], Source: source}
			}
			fx.Consent = append(fx.Consent, storage.ConsentChange{Key: key(it.TemplateID), Change: c})
			words = append(words, string(c.Kind)+" "+it.TemplateID)
		}
	case wxEventSent:
		for _, it := range pl.Items {
			r := message.Receipt{Status: message.ReceiptDelivered, ErrorCode: it.ErrorCode, ErrorStatus: it.ErrorStatus, At: at}
			if it.ErrorCode != "0" {
				r.Status = message.ReceiptFailed
			}
			fx.Receipts = append(fx.Receipts, storage.ReceiptUpdate{App: app.Name, PlatformMsgID: it.MsgID, Receipt: r})
			words = append(words, "receipt "+it.MsgID+" "+string(r.Status))
		}
	default:
		return storage.EventEffects{Result: "no effect: " + pl.Event}
	}
	fx.Result = strings.Join(words, ", ")
	return fx
}

func douyinEffects(app App, pl Payload) storage.EventEffects {
	if pl.Event != dyEventSubscribeAction || len(pl.Items) == 0 {
		return storage.EventEffects{Result: "no effect: " + pl.Event}
	}
	it := pl.Items[0]
	var c consent.Change
	switch it.Action {
	case dyActionOneTime:
		c = consent.Change{Kind: consent.Accept, Source: consent.SourceAction}
	case dyActionLongTerm:
		c = consent.Change{Kind: consent.Accept, LongTerm: true, Source: consent.SourceAction}
	case dyActionLongTermReject, dyActionOneTimeReject:
		c = consent.Change{Kind: consent.Reject, Source: consent.SourceAction}
	default:
		return storage.EventEffects{Result: "no effect: subscribe_action 0"}
	}
	k := consent.Key{App: app.Name, User: pl.User, TemplateID: it.TemplateID}
	return storage.EventEffects{Result: string(c.Kind) + " " + it.TemplateID,
		Consent: []storage.ConsentChange{{Key: k, Change: c}}}
}

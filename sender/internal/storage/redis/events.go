package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// event is a stored push's fixed fields (field j of e:<id>); p (processed
// ms, 0 while pending) and res (the result) are written when processed.
type event struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Platform string `json:"platform,omitempty"`
	Key      string `json:"key"`
	Name     string `json:"name,omitempty"`
	User     string `json:"user,omitempty"`
	Payload  []byte `json:"payload"`
	Received int64  `json:"received"`
}

func decodeEvent(h map[string]string) (message.Event, error) {
	var j event
	if err := json.Unmarshal([]byte(h["j"]), &j); err != nil {
		return message.Event{}, fmt.Errorf("decode event: %w", err)
	}
	if j.Payload == nil {
		j.Payload = []byte{}
	}
	return message.Event{ID: j.ID, App: j.App, Platform: j.Platform, Key: j.Key, Name: j.Name, User: j.User,
		Payload: j.Payload, ReceivedAt: fromMS(j.Received), ProcessedAt: fromMS(num(h["p"])), Result: h["res"]}, nil
}

// PutEvent implements storage.Store: the event's id into the global index
// and a seq (the order PendingEvents keeps across apps), then one script
// that stores it unless its dedupe key is taken.
func (s *Store) PutEvent(ctx context.Context, e message.Event) (message.Event, bool, error) {
	switch {
	case e.App == "":
		return message.Event{}, false, errors.New("put event: empty app")
	case e.Key == "":
		return message.Event{}, false, errors.New("put event: empty dedupe key")
	}
	if err := checkApp(e.App); err != nil {
		return message.Event{}, false, fmt.Errorf("put event: %w", err)
	}
	if err := s.begin(ctx); err != nil {
		return message.Event{}, false, err
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = s.now()
	}
	if e.ID == "" {
		e.ID = message.NewID("evt_", e.ReceivedAt)
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	e.ReceivedAt, e.ProcessedAt, e.Result = ms(e.ReceivedAt), time.Time{}, ""
	j, err := json.Marshal(event{ID: e.ID, App: e.App, Platform: e.Platform, Key: e.Key, Name: e.Name, User: e.User,
		Payload: e.Payload, Received: toMS(e.ReceivedAt)})
	if err != nil {
		return message.Event{}, false, fmt.Errorf("put event %s: %w", e.ID, err)
	}
	pipe := s.c.Pipeline()
	s.announce(pipe, ctx, e.App)
	seq := pipe.Incr(ctx, s.eseqKey())
	set := pipe.SetNX(ctx, s.eidKey(e.ID), e.App, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		if set.Val() {
			s.unreserve([]string{s.eidKey(e.ID)})
		}
		return message.Event{}, false, fmt.Errorf("put event %s: %w", e.ID, s.done(err))
	}
	s.markAnnounced(e.App)
	if !set.Val() {
		return message.Event{}, false, fmt.Errorf("put event %s: id taken: %w", e.ID, storage.ErrConflict)
	}
	v, err := s.write(ctx, e.App, "putEvent", e.ID, e.Key, seq.Val(), string(j))
	if err != nil {
		s.unreserve([]string{s.eidKey(e.ID)})
		return message.Event{}, false, scriptErr("put event "+e.ID, err)
	}
	if res, _ := v.([]any); len(res) == 2 && res[0] == "dup" {
		s.unreserve([]string{s.eidKey(e.ID)})
		first, err := decodeEvent(pairs(res[1]))
		return first, true, err
	}
	return e, false, nil
}

// PendingEvents implements storage.Store: each app's oldest pending
// events, merged by seq.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]message.Event, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	type pending struct {
		seq int64
		e   message.Event
	}
	var all []pending
	for _, app := range apps {
		v, err := s.run(ctx, app, "pendingEvents", limit).Result()
		if err != nil {
			return nil, fmt.Errorf("pending events: %w", classify(err))
		}
		res, _ := v.([]any)
		for i := 0; i+1 < len(res); i += 2 {
			e, err := decodeEvent(pairs(res[i+1]))
			if err != nil {
				return nil, fmt.Errorf("pending events: %w", err)
			}
			seq, _ := strconv.ParseInt(str(res[i]), 10, 64)
			all = append(all, pending{seq, e})
		}
	}
	slices.SortFunc(all, func(a, b pending) int { return int(a.seq - b.seq) })
	out := make([]message.Event, 0, min(limit, len(all)))
	for _, p := range all[:min(limit, len(all))] {
		out = append(out, p.e)
	}
	return out, nil
}

// Event implements storage.Store.
func (s *Store) Event(ctx context.Context, id string) (message.Event, error) {
	if err := s.begin(ctx); err != nil {
		return message.Event{}, err
	}
	app, err := s.c.Get(ctx, s.eidKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return message.Event{}, fmt.Errorf("event %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Event{}, fmt.Errorf("event %s: %w", id, classify(err))
	}
	h, err := s.c.HGetAll(ctx, s.appBase(app)+"e:"+id).Result()
	if err != nil {
		return message.Event{}, fmt.Errorf("event %s: %w", id, classify(err))
	}
	if len(h) == 0 {
		return message.Event{}, fmt.Errorf("event %s: %w", id, storage.ErrNotFound)
	}
	return decodeEvent(h)
}

// maxTxRetries bounds the optimistic transactions (WATCH … EXEC) that
// another writer of the same key keeps interrupting.
const maxTxRetries = 200

// CompleteEvent implements storage.Store. The mark, the consent changes
// and the receipts of the event's own app commit in one MULTI/EXEC under
// WATCH of the event and the ledger entries (the changes are computed by
// consent.Change.Apply in Go, so the rules live in one place). Receipts
// for another app's messages (another hash slot) are written first:
// writing a receipt twice writes the same value. A consent change of
// another app is refused: no part of the sender makes one, and it could
// not commit with the mark.
func (s *Store) CompleteEvent(ctx context.Context, id string, fx storage.EventEffects, at time.Time) error {
	for _, c := range fx.Consent {
		if err := c.Change.Valid(); err != nil {
			return fmt.Errorf("complete event %s: %w", id, err)
		}
	}
	for _, r := range fx.Receipts {
		if r.App == "" || r.PlatformMsgID == "" {
			return fmt.Errorf("complete event %s: a receipt needs an app and a platform msgid", id)
		}
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	app, err := s.c.Get(ctx, s.eidKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("complete event %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("complete event %s: %w", id, s.done(err))
	}
	for _, c := range fx.Consent {
		if c.Key.App != app {
			return fmt.Errorf("complete event %s: a consent change of app %s in an event of app %s", id, c.Key.App, app)
		}
	}
	// Other apps' receipts first, each app in one pipeline.
	for _, r := range fx.Receipts {
		if r.App == app {
			continue
		}
		pipe := s.c.TxPipeline()
		s.putReceipt(ctx, pipe, r)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("complete event %s: receipt %s: %w", id, r.PlatformMsgID, s.done(err))
		}
	}
	base := s.appBase(app)
	ekey := base + "e:" + id
	keys := []string{ekey}
	for _, c := range fx.Consent {
		keys = append(keys, s.consentKey(c.Key))
	}
	at = ms(at)
	for range maxTxRetries {
		err = s.c.Watch(ctx, func(tx *goredis.Tx) error {
			h, err := tx.HMGet(ctx, ekey, "p", "j").Result()
			if err != nil {
				return err
			}
			if h[1] == nil {
				return fmt.Errorf("complete event %s: %w", id, storage.ErrNotFound)
			}
			if str(h[0]) != "0" {
				return fmt.Errorf("complete event %s: processed already: %w", id, storage.ErrConflict)
			}
			var e event
			if err := json.Unmarshal([]byte(str(h[1])), &e); err != nil {
				return fmt.Errorf("complete event %s: %w", id, err)
			}
			entries := map[consent.Key]consent.Entry{}
			var order []consent.Key
			for _, c := range fx.Consent {
				cur, ok := entries[c.Key]
				if !ok {
					if cur, err = s.readConsent(ctx, tx, c.Key); err != nil {
						return err
					}
				}
				after, changed := c.Change.Apply(cur, at)
				entries[c.Key] = after
				if changed && !slices.Contains(order, c.Key) {
					order = append(order, c.Key)
				}
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.HSet(ctx, ekey, "p", toMS(at), "res", fx.Result)
				p.ZRem(ctx, base+"epending", id)
				p.ZAdd(ctx, base+"eproc", goredis.Z{Score: float64(e.Received), Member: id})
				for _, k := range order {
					s.putConsent(ctx, p, entries[k])
				}
				for _, r := range fx.Receipts {
					if r.App == app {
						s.putReceipt(ctx, p, r)
					}
				}
				return nil
			})
			return err
		}, keys...)
		if !errors.Is(err, goredis.TxFailedErr) {
			break
		}
	}
	switch {
	case err == nil:
		s.health.OK(time.Now())
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrConflict):
		return err
	}
	return fmt.Errorf("complete event %s: %w", id, s.done(err))
}

// putReceipt queues script receipt: the receipt, and its webhook event
// when it names a delivered message with a webhook. EVAL, not EVALSHA:
// inside MULTI a NOSCRIPT (Redis restarted) would fail this command alone
// and let the others commit.
func (s *Store) putReceipt(ctx context.Context, p goredis.Pipeliner, r storage.ReceiptUpdate) {
	rc := r.Receipt
	s.sc.app["receipt"].Eval(ctx, p, []string{s.appBase(r.App)}, r.PlatformMsgID, string(rc.Status), rc.ErrorCode,
		rc.ErrorStatus, toMS(rc.At), s.webhookScope(r.App))
}

// PruneEvents implements storage.Store: at most storage.PruneBatch in all,
// app by app.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	n := 0
	for _, app := range apps {
		v, err := s.run(ctx, app, "pruneEvents", toMS(before), storage.PruneBatch-n).Result()
		if err := s.done(err); err != nil {
			return n, fmt.Errorf("prune events: %w", err)
		}
		ids, _ := v.([]any)
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.eidKey(str(id))
		}
		s.unreserve(keys)
		if n += len(ids); n >= storage.PruneBatch {
			break
		}
	}
	return n, nil
}

// The consent ledger: one JSON value per entry (c:<user>\x00<template>),
// and cidx, the entries' names in order, for Consents.

func (s *Store) consentKey(k consent.Key) string {
	return s.appBase(k.App) + "c:" + k.User + "\x00" + k.TemplateID
}

func (s *Store) readConsent(ctx context.Context, c goredis.Cmdable, k consent.Key) (consent.Entry, error) {
	v, err := c.Get(ctx, s.consentKey(k)).Result()
	if errors.Is(err, goredis.Nil) {
		return consent.Entry{App: k.App, User: k.User, TemplateID: k.TemplateID}, nil
	}
	if err != nil {
		return consent.Entry{}, err
	}
	var e consent.Entry
	if err := json.Unmarshal([]byte(v), &e); err != nil {
		return consent.Entry{}, fmt.Errorf("consent %s: decode: %w", k, err)
	}
	return e, nil
}

func (s *Store) putConsent(ctx context.Context, p goredis.Pipeliner, e consent.Entry) {
	b, _ := json.Marshal(e)
	k := consent.Key{App: e.App, User: e.User, TemplateID: e.TemplateID}
	p.Set(ctx, s.consentKey(k), b, 0)
	p.ZAdd(ctx, s.appBase(e.App)+"cidx", goredis.Z{Member: e.User + "\x00" + e.TemplateID})
}

// Consent implements storage.Store.
func (s *Store) Consent(ctx context.Context, k consent.Key) (consent.Entry, error) {
	if err := s.begin(ctx); err != nil {
		return consent.Entry{}, err
	}
	if err := checkApp(k.App); err != nil {
		return consent.Entry{}, fmt.Errorf("consent %s: %w", k, err)
	}
	e, err := s.readConsent(ctx, s.c, k)
	if err != nil {
		return consent.Entry{}, fmt.Errorf("consent %s: %w", k, classify(err))
	}
	return e, nil
}

// ApplyConsent implements storage.Store: read, apply and write under
// WATCH, again when another writer changed the entry in between.
func (s *Store) ApplyConsent(ctx context.Context, k consent.Key, c consent.Change, at time.Time) (consent.Entry, consent.Entry, error) {
	if err := c.Valid(); err != nil {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %s: %w", k, err)
	}
	if k.App == "" || k.User == "" || k.TemplateID == "" {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %q: app, user and template are required", k)
	}
	if err := checkApp(k.App); err != nil {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %s: %w", k, err)
	}
	if err := s.begin(ctx); err != nil {
		return consent.Entry{}, consent.Entry{}, err
	}
	var before, after consent.Entry
	var err error
	for range maxTxRetries {
		err = s.c.Watch(ctx, func(tx *goredis.Tx) error {
			var err error
			if before, err = s.readConsent(ctx, tx, k); err != nil {
				return err
			}
			var changed bool
			if after, changed = c.Apply(before, ms(at)); !changed {
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				s.putConsent(ctx, p, after)
				return nil
			})
			return err
		}, s.consentKey(k))
		if !errors.Is(err, goredis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %s: %w", k, s.done(err))
	}
	s.health.OK(time.Now())
	return before, after, nil
}

// Consents implements storage.Store. The page is cut on the index
// (limit+1 names tell whether a next page exists), so an entry missing
// from under its name cannot end the list early.
func (s *Store) Consents(ctx context.Context, app, user string, after consent.Key, limit int) ([]consent.Entry, consent.Key, error) {
	if err := s.begin(ctx); err != nil {
		return nil, consent.Key{}, err
	}
	limit = storage.PageSize(limit)
	if checkApp(app) != nil {
		return []consent.Entry{}, consent.Key{}, nil
	}
	base := s.appBase(app)
	lo, hi := "-", "+"
	if user != "" {
		lo, hi = "["+user+"\x00", "("+user+"\x01"
	}
	// The cursor is a position in the order by user then template, with a
	// user filter too (as the SQLite driver's row comparison): one before
	// the user's entries lists them all, one after them none.
	if after != (consent.Key{}) {
		switch {
		case user == "" || after.User == user:
			lo = consentAfter(after)
		case after.User > user:
			return []consent.Entry{}, consent.Key{}, nil
		}
	}
	names, err := s.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: base + "cidx", Start: lo, Stop: hi, ByLex: true, Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, classify(err))
	}
	var next consent.Key
	if len(names) > limit {
		names = names[:limit]
		u, tpl, _ := strings.Cut(names[limit-1], "\x00")
		next = consent.Key{User: u, TemplateID: tpl}
	}
	out := []consent.Entry{}
	if len(names) == 0 {
		return out, next, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = base + "c:" + n
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, classify(err))
	}
	for _, v := range vals {
		if v == nil {
			continue
		}
		var e consent.Entry
		if err := json.Unmarshal([]byte(str(v)), &e); err != nil {
			return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, err)
		}
		out = append(out, e)
	}
	return out, next, nil
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// bcast is a broadcast's fixed fields (field j of b:<id>); recipients
// (n) and fanned out (f) are fields of their own, written by the scripts.
type bcast struct {
	ID         string            `json:"id"`
	App        string            `json:"app"`
	Platform   string            `json:"platform,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"tpl"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	SendAt     int64             `json:"send_at,omitempty"`
	Key        string            `json:"ikey,omitempty"`
	APIKey     string            `json:"akey,omitempty"`
	Created    int64             `json:"created"`
	// Dedup is the broadcast's own dedup settings, read by FanOut.
	Dedup *message.BroadcastDedup `json:"dd,omitempty"`
}

func decodeBroadcast(h map[string]string) (message.Broadcast, error) {
	var j bcast
	if err := json.Unmarshal([]byte(h["j"]), &j); err != nil {
		return message.Broadcast{}, fmt.Errorf("decode broadcast: %w", err)
	}
	return message.Broadcast{ID: j.ID, App: j.App, Platform: j.Platform, Group: j.Group, TemplateID: j.TemplateID,
		Data: j.Data, Page: j.Page, SendAt: fromMS(j.SendAt), IdempotencyKey: j.Key, APIKey: j.APIKey, CreatedAt: fromMS(j.Created),
		Recipients: int(num(h["n"])), FannedOut: int(num(h["f"])), Dedup: j.Dedup}, nil
}

// CreateBroadcast implements storage.Store. b.ID is required.
//
// To a list: the broadcast and its messages (at most the API's 10,000)
// are one script, all or none, after their ids were reserved in the
// global index (a taken one is storage.ErrConflict). Every message must
// belong to b.App: they share its hash slot.
//
// To a group: one script stores the broadcast with the group's current
// version and size, and queues it for FanOut.
func (s *Store) CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error) {
	if b.ID == "" || b.App == "" {
		return message.Broadcast{}, false, errors.New("create broadcast: empty id or app")
	}
	if err := checkApp(b.App); err != nil {
		return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
	}
	if err := s.begin(ctx); err != nil {
		return message.Broadcast{}, false, err
	}
	now := s.now()
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	b.CreatedAt, b.SendAt = ms(b.CreatedAt), ms(b.SendAt)
	j, err := json.Marshal(bcast{ID: b.ID, App: b.App, Platform: b.Platform, Group: b.Group, TemplateID: b.TemplateID,
		Data: b.Data, Page: b.Page, SendAt: toMS(b.SendAt), Key: b.IdempotencyKey, APIKey: b.APIKey, Created: toMS(b.CreatedAt), Dedup: b.Dedup})
	if err != nil {
		return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: encode: %w", b.ID, err)
	}
	op := "create broadcast " + b.ID
	rs := []reservation{{key: s.bidKey(b.ID), id: b.ID, app: b.App}}

	if b.Group != "" && len(msgs) == 0 {
		if _, err := s.reserve(ctx, rs, 0); err != nil {
			return message.Broadcast{}, false, fmt.Errorf("%s: %w", op, err)
		}
		v, err := s.write(ctx, b.App, "createGroup", b.ID, string(j), b.Group, b.IdempotencyKey, b.Fingerprint,
			toMS(now), toMS(b.CreatedAt))
		if err != nil {
			s.unreserve([]string{s.bidKey(b.ID)})
			return message.Broadcast{}, false, scriptErr(op, err)
		}
		res, _ := v.([]any)
		if len(res) == 2 && res[0] == "dup" {
			s.unreserve([]string{s.bidKey(b.ID)})
			first, err := decodeBroadcast(pairs(res[1]))
			return first, true, err
		}
		b.Recipients, b.FannedOut = int(num(res[1])), 0
		return b, false, nil
	}

	if b.Recipients == 0 {
		b.Recipients = len(msgs)
	}
	b.FannedOut = len(msgs)
	out := make([]message.Message, len(msgs))
	for i := range msgs {
		m := msgs[i]
		if m.IdempotencyKey != "" {
			return message.Broadcast{}, false, fmt.Errorf("%s: message %d has an idempotency key: the broadcast carries the key", op, i)
		}
		switch m.BroadcastID {
		case "":
			m.BroadcastID = b.ID
		case b.ID:
		default:
			return message.Broadcast{}, false, fmt.Errorf("%s: message %s belongs to broadcast %s", op, m.ID, m.BroadcastID)
		}
		if m.App != b.App {
			return message.Broadcast{}, false, fmt.Errorf("%s: message %s is of app %s, the broadcast of %s", op, m.ID, m.App, b.App)
		}
		if out[i], err = normalize(m, now); err != nil {
			return message.Broadcast{}, false, fmt.Errorf("%s: %w", op, err)
		}
		rs = append(rs, reservation{key: s.midKey(out[i].ID), id: out[i].ID, app: b.App})
	}
	seq0, err := s.reserve(ctx, rs, len(out))
	if err != nil {
		return message.Broadcast{}, false, fmt.Errorf("%s: %w", op, err)
	}
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.key
	}
	args := make([]any, 0, 6+len(out)*14)
	args = append(args, b.ID, string(j), b.Recipients, b.IdempotencyKey, b.Fingerprint, toMS(now))
	for i := range out {
		if args, err = newArgs(args, &out[i], seq0+int64(i)); err != nil {
			s.unreserve(keys)
			return message.Broadcast{}, false, fmt.Errorf("%s: %w", op, err)
		}
	}
	v, err := s.write(ctx, b.App, "createList", args...)
	if err != nil {
		s.unreserve(keys)
		return message.Broadcast{}, false, scriptErr(op, err)
	}
	res, _ := v.([]any)
	if len(res) == 2 && res[0] == "dup" {
		s.unreserve(keys)
		first, err := decodeBroadcast(pairs(res[1]))
		return first, true, err
	}
	if len(res) == 2 {
		for _, a := range admittedOf(res[1]) {
			if a.x >= 1 && a.x <= len(msgs) {
				storage.Admitted(&msgs[a.x-1], a.m)
			}
		}
	}
	return b, false, nil
}

// admitted is an entry of the scripts' admitted answers: message x (1-based)
// as its admission stored it.
type admittedMsg struct {
	x int
	m message.Message
}

func admittedOf(v any) []admittedMsg {
	list, _ := v.([]any)
	out := make([]admittedMsg, 0, len(list))
	for _, e := range list {
		f, _ := e.([]any)
		if len(f) != 6 {
			continue
		}
		str := func(i int) string { s, _ := f[i].(string); return s }
		out = append(out, admittedMsg{x: int(num(f[0])), m: message.Message{Status: message.Status(str(1)),
			NextAttemptAt: fromMS(num(f[2])), HeldReason: message.HeldReason(str(3)), Reason: reason.Reason(str(4)),
			DuplicateOf: str(5)}})
	}
	return out
}

// Broadcast implements storage.Store. The counts map has every status,
// zero included: the scripts keep each broadcast's counts as its
// messages change.
func (s *Store) Broadcast(ctx context.Context, id string) (message.Broadcast, map[message.Status]int, error) {
	if err := s.begin(ctx); err != nil {
		return message.Broadcast{}, nil, err
	}
	app, err := s.c.Get(ctx, s.bidKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, classify(err))
	}
	v, err := s.run(ctx, app, "broadcast", id).Result()
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, classify(err))
	}
	res, _ := v.([]any)
	h := pairs(res[0])
	if len(h) == 0 {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, storage.ErrNotFound)
	}
	b, err := decodeBroadcast(h)
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, err)
	}
	counts := zeroCounts()
	addCounts(counts, pairs(res[1]))
	return b, counts, nil
}

// FanOut implements storage.Store: the oldest unfinished group broadcast
// of all apps gets its next limit messages in one script, which also
// moves its position past them. The ids are reserved in the global index
// first (the unused ones of the last step are given back).
func (s *Store) FanOut(ctx context.Context, limit int) (int, bool, error) {
	if limit <= 0 {
		return 0, false, nil
	}
	if err := s.begin(ctx); err != nil {
		return 0, false, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("fan out: %w", err)
	}
	pipe := s.c.Pipeline()
	heads := make([]*goredis.ZSliceCmd, len(apps))
	for i, app := range apps {
		heads[i] = pipe.ZRangeWithScores(ctx, s.appBase(app)+"fanout", 0, 0)
	}
	if len(apps) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return 0, false, fmt.Errorf("fan out: %w", s.done(err))
		}
	}
	var (
		app, bid string
		best     goredis.Z
		others   bool
	)
	for i, h := range heads {
		for _, z := range h.Val() {
			m := fmt.Sprint(z.Member)
			if bid == "" || z.Score < best.Score || (z.Score == best.Score && m < bid) {
				if bid != "" {
					others = true
				}
				app, bid, best = apps[i], m, z
			} else {
				others = true
			}
		}
	}
	if bid == "" {
		return 0, false, nil
	}
	j, err := s.c.HGet(ctx, s.appBase(app)+"b:"+bid, "j").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, true, nil // gone meanwhile: the next step looks again
	}
	if err != nil {
		return 0, false, fmt.Errorf("fan out: %w", s.done(err))
	}
	b, err := decodeBroadcast(map[string]string{"j": j})
	if err != nil {
		return 0, false, fmt.Errorf("fan out %s: %w", bid, err)
	}
	now := s.now()
	due := b.SendAt
	if due.IsZero() {
		due = now
	}
	tmpl, err := json.Marshal(body{App: b.App, Platform: b.Platform, TemplateID: b.TemplateID, Data: b.Data, Page: b.Page,
		Created: toMS(now), SendAt: toMS(b.SendAt), APIKey: b.APIKey})
	if err != nil {
		return 0, false, fmt.Errorf("fan out %s: %w", bid, err)
	}
	prefix, ok := strings.CutSuffix(string(tmpl), `""}`)
	if !ok {
		return 0, false, fmt.Errorf("fan out %s: unexpected body %s", bid, tmpl)
	}
	// With campaign rules (a probe of the broadcast's first message says
	// whether its app has any), each member is admitted in the script:
	// steps of at most maxRuledStep members keep the script — which holds
	// Redis — as short as a plain step.
	admitF := s.AdmitAtFanOut()
	if admitF != nil {
		probe := message.Message{App: b.App, Platform: b.Platform, TemplateID: b.TemplateID, BroadcastID: b.ID,
			Status: message.StatusQueued, NextAttemptAt: due}
		admitF(b, &probe)
		if probe.Admission == nil && probe.HeldReason == "" {
			admitF = nil
		} else {
			limit = min(limit, maxRuledStep)
		}
	}
	rs := make([]reservation, limit)
	for i := range rs {
		id := message.NewID("msg_", now)
		rs[i] = reservation{key: s.midKey(id), id: id, app: app}
	}
	seq0, err := s.reserve(ctx, rs, limit)
	if err != nil {
		return 0, false, fmt.Errorf("fan out %s: %w", bid, err)
	}
	args := make([]any, 0, 6+limit)
	args = append(args, bid, limit, toMS(now), toMS(due), prefix, "}")
	for i, r := range rs {
		args = append(args, member(seq0+int64(i), r.id))
	}
	var prepared []message.Message // with campaign rules: the step's messages, by member
	if admitF != nil {
		if args, prepared, err = s.fanOutRules(ctx, admitF, app, b, due, rs, args); err != nil {
			s.unreserve(keysOf(rs))
			return 0, false, fmt.Errorf("fan out %s: %w", bid, err)
		}
	}
	v, err := s.run(ctx, app, "fanout", args...).Result()
	if err := s.done(err); err != nil {
		s.unreserve(keysOf(rs))
		return 0, false, fmt.Errorf("fan out %s: %w", bid, err)
	}
	res, _ := v.([]any)
	n, left := int(num(res[0])), num(res[1])
	if n < 0 { // another step moved the position: look again
		s.unreserve(keysOf(rs))
		return 0, true, nil
	}
	if f := s.AdmittedAtFanOut(); f != nil && len(res) == 3 && len(prepared) > 0 {
		var ms []message.Message
		for _, a := range admittedOf(res[2]) {
			if a.x >= 1 && a.x <= len(prepared) {
				m := prepared[a.x-1]
				m.Admission = nil
				storage.Admitted(&m, a.m)
				ms = append(ms, m)
			}
		}
		if len(ms) > 0 {
			f(b, ms)
		}
	}
	s.unreserve(keysOf(rs[n:]))
	return n, others || left > 0, nil
}

func keysOf(rs []reservation) []string {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.key
	}
	return keys
}

// maxRuledStep bounds a fan-out step with campaign rules: admitting a
// member is about twice the script work of inserting one
// (BenchmarkFanOutCampaign).
const maxRuledStep = 500

// fanOutRules appends the campaign-rule arguments of the fanout script:
// the members of the step are read here (the admissions name the users),
// each message prepared by f, and the script applies them only if the
// position it reads is the one they were read from — the check and the
// entries in the script's one write. args are returned unchanged when no
// member has anything to apply.
func (s *Store) fanOutRules(ctx context.Context, f storage.FanOutAdmit, app string, b message.Broadcast, due time.Time,
	rs []reservation, args []any) ([]any, []message.Message, error) {
	base := s.appBase(app)
	h, err := s.c.HMGet(ctx, base+"b:"+b.ID, "v", "after").Result()
	if err != nil {
		return nil, nil, s.done(err)
	}
	ver, _ := h[0].(string)
	after, ok := h[1].(string)
	if !ok { // done meanwhile: the script answers so
		return args, nil, nil
	}
	lo := "-"
	if after != "" {
		lo = "(" + after
	}
	ms, err := s.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: base + "gm:" + ver, Start: lo, Stop: "+", ByLex: true,
		Count: int64(len(rs))}).Result()
	if err != nil {
		return nil, nil, s.done(err)
	}
	extra := make([]any, 0, 1+3*len(ms))
	extra = append(extra, after)
	prepared := make([]message.Message, len(ms))
	ruled := false
	for i, to := range ms {
		m := &prepared[i]
		*m = message.Message{ID: rs[i].id, App: b.App, Platform: b.Platform, To: to, TemplateID: b.TemplateID,
			BroadcastID: b.ID, Status: message.StatusQueued, NextAttemptAt: due, SendAt: b.SendAt, APIKey: b.APIKey}
		f(b, m)
		ad, err := admissionArg(m.Admission)
		if err != nil {
			return nil, nil, err
		}
		ruled = ruled || ad != "" || m.HeldReason != "" || !m.NextAttemptAt.Equal(due)
		extra = append(extra, toMS(m.NextAttemptAt), string(m.HeldReason), ad)
	}
	if !ruled {
		return args, nil, nil
	}
	return append(args, extra...), prepared, nil
}

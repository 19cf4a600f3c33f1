package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// groupChunk members go in one ZADD: a million members never make one
// large write.
const groupChunk = 2000

// stagingTimeout: a staging version not written for this long belongs to
// a PUT that died (its instance was killed); Sweep retires it. No live PUT
// pauses that long between two chunks: the HTTP server's read timeout
// ends a stalled body long before.
const stagingTimeout = time.Hour

// groupKeyRef is what a group write's idempotency key records: the group
// as written, or the deletion (the same JSON as the SQLite backend's).
type groupKeyRef struct {
	App     string    `json:"app"`
	Name    string    `json:"name"`
	Size    int       `json:"size"`
	At      time.Time `json:"at"`
	Deleted bool      `json:"deleted,omitempty"`
}

func groupAnswer(ref string) (message.Group, error) {
	var r groupKeyRef
	if err := json.Unmarshal([]byte(ref), &r); err != nil {
		return message.Group{}, fmt.Errorf("read idempotency record: %w", err)
	}
	return message.Group{App: r.App, Name: r.Name, Size: r.Size, UpdatedAt: r.At}, nil
}

// PutGroup implements storage.Store. The members go under a new version
// (staging: invisible) in chunks of groupChunk; the last script points the
// group at it and retires the previous one. A PUT that fails retires its
// version; one whose instance dies is retired by Sweep after
// stagingTimeout.
func (s *Store) PutGroup(ctx context.Context, app, name string, members iter.Seq2[string, error], key string, fingerprint func() string) (message.Group, bool, error) {
	return s.putGroup(ctx, app, name, func(yield func(message.Member, error) bool) {
		for m, err := range members {
			if !yield(message.Member{To: m}, err) {
				return
			}
		}
	}, nil, key, fingerprint)
}

// PutAudience implements storage.Audiences: PutGroup with each member's
// keyword values in the hash gd:<version> (the first row of a member
// stands) and the report in the group's field rep.
func (s *Store) PutAudience(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], report func() *message.AudienceReport, key string, fingerprint func() string) (message.Group, bool, error) {
	if report == nil {
		report = func() *message.AudienceReport { return &message.AudienceReport{Errors: []message.RowError{}} }
	}
	return s.putGroup(ctx, app, name, members, report, key, fingerprint)
}

func (s *Store) putGroup(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], report func() *message.AudienceReport, key string, fingerprint func() string) (message.Group, bool, error) {
	op := fmt.Sprintf("put group %s/%s", app, name)
	if err := checkApp(app); err != nil {
		return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.begin(ctx); err != nil {
		return message.Group{}, false, err
	}
	base := s.appBase(app)
	if key != "" {
		// A key already taken skips the writing: the members are only
		// read, for the fingerprint to compare.
		h, err := s.c.HMGet(ctx, base+"ik:group:"+key, "fp", "ref").Result()
		if err != nil {
			return message.Group{}, false, fmt.Errorf("%s: %w", op, classify(err))
		}
		if h[1] != nil {
			for _, err := range members {
				if err != nil {
					return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
				}
			}
			if fp, got := str(h[0]), fingerprint(); fp != "" && got != "" && got != fp {
				return message.Group{}, false, fmt.Errorf("%s: idempotency key %q: %w", op, key, storage.ErrIdempotencyMismatch)
			}
			g, err := groupAnswer(str(h[1]))
			if err != nil {
				return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
			}
			return g, true, nil
		}
	}
	pipe := s.c.Pipeline()
	s.announce(pipe, ctx, app)
	if _, err := pipe.Exec(ctx); err != nil {
		return message.Group{}, false, fmt.Errorf("%s: %w", op, s.done(err))
	}
	s.markAnnounced(app)
	version, err := s.run(ctx, app, "stageGroup", toMS(time.Now())).Int64()
	if err := s.done(err); err != nil {
		return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
	}
	retire := func() {
		// Detached: the caller's context may be why we stop.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
		defer cancel()
		_ = s.run(rctx, app, "retireGroup", version).Err()
	}
	fail := func(err error) (message.Group, bool, error) {
		retire()
		return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
	}
	vkey := fmt.Sprintf("%sgm:%d", base, version)
	dkey := fmt.Sprintf("%sgd:%d", base, version)
	chunk := make([]goredis.Z, 0, groupChunk)
	var own []any // member, JSON data, … of the chunk
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pipe := s.c.Pipeline()
		pipe.ZAdd(ctx, vkey, chunk...)
		for i := 0; i < len(own); i += 2 {
			pipe.HSetNX(ctx, dkey, own[i].(string), own[i+1])
		}
		own = own[:0]
		pipe.ZAdd(ctx, base+"gstaging", goredis.Z{Score: float64(time.Now().UnixMilli()), Member: version})
		_, err := pipe.Exec(ctx)
		chunk = chunk[:0]
		return s.done(err)
	}
	for m, err := range members {
		if err != nil {
			return fail(err)
		}
		if m.Data != nil { // even {}: the first row of a member stands
			b, err := json.Marshal(m.Data)
			if err != nil {
				return fail(err)
			}
			own = append(own, m.To, string(b))
		}
		if chunk = append(chunk, goredis.Z{Member: m.To}); len(chunk) == groupChunk {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	at := ms(s.now())
	fp := ""
	if key != "" {
		fp = fingerprint()
	}
	atJSON, _ := json.Marshal(at)
	var atStr string
	_ = json.Unmarshal(atJSON, &atStr)
	var rep *message.AudienceReport
	repJSON := ""
	if report != nil {
		rep = report()
		b, err := json.Marshal(rep)
		if err != nil {
			return fail(err)
		}
		repJSON = string(b)
	}
	v, err := s.write(ctx, app, "commitGroup", name, version, key, fp, app, atStr, toMS(at), repJSON)
	if err != nil {
		return fail(scriptErr("commit", err))
	}
	res, _ := v.([]any)
	if len(res) == 2 && res[0] == "dup" { // an identical PUT finished while this one streamed
		retire()
		g, err := groupAnswer(str(res[1]))
		return g, true, err
	}
	return message.Group{App: app, Name: name, Size: int(num(res[1])), UpdatedAt: at, CSV: rep}, false, nil
}

// Group implements storage.Store.
func (s *Store) Group(ctx context.Context, app, name, after string, limit int) (message.Group, []string, string, error) {
	op := fmt.Sprintf("get group %s/%s", app, name)
	if err := s.begin(ctx); err != nil {
		return message.Group{}, nil, "", err
	}
	if err := checkApp(app); err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	v, err := s.run(ctx, app, "group", name, after, max(limit, 0)+min(max(limit, 0), 1)).Result()
	if err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, classify(err))
	}
	res, _ := v.([]any)
	if len(res) != 2 {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	h := pairs(res[0])
	g := message.Group{App: app, Name: name, Size: int(num(h["size"])), UpdatedAt: fromMS(num(h["at"]))}
	if rep, ok := h["rep"]; ok && str(rep) != "" {
		g.CSV = new(message.AudienceReport)
		if err := json.Unmarshal([]byte(str(rep)), g.CSV); err != nil {
			return message.Group{}, nil, "", fmt.Errorf("%s: decode report: %w", op, err)
		}
	}
	raw, _ := res[1].([]any)
	members := make([]string, 0, len(raw))
	for _, m := range raw {
		members = append(members, str(m))
	}
	if limit <= 0 || len(members) <= limit {
		return g, members, "", nil
	}
	members = members[:limit]
	return g, members, members[limit-1], nil
}

// DeleteGroup implements storage.Store. Its members are swept later, once
// no broadcast fans out from them.
func (s *Store) DeleteGroup(ctx context.Context, app, name string, idem storage.Idempotency) (bool, error) {
	op := fmt.Sprintf("delete group %s/%s", app, name)
	if err := checkApp(app); err != nil {
		return false, fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	at := ms(s.now())
	ref, _ := json.Marshal(groupKeyRef{App: app, Name: name, Deleted: true, At: at})
	v, err := s.write(ctx, app, "deleteGroup", name, idem.Key, idem.Fingerprint, string(ref), toMS(at))
	if err != nil {
		return false, scriptErr(op, err)
	}
	return v == "dup", nil
}

// Sweep implements storage.Store: expired idempotency keys first, app by
// app, up to limit; when none is left, the members of one retired group
// version no fan-out reads (at most limit, +1 for the emptied version).
func (s *Store) Sweep(ctx context.Context, keysBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	n := 0
	for _, app := range apps {
		k, err := s.run(ctx, app, "sweepKeys", toMS(keysBefore), limit-n).Int()
		if err := s.done(err); err != nil {
			return n, fmt.Errorf("sweep: %w", err)
		}
		if n += k; n >= limit {
			break
		}
	}
	if n > 0 {
		return n, nil
	}
	stale := toMS(time.Now().Add(-stagingTimeout))
	for _, app := range apps {
		k, err := s.run(ctx, app, "sweepGroups", limit, stale).Int()
		if err := s.done(err); err != nil && !errors.Is(err, goredis.Nil) {
			return 0, fmt.Errorf("sweep: %w", err)
		}
		if k > 0 {
			return k, nil
		}
	}
	return 0, nil
}

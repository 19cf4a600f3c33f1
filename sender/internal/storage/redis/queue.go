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

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Claim implements storage.Store. Each app's claim is one script: it
// takes the due messages (sorted set due, scored by due time) and the
// expired leases (sorted set lease, scored by the lease's end) up to
// the time the caller gives, oldest due first, marks them sending,
// counts the claim (the fence) and moves them into lease at now+lease.
// Two instances claiming at once are serialised by Redis: a message is
// leased once. After an interruption (claimPulse) expired leases are held
// back for Config.ResumeGrace: their owners may hold outcomes to write.
//
// With several apps, one round trip first reads the head of every app's
// queue, so that the limit goes to the oldest due messages across apps;
// then each app with a share runs its script. Delayed messages (backoff,
// send_at) cost nothing until they are due: nothing polls them.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim: lease %v: must be positive", lease)
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, s.done(fmt.Errorf("claim: %w", err))
	}
	hold, err := s.holdLeases(ctx)
	if err != nil {
		return nil, s.done(fmt.Errorf("claim: %w", err))
	}
	nowMS, untilMS := toMS(now), toMS(now.Add(lease))
	share := map[string]int{}
	var rank map[string]int // queue member → place in the global order
	switch len(apps) {
	case 0:
		return nil, nil
	case 1:
		share[apps[0]] = limit
	default:
		if share, rank, err = s.peekDue(ctx, apps, nowMS, limit, hold); err != nil {
			return nil, s.done(fmt.Errorf("claim: %w", err))
		}
	}
	var out []message.Message
	for _, app := range apps {
		n := share[app]
		if n == 0 {
			continue
		}
		v, err := s.run(ctx, app, "claim", nowMS, untilMS, n, nowMS, hold).Result()
		if err := s.done(err); err != nil {
			// What earlier apps' scripts leased comes back after the lease:
			// handing it out without the rest would be as good, but the
			// caller cannot tell a partial claim from a failed one.
			return out, fmt.Errorf("claim: %w", err)
		}
		res, _ := v.([]any)
		for i := 0; i+2 < len(res); i += 3 {
			id := str(res[i+1])
			m, err := decodeMsg(id, res[i+2], false)
			if err != nil {
				return nil, fmt.Errorf("claim: %w", err)
			}
			m.Lease = message.Lease{Fence: num(res[i]), Until: fromMS(untilMS)}
			s.idApp.put(id, app)
			out = append(out, m)
		}
	}
	if rank != nil {
		// Oldest due first across apps, as peeked; anything claimed that
		// the peek did not see (it raced another claimer) last.
		key := func(m message.Message) int {
			if r, ok := rank[m.ID]; ok {
				return r
			}
			return len(rank)
		}
		slices.SortStableFunc(out, func(a, b message.Message) int { return key(a) - key(b) })
	}
	return out, nil
}

// holdLeases notes this claim (claimPulse) and answers 1 while expired
// leases are held back after an interruption, else 0.
func (s *Store) holdLeases(ctx context.Context) (int, error) {
	if s.cfg.ResumeGrace < 0 {
		return 0, nil
	}
	left, err := s.sc.global["claimPulse"].Run(ctx, s.c, []string{s.claimsKey()},
		s.cfg.ResumeGap.Milliseconds(), s.cfg.ResumeGrace.Milliseconds()).Int64()
	if err != nil {
		return 0, err
	}
	if left <= 0 {
		s.holding.Store(false)
		return 0, nil
	}
	if !s.holding.Swap(true) {
		s.log.Warn("claims were interrupted (Redis away, or every instance): expired leases are held back so their owners can write their outcomes first",
			"for", (time.Duration(left) * time.Millisecond).String())
	}
	return 1, nil
}

// peekDue reads up to limit due entries and, unless hold, the expired
// leases of every app and shares limit out to the oldest.
func (s *Store) peekDue(ctx context.Context, apps []string, nowMS int64, limit, hold int) (map[string]int, map[string]int, error) {
	pipe := s.c.Pipeline()
	type peek struct {
		app        string
		due, lease *goredis.ZSliceCmd
	}
	peeks := make([]peek, len(apps))
	max := strconv.FormatInt(nowMS, 10)
	for i, app := range apps {
		base := s.appBase(app)
		peeks[i] = peek{app: app,
			due: pipe.ZRangeArgsWithScores(ctx, goredis.ZRangeArgs{Key: base + "due", Start: "-inf", Stop: max, ByScore: true, Count: int64(limit)})}
		if hold == 0 {
			peeks[i].lease = pipe.ZRangeArgsWithScores(ctx, goredis.ZRangeArgs{Key: base + "lease", Start: "-inf", Stop: max, ByScore: true, Count: int64(limit)})
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, classify(err)
	}
	type entry struct {
		app    string
		score  float64
		member string
	}
	var all []entry
	for _, p := range peeks {
		zs := p.due.Val()
		if p.lease != nil {
			zs = append(zs, p.lease.Val()...)
		}
		for _, z := range zs {
			all = append(all, entry{app: p.app, score: z.Score, member: fmt.Sprint(z.Member)})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		case a.member < b.member:
			return -1
		case a.member > b.member:
			return 1
		}
		return 0
	})
	share, rank := map[string]int{}, map[string]int{}
	for i, e := range all[:min(limit, len(all))] {
		share[e.app]++
		rank[e.member[16:]] = i
	}
	return share, rank, nil
}

// Record implements storage.Store: one script that applies the outcome
// only while the message is sending under fence (else storage.ErrLeaseLost).
// Update's PlatformMsgID, LastCode and LastError replace the stored ones
// as given; a zero NextAttemptAt for queued or retrying means now.
// Concurrent Records share a round trip (batch.go).
func (s *Store) Record(ctx context.Context, id string, fence int64, a *message.Attempt, u storage.Update) error {
	switch u.Status {
	case message.StatusDelivered, message.StatusFailed, message.StatusRejected,
		message.StatusRetrying, message.StatusQueued:
	default:
		return fmt.Errorf("record message %s: invalid status %q", id, u.Status)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	now := s.now()
	next := u.NextAttemptAt
	if next.IsZero() && (u.Status == message.StatusQueued || u.Status == message.StatusRetrying) {
		next = now
	}
	retry := 0
	if u.CountRetry {
		retry = 1
	}
	// Every attempt to record is a line: the update's (token refreshes),
	// then the one given.
	var lines strings.Builder
	all := u.Attempts
	if a != nil {
		all = append(all[:len(all):len(all)], *a)
	}
	for _, x := range all {
		at := x.At
		if at.IsZero() {
			at = now
		}
		kind := string(x.Kind)
		if kind == string(message.KindSend) {
			kind = "" // the default: lines stay as short as before kinds
		}
		b, err := json.Marshal(attempt{At: toMS(at), Kind: kind, Outcome: string(x.Outcome), Code: x.Code, Message: x.Message,
			Reason: string(x.Reason), LatencyMS: x.LatencyMS})
		if err != nil {
			return fmt.Errorf("record message %s: %w", id, err)
		}
		lines.Write(b)
		lines.WriteByte('\n')
	}
	held := 0
	if u.Held {
		held = 1
	}
	j := &recordJob{ctx: ctx, id: id, fence: fence, done: make(chan struct{}),
		args: []any{id, fence, string(u.Status), toMS(next), retry, u.PlatformMsgID, u.LastCode, u.LastError,
			toMS(now), string(u.Reason), lines.String(), held}}
	if !s.rec.submit(j) {
		return ErrClosed
	}
	<-j.done
	return j.err
}

// recordJob is one Record call in a batch.
type recordJob struct {
	ctx   context.Context
	id    string
	fence int64
	args  []any // the script's 12 arguments
	err   error
	done  chan struct{}
}

// recordBatch runs a batch of Record calls: the apps of the ids not
// remembered from their claim in one pipeline, then one script per app.
func (s *Store) recordBatch(jobs []*recordJob) {
	ctx := context.Background()
	byApp := map[string][]*recordJob{}
	var missing []*recordJob
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			close(j.done)
			continue
		}
		if app, ok := s.idApp.get(j.id); ok {
			byApp[app] = append(byApp[app], j)
		} else {
			missing = append(missing, j)
		}
	}
	if len(missing) > 0 {
		pipe := s.c.Pipeline()
		cmds := make([]*goredis.StringCmd, len(missing))
		for i, j := range missing {
			cmds[i] = pipe.Get(ctx, s.midKey(j.id))
		}
		_, err := pipe.Exec(ctx)
		if err != nil && !errors.Is(err, goredis.Nil) {
			err = s.done(err)
			for _, j := range missing {
				j.err = fmt.Errorf("record message %s: %w", j.id, err)
				close(j.done)
			}
		} else {
			for i, j := range missing {
				app, err := cmds[i].Result()
				if err != nil {
					j.err = fmt.Errorf("record message %s: %w", j.id, storage.ErrNotFound)
					close(j.done)
					continue
				}
				s.idApp.put(j.id, app)
				byApp[app] = append(byApp[app], j)
			}
		}
	}
	for app, js := range byApp {
		args := make([]any, 0, 1+12*len(js))
		args = append(args, s.webhookScope(app))
		for _, j := range js {
			args = append(args, j.args...)
		}
		v, err := s.run(ctx, app, "record", args...).Result()
		if err := s.done(err); err != nil {
			for _, j := range js {
				j.err = scriptErr("record message "+j.id, err)
				close(j.done)
			}
			continue
		}
		res, _ := v.([]any)
		for i, j := range js {
			var r any
			if i < len(res) {
				r = res[i]
			}
			switch r := r.(type) {
			case string: // OK
			case []any:
				switch {
				case len(r) == 3 && r[0] == "LOST":
					j.err = fmt.Errorf("record message %s under claim %d: status %s, claim %s: %w", j.id, j.fence,
						str(r[1]), str(r[2]), storage.ErrLeaseLost)
				case len(r) == 2 && r[0] == "ERR":
					if j.err = replyErr("record message "+j.id, str(r[1])); j.err == nil {
						j.err = fmt.Errorf("record message %s: %s", j.id, str(r[1]))
					}
				}
			default:
				j.err = fmt.Errorf("record message %s: unexpected answer %v", j.id, r)
			}
			close(j.done)
		}
	}
}

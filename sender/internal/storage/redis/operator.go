package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Operator control (issue 11): cancel, bulk cancel and redrive, per-app
// counts, stored pauses, the list of groups.

// Cancel implements storage.Store.
func (s *Store) Cancel(ctx context.Context, id string, now time.Time) (message.Message, error) {
	if err := s.begin(ctx); err != nil {
		return message.Message{}, err
	}
	app, err := s.appOf(ctx, id)
	if err != nil {
		return message.Message{}, fmt.Errorf("cancel message %s: %w", id, err)
	}
	v, err := s.write(ctx, app, "cancel", id, toMS(now), s.webhookScope(app))
	if err != nil {
		return message.Message{}, scriptErr("cancel", err)
	}
	return decodeMsg(id, v, false)
}

// matchBudget bounds the index entries one matching script scans.
const matchBudget = 2000

// CancelMatching implements storage.Store.
func (s *Store) CancelMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error) {
	return s.matching(ctx, "cancel", sel, message.Cancellable, now, limit)
}

// RedriveMatching implements storage.Store.
func (s *Store) RedriveMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error) {
	return s.matching(ctx, "redrive", sel, message.Redrivable, now, limit)
}

// matching applies op to up to limit messages of sel: the app's index of
// each status the operation applies to (a broadcast's messages when sel
// names one), oldest first, in scripts that each scan a bounded part of
// it.
func (s *Store) matching(ctx context.Context, op string, sel storage.Selection, allowed []message.Status, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if sel.App == "" {
		// The indexes are per app: each in turn (the API always names
		// one).
		apps, err := s.appList(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s messages: %w", op, err)
		}
		slices.Sort(apps)
		total := 0
		for _, app := range apps {
			one := sel
			one.App = app
			n, err := s.matching(ctx, op, one, allowed, now, limit-total)
			if total += n; err != nil || total >= limit {
				return total, err
			}
		}
		return total, nil
	}
	statuses := allowed
	if len(sel.Statuses) > 0 {
		statuses = nil
		for _, st := range sel.Statuses {
			if slices.Contains(allowed, st) && !slices.Contains(statuses, st) {
				statuses = append(statuses, st)
			}
		}
	}
	if len(statuses) == 0 || checkApp(sel.App) != nil {
		return 0, nil
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	var indexes []string
	if sel.BroadcastID != "" {
		indexes = []string{"bm:" + sel.BroadcastID}
	} else {
		for _, st := range names {
			indexes = append(indexes, "st:"+st)
		}
	}
	total := 0
	for _, idx := range indexes {
		cursor := "-inf"
		for total < limit {
			v, err := s.write(ctx, sel.App, "matching", idx, op, toMS(now), limit-total, matchBudget, cursor,
				strings.Join(names, ","), string(sel.Reason), sel.Code, toMS(sel.CreatedFrom), toMS(sel.CreatedTo),
				s.webhookScope(sel.App))
			if err != nil {
				return total, fmt.Errorf("%s messages of %s: %w", op, sel.App, err)
			}
			res, _ := v.([]any)
			if len(res) != 3 {
				return total, fmt.Errorf("%s messages of %s: script answered %v", op, sel.App, v)
			}
			total += int(num(res[0]))
			cursor = str(res[1])
			if num(res[2]) == 1 {
				break
			}
		}
	}
	return total, nil
}

// AppCounts implements storage.Store: the counts the scripts keep.
func (s *Store) AppCounts(ctx context.Context, app string) (map[message.Status]int, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	counts := zeroCounts()
	if checkApp(app) != nil {
		return counts, nil
	}
	h, err := s.c.HGetAll(ctx, s.appBase(app)+"counts").Result()
	if err != nil {
		return nil, fmt.Errorf("count messages of %s: %w", app, classify(err))
	}
	addCounts(counts, h)
	return counts, nil
}

// PauseApp implements storage.Store.
func (s *Store) PauseApp(ctx context.Context, p message.Pause) error {
	if err := checkApp(p.App); err != nil {
		return fmt.Errorf("pause app: %w", err)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	// The app must be in the set of apps: Pauses reads every app's.
	if _, done := s.announced.Load(p.App); !done {
		if err := s.c.SAdd(ctx, s.appsKey(), p.App).Err(); err != nil {
			return fmt.Errorf("pause app %s: %w", p.App, s.done(err))
		}
		s.markAnnounced(p.App)
	}
	if _, err := s.write(ctx, p.App, "pauseApp", toMS(p.Until), string(p.Reason), p.Code, p.Message, toMS(p.Since)); err != nil {
		return fmt.Errorf("pause app %s: %w", p.App, err)
	}
	return nil
}

// Pauses implements storage.Store: every app's stored pause, in one
// pipeline.
func (s *Store) Pauses(ctx context.Context) ([]message.Pause, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	if len(apps) == 0 {
		return nil, nil
	}
	slices.Sort(apps)
	pipe := s.c.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(apps))
	for i, app := range apps {
		cmds[i] = pipe.HGetAll(ctx, s.appBase(app)+"pz")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("read pauses: %w", classify(err))
	}
	var out []message.Pause
	for i, c := range cmds {
		h := c.Val()
		if len(h) == 0 {
			continue
		}
		out = append(out, message.Pause{App: apps[i], Until: fromMS(num(h["until"])), Reason: reason.Reason(h["reason"]),
			Code: h["code"], Message: h["message"], Since: fromMS(num(h["since"]))})
	}
	return out, nil
}

// ResumeApp implements storage.Store: one script ends the stored pause
// and the shared limiter's, and makes the held messages due.
func (s *Store) ResumeApp(ctx context.Context, app string, now time.Time) (int, error) {
	if err := checkApp(app); err != nil {
		return 0, fmt.Errorf("resume app: %w", err)
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	v, err := s.write(ctx, app, "resumeApp", toMS(now))
	if err != nil {
		return 0, fmt.Errorf("resume app %s: %w", app, err)
	}
	return int(num(v)), nil
}

// Groups implements storage.Store.
func (s *Store) Groups(ctx context.Context, app, after string, limit int) ([]message.Group, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	limit = storage.PageSize(limit)
	if checkApp(app) != nil {
		return nil, "", nil
	}
	v, err := s.run(ctx, app, "groups", after, limit+1).Result()
	if err != nil {
		return nil, "", fmt.Errorf("list groups of %s: %w", app, classify(err))
	}
	res, _ := v.([]any)
	var out []message.Group
	for i := 0; i+2 < len(res); i += 3 {
		out = append(out, message.Group{App: app, Name: str(res[i]), Size: int(num(res[i+1])), UpdatedAt: fromMS(num(res[i+2]))})
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], out[limit-1].Name, nil
}

// consentAfter is the lexical lower bound of the entries after k.
func consentAfter(k consent.Key) string { return "(" + k.User + "\x00" + k.TemplateID }

package redis

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func init() {
	// blistFill: ARGV broadcast ids. Adds each broadcast that exists to
	// blist as createList and createGroup do (ZADD of a member already
	// there changes nothing); answers how many were missing.
	scriptSrc["blistFill"] = `
local added = 0
for _, id in ipairs(ARGV) do
  local j = redis.call('HGET', base .. 'b:' .. id, 'j')
  if j then
    added = added + redis.call('ZADD', base .. 'blist', 'NX', 0, string.format('%013d-%s', cjson.decode(j).created, id))
  end
end
return added
`
}

// blistFillScan is the keys one SCAN step asks for: each step, and each
// blistFill call, stays small however many keys the Redis holds.
const blistFillScan = 1000

// blistFilledKey marks that every broadcast stored before blist existed
// has been added to it: later starts do not scan again.
func (s *Store) blistFilledKey() string { return s.prefix + ":blistfilled" }

// fillBroadcastList adds to their app's blist the broadcasts written
// before blist existed (GET /v1/broadcasts reads only blist), once: it
// SCANs every node for P:{A}:b:<id> keys, blistFillScan a step, adds the
// ones each app's list lacks, and marks the store done. Idempotent: an
// interrupted fill is run again whole at the next start, and two
// instances filling at once add each broadcast once.
func (s *Store) fillBroadcastList(ctx context.Context) error {
	n, err := s.c.Exists(ctx, s.blistFilledKey()).Result()
	if err != nil || n == 1 {
		return classify(err)
	}
	start := time.Now()
	var added atomic.Int64 // ForEachMaster scans the masters at once
	pattern := globEscape(s.prefix) + ":{*}:b:*"
	scan := func(ctx context.Context, c *goredis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, blistFillScan).Result()
			if err != nil {
				return err
			}
			byApp := map[string][]any{}
			for _, k := range keys {
				if app, id, ok := s.broadcastKeyOf(k); ok {
					byApp[app] = append(byApp[app], id)
				}
			}
			for app, ids := range byApp {
				k, err := s.run(ctx, app, "blistFill", ids...).Int()
				if err != nil {
					return err
				}
				added.Add(int64(k))
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	switch c := s.c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *goredis.Client:
		err = scan(ctx, c)
	default: // a client Open does not make: an error (a warning), not a panic
		err = fmt.Errorf("cannot scan the keys of a %T", c)
	}
	if err != nil {
		return fmt.Errorf("redis store: fill the broadcast list: %w", classify(err))
	}
	if err := s.c.Set(ctx, s.blistFilledKey(), time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("redis store: fill the broadcast list: %w", classify(err))
	}
	if n := added.Load(); n > 0 {
		s.log.Info("redis: broadcasts stored before the broadcast list existed added to it", "added", n, "took", time.Since(start))
	}
	return nil
}

// broadcastKeyOf reads the app and id of a key P:{A}:b:<id>.
func (s *Store) broadcastKeyOf(key string) (app, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":{")
	if !ok {
		return "", "", false
	}
	app, id, ok = strings.Cut(rest, "}:b:")
	if !ok || checkApp(app) != nil || id == "" {
		return "", "", false
	}
	return app, id, true
}

// globEscape escapes the characters SCAN MATCH reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

func init() {
	// blist: ARGV max, min (ZRANGE BYLEX bounds), limit. Answers, per
	// broadcast of the app's list below max, newest first: its key, its
	// fields and its counts (GET /v1/broadcasts).
	readSrc["blist"] = `
local keys = redis.call('ZRANGE', base .. 'blist', ARGV[1], ARGV[2], 'BYLEX', 'REV', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, k in ipairs(keys) do
  local id = string.sub(k, 15)
  out[#out+1] = k
  out[#out+1] = redis.call('HGETALL', base .. 'b:' .. id)
  out[#out+1] = redis.call('HGETALL', base .. 'bc:' .. id)
end
return out
`
}

// listedBroadcast is one broadcast of an app's blist with its counts.
type listedBroadcast struct {
	key    string
	b      message.Broadcast
	counts map[message.Status]int
}

// Broadcasts implements storage.BroadcastLister: each app's blist (the
// broadcasts by storage.BroadcastKey, written by the scripts that create
// them) read newest first below the cursor, merged across apps. Counts
// are the ones the scripts keep (bc:<id>).
func (s *Store) Broadcasts(ctx context.Context, f storage.BroadcastFilter) ([]storage.BroadcastCounts, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	apps := []string{f.App}
	if f.App == "" {
		var err error
		if apps, err = s.appList(ctx); err != nil {
			return nil, "", fmt.Errorf("list broadcasts: %w", err)
		}
	}
	// Bounds as BYLEX ranges of the keys: created in [from, to).
	lo, hi := "-", "+"
	if !f.CreatedFrom.IsZero() {
		lo = "[" + fmt.Sprintf("%013d", max(f.CreatedFrom.UnixMilli(), 0))
	}
	if !f.CreatedTo.IsZero() {
		hi = "(" + fmt.Sprintf("%013d", max(f.CreatedTo.UnixMilli(), 0)) + "-"
	}
	counts := map[string]map[message.Status]int{}
	walk := func(ctx context.Context, after string, n int) ([]message.Broadcast, error) {
		top := hi
		if after != "" && (hi == "+" || "("+after < hi) {
			top = "(" + after
		}
		var all []listedBroadcast
		for _, app := range apps {
			v, err := s.run(ctx, app, "blist", top, lo, n).Result()
			if err != nil {
				return nil, classify(err)
			}
			res, _ := v.([]any)
			for i := 0; i+2 < len(res); i += 3 {
				key, _ := res[i].(string)
				h := pairs(res[i+1])
				if len(h) == 0 {
					continue // not written: a crash between reserve and script
				}
				b, err := decodeBroadcast(h)
				if err != nil {
					return nil, err
				}
				c := zeroCounts()
				addCounts(c, pairs(res[i+2]))
				all = append(all, listedBroadcast{key: key, b: b, counts: c})
			}
		}
		slices.SortFunc(all, func(x, y listedBroadcast) int { return strings.Compare(y.key, x.key) })
		out := make([]message.Broadcast, 0, min(n, len(all)))
		for _, l := range all[:min(n, len(all))] {
			counts[l.b.ID] = l.counts
			out = append(out, l.b)
		}
		return out, nil
	}
	count := func(_ context.Context, bs []message.Broadcast) ([]map[message.Status]int, error) {
		out := make([]map[message.Status]int, len(bs))
		for i, b := range bs {
			out[i] = counts[b.ID]
		}
		return out, nil
	}
	waiting := func(_ context.Context, b message.Broadcast) (bool, error) {
		c := counts[b.ID]
		return c[message.StatusQueued]+c[message.StatusSending]+c[message.StatusRetrying] > 0, nil
	}
	return storage.PageBroadcasts(ctx, f, walk, count, waiting)
}

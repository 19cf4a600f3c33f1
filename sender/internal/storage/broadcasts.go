package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
)

// BroadcastLister is a Store that lists broadcasts (GET /v1/broadcasts,
// issue 16). Both drivers implement it and pass the conformance suite's
// BroadcastList tests.
type BroadcastLister interface {
	// Broadcasts pages through broadcasts, newest first (by CreatedAt,
	// then id), each with its messages' counts per status (every status
	// present). App and the creation times select through an index;
	// State and Schedule are checked on the broadcasts that walk reads,
	// at most BroadcastsExamined of them per call: a page may then hold
	// fewer than Limit broadcasts, even none, with a next cursor to
	// continue from. A cursor that is not one a page gave is ErrNotFound.
	Broadcasts(ctx context.Context, f BroadcastFilter) (items []BroadcastCounts, next string, err error)
}

// BroadcastsExamined bounds the broadcasts one Broadcasts call reads to
// check the filters its index does not select (State, Schedule).
const BroadcastsExamined = 1000

// BroadcastFilter selects broadcasts for Broadcasts.
type BroadcastFilter struct {
	App string
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound when the
	// broadcast was accepted.
	CreatedFrom, CreatedTo time.Time
	// State selects broadcasts in that state at Now (BroadcastStateOf).
	State BroadcastState
	Now   time.Time
	// Schedule selects the broadcasts the runs of that schedule made.
	Schedule string
	Limit    int    // default 100, max 1000
	Cursor   string // from a previous page's next
}

// BroadcastCounts is a broadcast with its messages' counts per status.
type BroadcastCounts struct {
	message.Broadcast
	Counts map[message.Status]int
}

// BroadcastState is where a broadcast is, from its record and its
// messages' counts.
type BroadcastState string

// Broadcast states, in the order a broadcast goes through them.
const (
	// BroadcastScheduled: its send_at is still ahead.
	BroadcastScheduled BroadcastState = "scheduled"
	// BroadcastFanningOut: a group broadcast whose messages are not all
	// created yet.
	BroadcastFanningOut BroadcastState = "fanning_out"
	// BroadcastSending: some of its messages are queued, sending or
	// retrying (held by quiet hours included).
	BroadcastSending BroadcastState = "sending"
	// BroadcastDone: every message has a final status.
	BroadcastDone BroadcastState = "done"
)

// BroadcastStates lists every state.
var BroadcastStates = []BroadcastState{BroadcastScheduled, BroadcastFanningOut, BroadcastSending, BroadcastDone}

// Valid reports whether s is a known state.
func (s BroadcastState) Valid() bool {
	for _, x := range BroadcastStates {
		if s == x {
			return true
		}
	}
	return false
}

// BroadcastStateOf is the state of broadcast b with counts at now.
func BroadcastStateOf(b message.Broadcast, counts map[message.Status]int, now time.Time) BroadcastState {
	switch {
	case b.SendAt.After(now):
		return BroadcastScheduled
	case b.FannedOut < b.Recipients:
		return BroadcastFanningOut
	case counts[message.StatusQueued]+counts[message.StatusSending]+counts[message.StatusRetrying] > 0:
		return BroadcastSending
	}
	return BroadcastDone
}

// ScheduleKeyPrefix begins the idempotency key of every broadcast a
// schedule's run makes: "schedule:<id>@<scheduled time>" (package
// schedule).
const ScheduleKeyPrefix = "schedule:"

// ScheduleOf is the id of the schedule whose run made broadcast b, ""
// for none.
func ScheduleOf(b message.Broadcast) string {
	rest, ok := strings.CutPrefix(b.IdempotencyKey, ScheduleKeyPrefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	return id
}

// BroadcastKey is a broadcast's position in the list, and the cursor of
// the page that ends with it: its creation time in Unix milliseconds,
// 13 digits, a dash and its id. Keys sort as the list does (reversed), as
// bytes.
func BroadcastKey(created time.Time, id string) string {
	return fmt.Sprintf("%013d-%s", max(created.UnixMilli(), 0), id)
}

// ParseBroadcastKey reads a BroadcastKey; ok false when it is none.
func ParseBroadcastKey(key string) (createdMS int64, id string, ok bool) {
	ms, id, found := strings.Cut(key, "-")
	if !found || len(ms) != 13 || id == "" {
		return 0, "", false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 0 {
		return 0, "", false
	}
	return n, id, true
}

// BroadcastWalk reads the next broadcasts of a driver's index: at most n
// of them, newest first, strictly after the position after ("" from the
// newest), within f's App and creation times.
type BroadcastWalk func(ctx context.Context, after string, n int) ([]message.Broadcast, error)

// BroadcastCounter reads the counts of broadcasts per status, in order.
type BroadcastCounter func(ctx context.Context, bs []message.Broadcast) ([]map[message.Status]int, error)

// BroadcastWaiting reports whether some message of broadcast b is queued,
// sending or retrying: what tells sending from done without counting the
// broadcast's messages (a State filter may read BroadcastsExamined
// broadcasts of any size).
type BroadcastWaiting func(ctx context.Context, b message.Broadcast) (bool, error)

// broadcastState is BroadcastStateOf with waiting asked only when the
// record does not decide.
func broadcastState(ctx context.Context, b message.Broadcast, now time.Time, waiting BroadcastWaiting) (BroadcastState, error) {
	switch {
	case b.SendAt.After(now):
		return BroadcastScheduled, nil
	case b.FannedOut < b.Recipients:
		return BroadcastFanningOut, nil
	}
	w, err := waiting(ctx, b)
	if err != nil {
		return "", err
	}
	if w {
		return BroadcastSending, nil
	}
	return BroadcastDone, nil
}

// PageBroadcasts is Broadcasts over a driver's walk, counts and waiting
// check, the same for every driver: it walks in chunks, checks State
// (with waiting) and Schedule, stops at Limit matches or
// BroadcastsExamined broadcasts read, and counts the page's broadcasts
// only.
func PageBroadcasts(ctx context.Context, f BroadcastFilter, walk BroadcastWalk, count BroadcastCounter, waiting BroadcastWaiting) ([]BroadcastCounts, string, error) {
	limit := PageSize(f.Limit)
	if f.Cursor != "" {
		if _, _, ok := ParseBroadcastKey(f.Cursor); !ok {
			return nil, "", fmt.Errorf("list broadcasts: cursor %q: %w", f.Cursor, ErrNotFound)
		}
	}
	residual := f.State != "" || f.Schedule != ""
	out := make([]BroadcastCounts, 0, min(limit, 128))
	after, examined := f.Cursor, 0
	for {
		chunk := limit + 1 - len(out)
		if residual {
			chunk = min(max(chunk, 100), BroadcastsExamined-examined)
		}
		bs, err := walk(ctx, after, chunk)
		if err != nil {
			return nil, "", fmt.Errorf("list broadcasts: %w", err)
		}
		examined += len(bs)
		after = ""
		if len(bs) == chunk {
			// The walk may go on after the last one read, kept or not.
			last := bs[len(bs)-1]
			after = BroadcastKey(last.CreatedAt, last.ID)
		}
		if f.Schedule != "" {
			kept := bs[:0:0]
			for _, b := range bs {
				if ScheduleOf(b) == f.Schedule {
					kept = append(kept, b)
				}
			}
			bs = kept
		}
		var prev string // the key of the last match, when the page is full
		for _, b := range bs {
			if f.State != "" {
				st, err := broadcastState(ctx, b, f.Now, waiting)
				if err != nil {
					return nil, "", fmt.Errorf("list broadcasts: broadcast %s: %w", b.ID, err)
				}
				if st != f.State {
					continue
				}
			}
			if len(out) == limit {
				// One more match than the page holds: the page ends
				// with the previous one.
				prev = BroadcastKey(out[limit-1].CreatedAt, out[limit-1].ID)
				break
			}
			out = append(out, BroadcastCounts{Broadcast: b})
		}
		next, done := "", true
		switch {
		case prev != "":
			next = prev
		case after == "": // the walk ended
		case residual && examined >= BroadcastsExamined:
			next = after // the walk reached its bound: continue below it
		default:
			done = false
		}
		if done {
			if err := fill(ctx, out, count); err != nil {
				return nil, "", err
			}
			return out, next, nil
		}
	}
}

// fill reads the counts of the page's broadcasts.
func fill(ctx context.Context, out []BroadcastCounts, count BroadcastCounter) error {
	if len(out) == 0 {
		return nil
	}
	bs := make([]message.Broadcast, len(out))
	for i := range out {
		bs[i] = out[i].Broadcast
	}
	counts, err := count(ctx, bs)
	if err != nil {
		return fmt.Errorf("list broadcasts: %w", err)
	}
	for i := range out {
		out[i].Counts = counts[i]
	}
	return nil
}

// PageSize is the page size of a list asked for limit: 100 when it is
// zero or less, at most 1000 — the same for every list of every driver.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return 100
	case limit > 1000:
		return 1000
	}
	return limit
}

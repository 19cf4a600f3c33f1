package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// broadcastItem is one broadcast of the list: the broadcast (flat) with
// its messages' counts per status, its state and the schedule whose run
// made it.
type broadcastItem struct {
	message.Broadcast
	Counts   map[message.Status]int `json:"counts"`
	State    storage.BroadcastState `json:"state"`
	Schedule string                 `json:"schedule,omitempty"`
}

// newBroadcastItem is b with counts (every status present), its state at
// now and its schedule.
func newBroadcastItem(b message.Broadcast, counts map[message.Status]int, now time.Time) broadcastItem {
	c := make(map[message.Status]int, len(message.Statuses))
	for _, st := range message.Statuses {
		c[st] = counts[st]
	}
	return broadcastItem{Broadcast: b, Counts: c, State: storage.BroadcastStateOf(b, counts, now), Schedule: storage.ScheduleOf(b)}
}

// GET /v1/broadcasts?app=&state=&schedule=&created_from=&created_to=&limit=&cursor=
// → a page of broadcasts, newest first, each with its counts and state.
//
// state and schedule are checked on the broadcasts the other filters
// select, at most storage.BroadcastsExamined of them per request: a page
// may then hold fewer broadcasts than limit, even none, with a
// next_cursor to continue from.
func (a *API) listBroadcasts(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "app", "state", "schedule", "created_from", "created_to", "limit", "cursor")
	f := storage.BroadcastFilter{App: q["app"], State: storage.BroadcastState(q["state"]), Schedule: q["schedule"],
		Cursor: q["cursor"], Now: a.now()}
	if f.App != "" {
		if _, known := a.apps[f.App]; !known {
			ps = append(ps, Problem{"app", "unknown_app", "no app named " + strconv.Quote(f.App) + " is configured"})
		}
	}
	if f.State != "" && !f.State.Valid() {
		names := make([]string, len(storage.BroadcastStates))
		for i, s := range storage.BroadcastStates {
			names[i] = string(s)
		}
		ps = append(ps, Problem{"state", "invalid", "state must be one of " + strings.Join(names, ", ")})
	}
	if f.Schedule != "" && !isID(f.Schedule) {
		ps = append(ps, Problem{"schedule", "invalid", "schedule must be a schedule id (sch_…)"})
	}
	ps = append(ps, createdRange(q, &f.CreatedFrom, &f.CreatedTo)...)
	if f.Cursor != "" && !isID(f.Cursor) {
		ps = append(ps, Problem{"cursor", "invalid", "cursor must be a next_cursor from a previous page"})
	}
	f.Limit, ps = listLimit(q, ps)
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	l, ok := a.store.(storage.BroadcastLister)
	if !ok {
		noStorage(w, "a list of broadcasts")
		return
	}
	items, next, err := l.Broadcasts(r.Context(), f)
	if badCursor(w, err, f.Cursor) {
		return
	}
	if err != nil {
		a.storeError(w, err, "broadcasts")
		return
	}
	out := make([]broadcastItem, len(items))
	for i, it := range items {
		out[i] = newBroadcastItem(it.Broadcast, it.Counts, f.Now)
	}
	writeJSON(w, http.StatusOK, page(out, next))
}

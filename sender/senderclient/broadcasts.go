package senderclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Broadcast states (GET /v1/broadcasts).
const (
	// BroadcastScheduled: its send_at is ahead.
	BroadcastScheduled = "scheduled"
	// BroadcastFanningOut: a group broadcast whose messages are not all
	// created yet.
	BroadcastFanningOut = "fanning_out"
	// BroadcastSending: some messages are queued, sending or retrying.
	BroadcastSending = "sending"
	// BroadcastDone: every message has a final status.
	BroadcastDone = "done"
)

// BroadcastFilter selects broadcasts (GET /v1/broadcasts). Zero fields do
// not filter.
type BroadcastFilter struct {
	App string
	// State is one of the Broadcast… states; Schedule a schedule's id
	// (the broadcasts its runs made). The sender checks them on at most
	// 1000 broadcasts per request: a page may hold fewer than Limit, even
	// none, with a NextCursor to continue from.
	State    string
	Schedule string
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound when the
	// broadcast was accepted.
	CreatedFrom, CreatedTo time.Time
	// Limit is the page size (1–1000; 0: the sender's default, 100).
	Limit int
	// Cursor continues after a page's NextCursor.
	Cursor string
}

// BroadcastList is one page of broadcasts, newest first.
type BroadcastList struct {
	Items      []BroadcastState `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// Broadcasts reads a page of broadcasts, newest first.
func (c *Client) Broadcasts(ctx context.Context, f BroadcastFilter) (BroadcastList, error) {
	q := url.Values{}
	set(q, "app", f.App)
	set(q, "state", f.State)
	set(q, "schedule", f.Schedule)
	setPage(q, f.CreatedFrom, f.CreatedTo, f.Cursor, f.Limit)
	var l BroadcastList
	_, err := c.call(ctx, http.MethodGet, "/v1/broadcasts", q, nil, nil, &l)
	return l, err
}

package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Live updates are Server-Sent Events: each new inbox message or journal
// entry that passes the page's filter arrives as an "item" event whose
// data is the HTML fragment the page itself would render for it (so there
// is one renderer, and it escapes), with the ring cursor as the event id.
// A browser that reconnects sends Last-Event-ID and resumes where it left
// off; when the ring was reset meanwhile the stream sends "reset" and the
// page reloads.

// maxBatch bounds the items one wake-up sends, so a burst is streamed in
// slices instead of one huge write.
const maxBatch = 100

func formatCursor(c ring.Cursor) string {
	return strconv.FormatUint(c.Epoch, 10) + "." + strconv.FormatUint(c.Seq, 10)
}

func parseCursor(s string) (ring.Cursor, bool) {
	e, q, ok := strings.Cut(s, ".")
	if !ok {
		return ring.Cursor{}, false
	}
	epoch, err1 := strconv.ParseUint(e, 10, 64)
	seq, err2 := strconv.ParseUint(q, 10, 64)
	return ring.Cursor{Epoch: epoch, Seq: seq}, err1 == nil && err2 == nil
}

// startCursor is where a stream starts: Last-Event-ID on a reconnect, else
// the since parameter the page was rendered with.
func startCursor(r *http.Request) (ring.Cursor, error) {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if c, ok := parseCursor(id); ok {
			return c, nil
		}
	}
	s := r.URL.Query().Get("since")
	if s == "" {
		return ring.Cursor{}, fmt.Errorf("since is required (the cursor the page was rendered at)")
	}
	c, ok := parseCursor(s)
	if !ok {
		return ring.Cursor{}, fmt.Errorf("since must be EPOCH.SEQ, got %q", s)
	}
	return c, nil
}

func (u *UI) inboxEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := controlapi.MessageFilter{Platform: q.Get("platform"), AppID: q.Get("app_id"), OpenID: q.Get("openid"), Kind: q.Get("kind")}
	stream(u, w, r, u.env.Inbox, f.Match, func(m *mockapi.Message) (string, error) {
		return u.fragment("card", u.card(m, u.ctl.Clock().Now))
	})
}

func (u *UI) journalEvents(w http.ResponseWriter, r *http.Request) {
	f, err := requestFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	stream(u, w, r, u.env.Journal, f.Match, func(c *mockapi.Request) (string, error) {
		return u.fragment("call", c)
	})
}

// stream follows a ring from the request's cursor until the client goes,
// the server closes the UI, or the stream's life ends.
func stream[T any](u *UI, w http.ResponseWriter, r *http.Request, rg *ring.Ring[T], match func(*T) bool, render func(*T) (string, error)) {
	cur, err := startCursor(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case u.streams <- struct{}{}:
		defer func() { <-u.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live streams", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	// The stream outlives any server read or write timeout by design
	// (harden-edge sets them): no body is read after the headers, and
	// every write gets its own deadline instead.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	write := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write([]byte(s)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 2000\n: live\n\n") {
		return
	}
	life := time.NewTimer(u.life)
	defer life.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		changed := rg.Changed() // before reading, so nothing slips between
		items, next, reset := rg.Since(cur, match, maxBatch)
		if reset {
			if !write("event: reset\ndata: \n\n") {
				return
			}
			cur = next
			continue
		}
		var b strings.Builder
		for i := range items {
			frag, err := render(&items[i])
			if err != nil {
				u.log.Error("ui: render live item", "err", err)
				continue
			}
			b.WriteString("event: item\n")
			for _, line := range strings.Split(frag, "\n") {
				b.WriteString("data: ")
				b.WriteString(strings.TrimSuffix(line, "\r"))
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
		if next != cur {
			// An id alone moves the browser's Last-Event-ID without
			// dispatching an event.
			b.WriteString("id: " + formatCursor(next) + "\n\n")
		}
		cur = next
		if b.Len() > 0 && !write(b.String()) {
			return
		}
		if len(items) == maxBatch {
			continue // more are waiting
		}
		select {
		case <-changed:
		case <-beat.C:
			if !write(": ping\n\n") {
				return
			}
		case <-life.C:
			return // the browser reconnects with Last-Event-ID
		case <-u.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}

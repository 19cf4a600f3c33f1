package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// Live updates are Server-Sent Events: every tick the stream reads the
// API and sends an "item" event whose data is the HTML fragment the page
// itself renders for it (one renderer, which escapes); the page's script
// swaps it in. A stream ends after its life (the browser reconnects), when
// the browser goes or when the server shuts down; a finished broadcast
// sends "done" and ends.

// streamWriteTimeout drops a client that stops reading.
const streamWriteTimeout = 10 * time.Second

// sample renders the next fragment; done ends the stream after it.
type sample func() (frag string, done bool, err error)

func (c *Console) stream(w http.ResponseWriter, r *http.Request, next sample) {
	select {
	case c.streams <- struct{}{}:
		defer func() { <-c.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live streams", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
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
	life := time.NewTimer(c.opts.StreamLife)
	defer life.Stop()
	tick := time.NewTicker(c.opts.Tick)
	defer tick.Stop()
	for {
		if _, ok, err := c.lookup(r); err != nil || !ok {
			return // signed out (or expired) meanwhile, on any instance: the stream ends with the session
		}
		frag, done, err := next()
		if err != nil {
			c.log.Warn("console: live sample", "path", r.URL.Path, "err", err)
			if !write("event: failed\ndata: \n\n") {
				return
			}
		} else {
			var b strings.Builder
			b.WriteString("event: item\n")
			for _, line := range strings.Split(frag, "\n") {
				b.WriteString("data: ")
				b.WriteString(strings.TrimSuffix(line, "\r"))
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
			if done {
				b.WriteString("event: done\ndata: \n\n")
			}
			if !write(b.String()) || done {
				return
			}
		}
		select {
		case <-tick.C:
		case <-life.C:
			return
		case <-c.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// statsEvents streams the overview's numbers; delivered/s is the change
// of the delivered count between two samples of this stream.
func (c *Console) statsEvents(w http.ResponseWriter, r *http.Request) {
	var prev *statsView
	c.stream(w, r, func() (string, bool, error) {
		v, err := c.stats(r)
		if err != nil {
			return "", false, err
		}
		if prev != nil {
			if secs := v.Sampled.Sub(prev.Sampled).Seconds(); secs > 0 {
				// Retention deletes delivered messages: a count that
				// shrank says nothing of the rate.
				d := max(v.Totals["delivered"]-prev.Totals["delivered"], 0)
				v.Rate = fmt.Sprintf("%.1f", float64(d)/secs)
			}
		}
		prev = &v
		frag, err := c.fragment("stats", v)
		return frag, false, err
	})
}

// broadcastEvents streams a broadcast's progress until it is finished:
// fanned out to every recipient and none of its messages waiting.
func (c *Console) broadcastEvents(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	cl := c.client(fromContext(r.Context()))
	c.stream(w, r, func() (string, bool, error) {
		b, err := cl.BroadcastState(r.Context(), id)
		if err != nil {
			return "", false, err
		}
		frag, err := c.fragment("progress", b)
		return frag, finished(b.FannedOut, b.Recipients, b.Counts), err
	})
}

func finished(fannedOut, recipients int, counts map[string]int) bool {
	return fannedOut >= recipients && counts["queued"]+counts["sending"]+counts["retrying"] == 0
}

package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minipush/minipush/loadtest/stats"
	"github.com/minipush/minipush/loadtest/threshold"
)

// progress prints a live line once a second until the returned stop is
// called: elapsed, achieved rate over the last second, requests, errors
// and p99 over the last second. The line is rewritten in place, so it is
// meant for a terminal only (see IsTerminal).
func (e *env) progress(rec *stats.Recorder, total time.Duration, start time.Time) (stop func()) {
	w := e.cfg.Progress
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				l := rec.Live(time.Second)
				fmt.Fprintf(w, "\r\033[K[%5.1fs/%s] %8.1f/s  requests %d  errors %d  p99 %s",
					time.Since(start).Seconds(), total, l.Rate, l.Requests, l.Errors, threshold.FormatMS(l.P99))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// say writes one status line (Config.Status), when there is a writer.
func (e *env) say(format string, args ...any) {
	if e.cfg.Status != nil {
		fmt.Fprintf(e.cfg.Status, "loadtest: "+format+"\n", args...)
	}
}

// IsTerminal reports whether f is a character device (a terminal, not a
// pipe or file), for deciding on the live progress line.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// loadAverage reads /proc/loadavg (nil where there is none).
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	var out []float64
	for i := 0; i < 3 && i < len(f); i++ {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

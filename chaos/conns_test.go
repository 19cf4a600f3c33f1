package chaos_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/chaos"
	"github.com/minipush/minipush/internal/connprobe"
)

// raiseFileLimit lifts this process's RLIMIT_NOFILE to want (children
// inherit it). Raising the hard limit needs CAP_SYS_RESOURCE; without it
// the soft limit goes as high as the hard one allows. It returns the
// limit in force.
func raiseFileLimit(want uint64) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur >= want {
		return r.Cur, nil
	}
	n := syscall.Rlimit{Cur: want, Max: max(r.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		// Not privileged: as far as the hard limit goes.
		n = syscall.Rlimit{Cur: r.Max, Max: r.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err2 != nil {
			return r.Cur, fmt.Errorf("raise RLIMIT_NOFILE to %d: %v; to the hard limit %d: %v", want, err, r.Max, err2)
		}
		return r.Max, fmt.Errorf("raise RLIMIT_NOFILE to %d: %v (hard limit %d in force)", want, err, r.Max)
	}
	return want, nil
}

// healthProbe asks url every interval over a new connection each time (a
// load balancer's probe does not reuse a connection the server may have
// closed to make room) until stop is closed, and returns the latencies; a
// failed probe is counted in failed, with its error kept.
func healthProbe(url string, every time.Duration, stop <-chan struct{}) (lat []time.Duration, failed int, lastErr error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return lat, failed, lastErr
		case <-tick.C:
		}
		start := time.Now()
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("answered %d", resp.StatusCode)
			}
		}
		if err != nil {
			failed, lastErr = failed+1, err
			continue
		}
		lat = append(lat, time.Since(start))
	}
}

// Probe 2: 20,000 idle connections (half of them after one request, as
// keep-alive connections, half having sent nothing) to bin/sender and to
// bin/mockserver, while /healthz is probed every 20 ms over new
// connections. Pass: no probe fails, p99 < 100 ms during the flood, and
// the server holds no more connections than its cap (the rest closed).
func TestIdleFlood(t *testing.T) {
	mode := chaos.Gate(t)
	n := chaos.Pick(mode, 5000, 20_000)
	limit, err := raiseFileLimit(uint64(n)*2 + 4096)
	if err != nil {
		// Say what happens where it cannot: the flood is as large as the
		// limit allows, and the figures say so.
		t.Logf("RLIMIT_NOFILE: %v", err)
	}
	if max := int(limit) - 2048; n > max {
		t.Logf("the flood is reduced from %d to %d connections: this process may open %d files", n, max, limit)
		n = max
	}
	for _, server := range []string{"sender", "mockserver"} {
		t.Run(server, func(t *testing.T) {
			fig := chaos.NewFigures("idle_flood_"+server, mode)
			defer fig.Report(t)
			fig.Set("connections", n)
			fig.Set("rlimit_nofile", limit)
			var base string
			if server == "sender" {
				w := newWorld(t, mode, 10, 100)
				w.writeConfig("", "", "")
				base = w.startSender().URL
			} else {
				p := chaos.Start(t, chaos.Bin(t, "mockserver"), filepath.Join(t.TempDir(), "mock.log"), "mockserver listening", nil,
					"-addr", "127.0.0.1:0", "-log-format", "json", "-ui=false")
				base = p.URL
				if err := chaos.WaitHTTP(context.Background(), base+"/healthz", http.StatusOK, 30*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			addr := strings.TrimPrefix(base, "http://")

			stop := make(chan struct{})
			type result struct {
				lat     []time.Duration
				failed  int
				lastErr error
			}
			res := make(chan result, 1)
			go func() {
				lat, failed, err := healthProbe(base+"/healthz", 20*time.Millisecond, stop)
				res <- result{lat, failed, err}
			}()
			start := time.Now()
			f, err := connprobe.NewFlood(context.Background(), addr, n, "/healthz")
			defer f.Close()
			opened := time.Since(start)
			if err != nil {
				t.Errorf("the flood: %v", err)
			}
			// Keep probing a while with the whole flood open.
			time.Sleep(3 * time.Second)
			close(stop)
			r := <-res
			closed := f.ClosedByServer(3 * time.Second)
			p50, p99, worst := chaos.Percentile(r.lat, 50), chaos.Percentile(r.lat, 99), chaos.Percentile(r.lat, 100)
			fig.Set("opened", f.Len())
			fig.Set("open_seconds", opened.Seconds())
			fig.Set("closed_by_server", closed)
			fig.Set("healthz_probes", len(r.lat)+r.failed)
			fig.Set("healthz_failed", r.failed)
			fig.Set("healthz_p50_ms", p50.Seconds()*1000)
			fig.Set("healthz_p99_ms", p99.Seconds()*1000)
			fig.Set("healthz_max_ms", worst.Seconds()*1000)
			if r.failed > 0 {
				t.Errorf("%d of %d /healthz probes failed during the flood (last: %v)", r.failed, len(r.lat)+r.failed, r.lastErr)
			}
			if len(r.lat) < 20 {
				t.Errorf("only %d /healthz probes answered", len(r.lat))
			}
			if p99 >= 100*time.Millisecond {
				t.Errorf("/healthz p99 %v during a flood of %d idle connections, want < 100 ms", p99, f.Len())
			}
			// The default cap is 4,096 connections (lowered to fit the
			// child's file limit): the rest must have been closed.
			if held := f.Len() - closed; held > 4096 {
				t.Errorf("the %s holds %d of the flood's %d connections, over its cap of 4096", server, held, f.Len())
			}
		})
	}
}

// slowHeaders sends a request's headers one byte every interval and
// reports how long the server took to close the connection (ErrNotCut
// after max).
func slowHeaders(addr string, every, max time.Duration) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(c).ReadByte() // an answer (408) or EOF: cut
		close(closed)
	}()
	head := "POST /v1/messages HTTP/1.1\r\nHost: probe\r\nX-Slow: " + strings.Repeat("s", 100_000)
	tick := time.NewTicker(every)
	defer tick.Stop()
	stop := time.After(max)
	for i := 0; ; i++ {
		select {
		case <-closed:
			return time.Since(start), nil
		case <-stop:
			return time.Since(start), connprobe.ErrNotCut
		case <-tick.C:
			if _, err := c.Write([]byte{head[i%len(head)]}); err != nil {
				return time.Since(start), nil
			}
		}
	}
}

// Probe 3: slowloris. Many connections trickle a request's headers, or
// its body, one byte every 100 ms, against bin/sender with a 1 s header
// and 3 s read timeout, while /healthz is probed. Pass: every slow
// connection is cut (none outlives its timeout by more than 10 s on a
// loaded machine), no message is accepted, /healthz never fails.
func TestSlowBodies(t *testing.T) {
	mode := chaos.Gate(t)
	fig := chaos.NewFigures("slow_bodies", mode)
	defer fig.Report(t)
	slow := chaos.Pick(mode, 100, 500)
	if _, err := raiseFileLimit(uint64(slow)*4 + 4096); err != nil {
		t.Logf("RLIMIT_NOFILE: %v", err)
	}
	const headerTimeout, readTimeout = time.Second, 3 * time.Second
	w := newWorld(t, mode, 10, 100)
	w.writeConfig("", "", fmt.Sprintf("server: {read_header_timeout: %s, read_timeout: %s}", headerTimeout, readTimeout))
	p := w.startSender()
	addr := strings.TrimPrefix(p.URL, "http://")
	fig.Set("slow_connections", 2*slow)
	fig.Set("read_header_timeout", headerTimeout.String())
	fig.Set("read_timeout", readTimeout.String())

	stop := make(chan struct{})
	type result struct {
		lat     []time.Duration
		failed  int
		lastErr error
	}
	res := make(chan result, 1)
	go func() {
		lat, failed, err := healthProbe(p.URL+"/healthz", 50*time.Millisecond, stop)
		res <- result{lat, failed, err}
	}()
	const grace = 10 * time.Second
	var (
		wg                     sync.WaitGroup
		mu                     sync.Mutex
		headCuts, bodyCuts     []time.Duration
		notCut, answered, errs atomic.Int64
	)
	for range slow {
		wg.Go(func() {
			took, err := slowHeaders(addr, 100*time.Millisecond, headerTimeout+grace)
			switch {
			case errors.Is(err, connprobe.ErrNotCut):
				notCut.Add(1)
			case err != nil:
				errs.Add(1)
			default:
				mu.Lock()
				headCuts = append(headCuts, took)
				mu.Unlock()
			}
		})
		wg.Go(func() {
			_, took, status, err := connprobe.Trickle(addr, http.MethodPost, "/v1/messages",
				[]string{"Authorization: Bearer " + w.apiKey, "Content-Type: application/json"},
				10_000, 100*time.Millisecond, readTimeout+grace)
			switch {
			case errors.Is(err, connprobe.ErrNotCut):
				notCut.Add(1)
			case err != nil:
				errs.Add(1)
			default:
				if status == http.StatusAccepted || status == http.StatusOK {
					answered.Add(1)
				}
				mu.Lock()
				bodyCuts = append(bodyCuts, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	r := <-res
	fig.Set("headers_cut", len(headCuts))
	fig.Set("headers_cut_p50_s", chaos.Percentile(headCuts, 50).Seconds())
	fig.Set("headers_cut_max_s", chaos.Percentile(headCuts, 100).Seconds())
	fig.Set("bodies_cut", len(bodyCuts))
	fig.Set("bodies_cut_p50_s", chaos.Percentile(bodyCuts, 50).Seconds())
	fig.Set("bodies_cut_max_s", chaos.Percentile(bodyCuts, 100).Seconds())
	fig.Set("not_cut", notCut.Load())
	fig.Set("dial_errors", errs.Load())
	fig.Set("healthz_failed", r.failed)
	fig.Set("healthz_p99_ms", chaos.Percentile(r.lat, 99).Seconds()*1000)
	if n := notCut.Load(); n > 0 {
		t.Errorf("%d slow connections outlived their timeout by %s", n, grace)
	}
	if n := errs.Load(); n > 0 {
		t.Errorf("%d slow connections could not be opened", n)
	}
	if n := answered.Load(); n > 0 {
		t.Errorf("%d trickled requests were accepted", n)
	}
	if r.failed > 0 {
		t.Errorf("%d /healthz probes failed during the slow connections (last: %v)", r.failed, r.lastErr)
	}
	if d, _ := w.queueDepth(p.URL); d != 0 {
		t.Errorf("%d messages queued from trickled requests", d)
	}
}

package sender_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
)

// perfCSVRSS: a 1,000,000-row CSV audience (a recipient and two keyword
// values per row, ~40 MB), generated while it is sent (the test never
// holds it), uploaded to the sender binary as one streamed POST
// /v1/broadcasts, stored and fanned out; the binary's RSS is sampled
// throughout. The broadcast is due in an hour, so the figure is the
// audience's, not delivery's. MINIPUSH_PERF=1 go test -run TestPerf/csv_rss ./sender/
// appExtra are more settings of the app (campaign rules: csv_rss_rules).
func perfCSVRSS(t *testing.T, sc perfScale, appExtra string) {
	if !sc.full {
		t.Skip("runs with " + perfEnv + "=1: it builds the binary")
	}
	const n = 1_000_000
	dir := t.TempDir()
	bin := buildPerfBinary(t, dir)
	mock := startPerfMock(t, perfUsers, 1000)
	child := startBinaryWith(t, bin, dir, mock.URL, appExtra)
	idle, err := perfprobe.ReadMemory(child.pid)
	if err != nil {
		t.Fatal(err)
	}
	w := perfprobe.WatchMemory(child.pid, 20*time.Millisecond)
	defer w.Stop()
	win := startCPU(child.pid)

	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 0, 64<<10)
		buf = append(buf, "to,thing1,character_string3\n"...)
		for i := range n {
			buf = fmt.Appendf(buf, "o_csv_%07d,礼物%d,ref%07d\n", i, i%1000, i)
			if len(buf) > 60<<10 {
				if _, err := pw.Write(buf); err != nil {
					return
				}
				buf = buf[:0]
			}
		}
		_, _ = pw.Write(buf)
		_ = pw.Close()
	}()
	q := url.Values{"app": {perfApp}, "template_id": {tmpl}, "send_at": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		"data": {`{"time2":"2024-05-01 12:30"}`}}
	req, err := http.NewRequest(http.MethodPost, child.url+"/v1/broadcasts?"+q.Encode(), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 15 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %d rows: %d %.500s", n, resp.StatusCode, raw)
	}
	accepted := time.Since(start)
	var got struct {
		ID         string `json:"id"`
		Recipients int    `json:"recipients"`
		FannedOut  int    `json:"fanned_out"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || got.Recipients != n {
		t.Fatalf("answer %.300s (%v): want %d recipients", raw, err, n)
	}
	g := newLoadGen(child.url, 1)
	defer g.close()
	for deadline := time.Now().Add(15 * time.Minute); got.FannedOut < n; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fanned out %d of %d in 15 minutes", got.FannedOut, n)
		}
		code, b, err := g.do(http.MethodGet, "/v1/broadcasts/"+got.ID, nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /v1/broadcasts/%s: %d %s %v", got.ID, code, b, err)
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
	}
	done := time.Since(start)
	peak, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	logCores(t, win)
	t.Logf("binary: idle RSS %.1f MiB; a %d-row CSV audience uploaded, stored and its broadcast accepted in %v, fanned out in %v; "+
		"peak RSS %.1f MiB, VmHWM %.1f MiB (load %s)", mib(idle.RSS), n, accepted.Round(time.Millisecond),
		done.Round(time.Millisecond), mib(peak.RSS), mib(peak.HWM), loadAvg())
	sc.check(t, "binary RSS peak during 1M-row CSV audience", mib(peak.RSS), mib(targetRSS), "MiB", true)
}

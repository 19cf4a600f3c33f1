package benchcompare

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/minipush/minipush/internal/perfprobe"
)

// headroom: the sender, delivering to the mock, under an open-model load of
// cfg.Rate accepts a second for cfg.Pace (vegeta keeps the schedule however
// slow the answers), with or without a hog child spinning one of the
// machine's cores. The figure is the accept latency's p99.
func headroom(ctx context.Context, cfg Config, snd, mock *child, withHog bool) (Row, error) {
	name := "sender/headroom"
	pids := []int{snd.pid, mock.pid}
	var h *child
	if withHog {
		name += "_hog"
		var err error
		if h, err = startChild(ctx, cfg.Self, []string{"-serve", ServeHog}, firstLine); err != nil {
			return Row{}, fmt.Errorf("hog: %w", err)
		}
		defer h.stop()
		pids = append(pids, h.pid)
		time.Sleep(200 * time.Millisecond) // let it take its core
	}
	client := keepAlive(4)
	defer client.CloseIdleConnections()
	before, err := mockCounts(client, mock.url)
	if err != nil {
		return Row{}, err
	}
	n := cfg.Rate * int(cfg.Pace/time.Second)
	bodies := messageBodies(n+cfg.Rate, "")
	var seq atomic.Int64
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + senderKey}}
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodPost, snd.url+"/v1/messages", hdr
		t.Body = bodies[int(seq.Add(1)-1)%len(bodies)]
		return nil
	}
	lat := perfprobe.NewLatencies()
	win := startWindow(pids...)
	s0, _ := perfprobe.ThreadsCPU(snd.pid)
	m0, _ := perfprobe.ThreadsCPU(mock.pid)
	var h0 time.Duration
	if h != nil {
		h0, _ = perfprobe.ThreadsCPU(h.pid)
	}
	start := time.Now()
	atk := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Connections(256), vegeta.Timeout(10*time.Second))
	sent, bad := 0, 0
	var firstBad string
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: cfg.Rate, Per: time.Second}, cfg.Pace, "accept") {
		sent++
		lat.Record(res.Latency)
		if res.Code != http.StatusAccepted {
			if bad++; bad == 1 {
				firstBad = fmt.Sprintf("HTTP %d %s %s", res.Code, res.Error, bytes.TrimSpace(res.Body))
			}
		}
	}
	wall := time.Since(start)
	s1, _ := perfprobe.ThreadsCPU(snd.pid)
	m1, _ := perfprobe.ThreadsCPU(mock.pid)
	var hogCores float64
	if h != nil {
		h1, _ := perfprobe.ThreadsCPU(h.pid)
		hogCores = (h1 - h0).Seconds() / wall.Seconds()
	}
	others := win.others()
	if bad > 0 {
		return Row{}, fmt.Errorf("%d of %d accepts failed; first: %s", bad, sent, firstBad)
	}
	// Every accepted message is delivered before the next phase.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		st, err := mockCounts(client, mock.url)
		if err != nil {
			return Row{}, err
		}
		if st.Delivered >= before.Delivered+uint64(sent) {
			break
		}
		if time.Now().After(deadline) {
			return Row{}, fmt.Errorf("after 2 minutes the mock received %d of %d", st.Delivered-before.Delivered, sent)
		}
	}
	return Row{Name: name, Requests: sent, ServerRPS: float64(sent) / wall.Seconds(),
		ServerCPU: perReq(s1-s0, sent), NeighbourCPU: perReq(m1-m0, sent), OthersCPU: others, Load: loadAvg(),
		Extra: map[string]float64{"p50_ms": ms(lat.Quantile(50)), "p99_ms": ms(lat.Quantile(99)),
			"p999_ms": ms(lat.Quantile(99.9)), "max_ms": ms(lat.Max()), "hog_cores": hogCores}}, nil
}

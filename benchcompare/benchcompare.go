// Package benchcompare measures the mock and the sender side by side with
// the cheapest server of the same requests, on one machine, in one run
// (make bench-compare, docs/performance.md).
//
// Every server runs in its own process — the plain net/http handlers and
// the mock as children of this program (Serve), the sender as its real
// binary — and the load generator in this process, so each server's CPU is
// its own: read to the nanosecond from /proc/<pid>/task/*/schedstat around
// each of its turns. Two servers of a pair (the mock's send and the plain
// handler of the same request; the sender's accept and a plain accept
// handler) take alternating turns of the same requests, so neighbours on a
// shared machine weigh on both alike; each figure carries the CPU the rest
// of the machine used meanwhile ("others", in cores) and the load average.
//
// Ratios are plain ÷ server: 1.0 is as cheap as a handler that only
// decodes the body and writes the answer. The CI check compares the CPU
// ratios with a committed baseline (Check), never absolute times, which
// move with the machine.
package benchcompare

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minipush/minipush/internal/benchload"
	"github.com/minipush/minipush/internal/perfprobe"
	"github.com/minipush/minipush/internal/sendcases"
)

// Config is one comparison run.
type Config struct {
	// Self is this program's binary, re-run with -serve for the children.
	Self string
	// Sender is the sender binary.
	Sender string
	// SenderProfile, when set, has the sender write a CPU profile of its
	// whole run there (its -cpuprofile).
	SenderProfile string
	// MockProfile, when set, has the mock child write a CPU profile of
	// its whole run there.
	MockProfile string
	// Requests is how many requests each server of a pair receives.
	Requests int
	// Turn is how many requests one server takes before the other's turn.
	Turn int
	// Workers is the number of concurrent keep-alive clients.
	Workers int
	// Cases limits the mock cases to these names (nil: all).
	Cases []string
	// Rate and Pace are the headroom phase's open-model load; Pace 0
	// skips the phase.
	Rate int
	Pace time.Duration
	// Dir holds the sender's configuration and database.
	Dir string
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Row is one compared figure.
type Row struct {
	Name string `json:"name"`
	// Requests each server answered (or messages delivered).
	Requests int `json:"requests"`
	// ServerRPS and PlainRPS are each side's throughput over its own
	// turns.
	ServerRPS float64 `json:"server_rps"`
	PlainRPS  float64 `json:"plain_rps,omitempty"`
	// ServerCPU and PlainCPU are each server's CPU per request, µs.
	ServerCPU float64 `json:"server_cpu_us"`
	PlainCPU  float64 `json:"plain_cpu_us,omitempty"`
	// RatioRPS is ServerRPS ÷ PlainRPS; RatioCPU is PlainCPU ÷
	// ServerCPU (1: as cheap as the plain handler).
	RatioRPS float64 `json:"ratio_rps,omitempty"`
	RatioCPU float64 `json:"ratio_cpu"`
	// OthersCPU is what the neighbours on the machine used meanwhile, in
	// cores (the machine's CPU less this program and its children);
	// NeighbourCPU is the CPU of the other servers of the run that worked
	// for this figure (the mock behind the sender), µs per request.
	OthersCPU    float64 `json:"others_cores"`
	NeighbourCPU float64 `json:"neighbour_cpu_us,omitempty"`
	Load         float64 `json:"load1"`
	// Extra figures: p50/p99 in ms, the client's signing time, …
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Report is a run's figures.
type Report struct {
	When  time.Time `json:"when"`
	CPUs  int       `json:"cpus"`
	Go    string    `json:"go"`
	Rows  []Row     `json:"rows"`
	Notes []string  `json:"notes,omitempty"`
}

// Row returns the row named name.
func (r Report) Row(name string) (Row, bool) {
	for _, x := range r.Rows {
		if x.Name == name {
			return x, true
		}
	}
	return Row{}, false
}

// Run measures every pair and the headroom figure.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Requests <= 0 || cfg.Turn <= 0 || cfg.Workers <= 0 {
		return Report{}, errors.New("benchcompare: requests, turn and workers must be positive")
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	rep := Report{When: time.Now().UTC(), CPUs: runtime.NumCPU(), Go: runtime.Version()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	plain, err := startChild(ctx, cfg.Self, []string{"-serve", ServePlain}, firstLine)
	if err != nil {
		return rep, fmt.Errorf("plain server: %w", err)
	}
	defer plain.stop()
	mockArgs := []string{"-serve", ServeMock}
	if cfg.MockProfile != "" {
		mockArgs = append(mockArgs, "-cpuprofile", cfg.MockProfile)
	}
	mock, err := startChild(ctx, cfg.Self, mockArgs, firstLine)
	if err != nil {
		return rep, fmt.Errorf("mock: %w", err)
	}
	defer mock.stop()
	client := keepAlive(2 * cfg.Workers)
	defer client.CloseIdleConnections()

	for _, c := range sendcases.All() {
		if len(cfg.Cases) > 0 && !contains(cfg.Cases, c.Name) {
			continue
		}
		logf("mock %s …", c.Name)
		row, err := compareCase(ctx, cfg, client, c, mock, plain)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", c.Name, err)
		}
		rep.Rows = append(rep.Rows, row)
	}

	if cfg.Sender == "" {
		rep.Notes = append(rep.Notes, "no sender binary given: the sender rows are missing")
		return rep, nil
	}
	snd, err := startSender(ctx, cfg, mock.url)
	if err != nil {
		return rep, err
	}
	defer snd.stop()
	logf("sender accept …")
	acc, err := compareAccept(ctx, cfg, client, snd, plain)
	if err != nil {
		return rep, fmt.Errorf("sender accept: %w", err)
	}
	rep.Rows = append(rep.Rows, acc)
	logf("sender delivered …")
	del, err := delivered(ctx, cfg, client, snd, mock, acc.PlainCPU)
	if err != nil {
		return rep, fmt.Errorf("sender delivered: %w", err)
	}
	rep.Rows = append(rep.Rows, del)
	if cfg.Pace > 0 {
		for _, withHog := range []bool{false, true} {
			logf("sender headroom (hog %v) …", withHog)
			row, err := headroom(ctx, cfg, snd, mock, withHog)
			if err != nil {
				return rep, fmt.Errorf("headroom: %w", err)
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keepAlive(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute, DisableCompression: true}}
}

// side is one server of a pair: its process, the target and what it
// measured over its turns.
type side struct {
	pid    int
	target benchload.Target
	res    benchload.Result
	cpu    time.Duration
	// turns is the CPU per request of each of its turns, µs, in order.
	turns []float64
}

// alternate sends n requests to each of a and b in alternating turns (who
// goes first alternates too), each turn after a full GC of this process,
// and adds up each server's CPU over its own turns.
func alternate(ctx context.Context, client *http.Client, a, b *side, n, turn, workers int) error {
	for round, left := 0, n; left > 0; round++ {
		k := min(turn, left)
		left -= k
		order := [2]*side{a, b}
		if round%2 == 1 {
			order[0], order[1] = b, a
		}
		for _, s := range order {
			runtime.GC()
			c0, err := perfprobe.ThreadsCPU(s.pid)
			if err != nil {
				return err
			}
			res, err := benchload.Run(ctx, client, s.target, k, workers)
			if err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
			c1, err := perfprobe.ThreadsCPU(s.pid)
			if err != nil {
				return err
			}
			s.cpu += c1 - c0
			s.turns = append(s.turns, perReq(c1-c0, res.Requests))
			s.res.Merge(res)
		}
	}
	return nil
}

func perReq(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1e3 / float64(n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pairRow is the row of a finished pair.
func pairRow(name string, server, plain *side, win window) Row {
	row := Row{Name: name, Requests: server.res.Requests, ServerRPS: server.res.RPS(), PlainRPS: plain.res.RPS(),
		ServerCPU: perReq(server.cpu, server.res.Requests), PlainCPU: perReq(plain.cpu, plain.res.Requests),
		OthersCPU: win.others(), Load: loadAvg(),
		Extra: map[string]float64{
			"server_p50_ms": ms(server.res.Percentile(50)), "server_p99_ms": ms(server.res.Percentile(99)),
			"plain_p50_ms": ms(plain.res.Percentile(50)), "plain_p99_ms": ms(plain.res.Percentile(99)),
		}}
	if row.PlainRPS > 0 {
		row.RatioRPS = row.ServerRPS / row.PlainRPS
	}
	row.RatioCPU = medianRatio(plain.turns, server.turns)
	if row.RatioCPU == 0 && row.ServerCPU > 0 {
		row.RatioCPU = row.PlainCPU / row.ServerCPU
	}
	row.Extra["ratio_cpu_min"], row.Extra["ratio_cpu_max"] = spread(plain.turns, server.turns)
	return row
}

// medianRatio is the median over rounds of plain ÷ server CPU per request,
// each round's two turns side by side (0 without rounds): a turn that a
// neighbour's burst or a GC cycle happened to hit moves one round's ratio,
// not the figure. (Measured at load 35: across three runs of 6,000
// requests the median of rounds and the pooled ratio — all CPU ÷ all
// requests — swung alike, 1–27 % per figure: docs/performance.md.)
func medianRatio(plain, server []float64) float64 {
	r := roundRatios(plain, server)
	if len(r) == 0 {
		return 0
	}
	slices.Sort(r)
	if len(r)%2 == 1 {
		return r[len(r)/2]
	}
	return (r[len(r)/2-1] + r[len(r)/2]) / 2
}

func roundRatios(plain, server []float64) []float64 {
	var r []float64
	for i := range min(len(plain), len(server)) {
		if server[i] > 0 && plain[i] > 0 {
			r = append(r, plain[i]/server[i])
		}
	}
	return r
}

// spread is the lowest and highest round ratio.
func spread(plain, server []float64) (lo, hi float64) {
	r := roundRatios(plain, server)
	if len(r) == 0 {
		return 0, 0
	}
	return slices.Min(r), slices.Max(r)
}

// compareCase runs one platform send against the mock and its plain
// handler.
func compareCase(ctx context.Context, cfg Config, client *http.Client, c sendcases.Case, mock, plain *child) (Row, error) {
	warm := 2 * cfg.Workers
	before, err := mockCounts(client, mock.url)
	if err != nil {
		return Row{}, err
	}
	req, err := c.Prepare(client, mock.url, warm+cfg.Requests)
	if err != nil {
		return Row{}, fmt.Errorf("prepare: %w", err)
	}
	var (
		mu      sync.Mutex
		failed  int
		firstNo string
	)
	check := func(status int, body []byte) error {
		if !c.Success(status, body) {
			mu.Lock()
			if failed++; failed == 1 {
				firstNo = fmt.Sprintf("HTTP %d %.300s", status, body)
			}
			mu.Unlock()
		}
		return nil
	}
	target := func(base string) benchload.Target {
		return benchload.Target{Method: http.MethodPost, URL: base + req.Path, Header: req.Header,
			NextRequest: req.Cycle(), Check: check}
	}
	m := &side{pid: mock.pid, target: target(mock.url)}
	p := &side{pid: plain.pid, target: target(plain.url)}
	for _, s := range []*side{m, p} {
		if _, err := benchload.Run(ctx, client, s.target, warm, cfg.Workers); err != nil {
			return Row{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	win := startWindow(mock.pid, plain.pid)
	if err := alternate(ctx, client, m, p, cfg.Requests, cfg.Turn, cfg.Workers); err != nil {
		return Row{}, err
	}
	row := pairRow("mock/"+c.Name, m, p, win)
	if failed > 0 {
		return row, fmt.Errorf("%d answers were not a success; first: %s", failed, firstNo)
	}
	after, err := mockCounts(client, mock.url)
	if err != nil {
		return row, err
	}
	want := warm + cfg.Requests
	if c.Inbox && after.Delivered-before.Delivered != uint64(want) {
		return row, fmt.Errorf("the mock delivered %d messages, want %d", after.Delivered-before.Delivered, want)
	}
	for k, v := range req.Extra {
		row.Extra[k] = v
	}
	return row, nil
}

// mockStats is the part of /_mock/stats the comparison reads.
type mockStats struct {
	Delivered uint64 `json:"delivered_total"`
}

func mockCounts(c *http.Client, base string) (mockStats, error) {
	resp, err := c.Get(base + "/_mock/stats")
	if err != nil {
		return mockStats{}, err
	}
	defer resp.Body.Close()
	var st mockStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return mockStats{}, fmt.Errorf("mock stats: %w", err)
	}
	return st, nil
}

// window measures the CPU the rest of the machine used over a phase: the
// machine's busy time less this process's and the children's.
type window struct {
	start    time.Time
	self     time.Duration
	machine  time.Duration
	pids     []int
	children []time.Duration
}

func startWindow(pids ...int) window {
	w := window{start: time.Now(), self: perfprobe.SelfCPU(), pids: pids}
	w.machine, _ = perfprobe.MachineCPU()
	for _, p := range pids {
		c, _ := perfprobe.ThreadsCPU(p)
		w.children = append(w.children, c)
	}
	return w
}

// others is the neighbours' CPU since the start, in cores.
func (w window) others() float64 {
	wall := time.Since(w.start).Seconds()
	m, err := perfprobe.MachineCPU()
	if err != nil || wall <= 0 {
		return 0
	}
	used := perfprobe.SelfCPU() - w.self
	for i, p := range w.pids {
		c, _ := perfprobe.ThreadsCPU(p)
		used += c - w.children[i]
	}
	return max(0, (m-w.machine-used).Seconds()/wall)
}

func loadAvg() float64 {
	l, _ := perfprobe.ReadLoadAvg()
	return l[0]
}

// child is a server process.
type child struct {
	pid    int
	url    string
	cmd    *exec.Cmd
	stderr *tail
	done   chan struct{}
}

// tail keeps the last lines a child wrote, for its error.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines = append(t.lines, s); len(t.lines) > 20 {
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// firstLine: the child's URL is the first line of its stdout.
func firstLine(stdout, _ string) (string, bool) { return strings.TrimSpace(stdout), stdout != "" }

// startChild runs bin with args and waits until ready reports the child's
// URL from a line of its stdout or stderr.
func startChild(ctx context.Context, bin string, args []string, ready func(stdout, stderr string) (string, bool)) (*child, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{pid: cmd.Process.Pid, cmd: cmd, stderr: &tail{}, done: make(chan struct{})}
	urls := make(chan string, 2)
	var wg sync.WaitGroup
	scan := func(r io.Reader, isOut bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			c.stderr.add(line)
			var u string
			var ok bool
			if isOut {
				u, ok = ready(line, "")
			} else {
				u, ok = ready("", line)
			}
			if ok {
				select {
				case urls <- u:
				default:
				}
			}
		}
	}
	wg.Add(2)
	go scan(stdout, true)
	go scan(stderr, false)
	go func() { wg.Wait(); close(c.done) }()
	select {
	case c.url = <-urls:
		return c, nil
	case <-c.done:
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s exited before it listened:\n%s", filepath.Base(bin), c.stderr)
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not listen within 60 s:\n%s", filepath.Base(bin), c.stderr)
	}
}

// stop ends the child (SIGTERM, then SIGKILL) and waits for it.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-exited
	}
}

var senderListening = regexp.MustCompile(`msg="sender listening" url=(http://\S+)`)

const (
	senderApp = "bench"
	senderKey = "benchcompare-api-key-000000000001"
)

// startSender runs the sender binary with one WeChat app on the mock.
func startSender(ctx context.Context, cfg Config, mockURL string) (*child, error) {
	dir := cfg.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "sender.yaml")
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
storage: {path: %q}
api_keys: [{name: bench, key: %q, rate: {per_second: 0}}]
apps:
  - {name: %s, platform: wechat, app_id: %s, secret: %q, base_url: %q}
log: {level: info}
`, filepath.Join(dir, "db", "minipush.db"), senderKey, senderApp, sendcases.WeChatAppID, sendcases.WeChatSecret, mockURL)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-config", path}
	if cfg.SenderProfile != "" {
		args = append(args, "-cpuprofile", cfg.SenderProfile)
	}
	return startChild(ctx, cfg.Sender, args, func(_, stderr string) (string, bool) {
		if m := senderListening.FindStringSubmatch(stderr); m != nil {
			return m[1], true
		}
		return "", false
	})
}

// messageBodies are n accepted-message bodies to the bench user, each its
// own (page and data carry i), due at sendAt ("" for now).
func messageBodies(n int, sendAt string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b := make([]byte, 0, 320)
		b = append(b, `{"app":"`+senderApp+`","to":"`+sendcases.WeChatUser+`","template_id":"`+sendcases.WeChatTemplate+
			`","page":"pages/order/detail?id=`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","data":{"thing1":"无线耳机","character_string2":"SF`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","time3":"2024-05-01 15:01"}`...)
		if sendAt != "" {
			b = append(b, `,"send_at":"`+sendAt+`"`...)
		}
		out[i] = append(b, '}')
	}
	return out
}

func acceptTarget(base string, bodies [][]byte, check func(int, []byte) error) benchload.Target {
	return benchload.Target{Method: http.MethodPost, URL: base + "/v1/messages",
		Header:   http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + senderKey}},
		NextBody: benchload.Cycle(bodies), Check: check}
}

func accepted(status int, body []byte) error {
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /v1/messages: HTTP %d %.300s", status, body)
	}
	return nil
}

// compareAccept: the sender's durable accept (messages due in an hour, so
// nothing is delivered meanwhile) against the plain accept handler.
func compareAccept(ctx context.Context, cfg Config, client *http.Client, snd, plain *child) (Row, error) {
	warm := 2 * cfg.Workers
	bodies := messageBodies(warm+cfg.Requests, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	s := &side{pid: snd.pid, target: acceptTarget(snd.url, bodies, accepted)}
	p := &side{pid: plain.pid, target: acceptTarget(plain.url, bodies, accepted)}
	for _, x := range []*side{s, p} {
		if _, err := benchload.Run(ctx, client, x.target, warm, cfg.Workers); err != nil {
			return Row{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	win := startWindow(snd.pid, plain.pid)
	if err := alternate(ctx, client, s, p, cfg.Requests, cfg.Turn, cfg.Workers); err != nil {
		return Row{}, err
	}
	return pairRow("sender/accepted", s, p, win), nil
}

// delivered: cfg.Requests messages due now, posted as fast as the clients
// go; the clock and the CPU run from the first post until the mock has
// received them all. The ratio is against the plain accept handler's CPU
// per request (plainCPU).
func delivered(ctx context.Context, cfg Config, client *http.Client, snd, mock *child, plainCPU float64) (Row, error) {
	before, err := mockCounts(client, mock.url)
	if err != nil {
		return Row{}, err
	}
	bodies := messageBodies(cfg.Requests, "")
	win := startWindow(snd.pid, mock.pid)
	s0, _ := perfprobe.ThreadsCPU(snd.pid)
	m0, _ := perfprobe.ThreadsCPU(mock.pid)
	start := time.Now()
	res, err := benchload.Run(ctx, client, acceptTarget(snd.url, bodies, accepted), cfg.Requests, cfg.Workers)
	if err != nil {
		return Row{}, err
	}
	acceptFor := time.Since(start)
	want := before.Delivered + uint64(cfg.Requests)
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		st, err := mockCounts(client, mock.url)
		if err != nil {
			return Row{}, err
		}
		if st.Delivered >= want {
			break
		}
		if time.Now().After(deadline) {
			return Row{}, fmt.Errorf("after 5 minutes the mock received %d of %d", st.Delivered-before.Delivered, cfg.Requests)
		}
	}
	took := time.Since(start)
	s1, _ := perfprobe.ThreadsCPU(snd.pid)
	m1, _ := perfprobe.ThreadsCPU(mock.pid)
	row := Row{Name: "sender/delivered", Requests: cfg.Requests, ServerRPS: float64(cfg.Requests) / took.Seconds(),
		ServerCPU: perReq(s1-s0, cfg.Requests), PlainCPU: plainCPU, NeighbourCPU: perReq(m1-m0, cfg.Requests),
		OthersCPU: win.others(), Load: loadAvg(),
		Extra: map[string]float64{"accepted_per_s": float64(res.Requests) / acceptFor.Seconds(),
			"accept_p99_ms": ms(res.Percentile(99))}}
	if row.ServerCPU > 0 {
		row.RatioCPU = plainCPU / row.ServerCPU
	}
	return row, nil
}

package sender_test

// TestScale (issue 15, opt-in): the sender's cost must not grow with its
// history. It preloads a database with MINIPUSH_SCALE delivered messages
// (10,000,000 for the figure; each with its attempt and platform
// msgid) and 1,000 failed ones spread among them, and measures on it and
// on a database holding only the 1,000 failed messages, alternating
// (small, big, small, big; MINIPUSH_SCALE_ROUNDS rounds, default 2):
//
//	accept       msg/s of 64 clients posting 20,000 messages (202 after commit)
//	delivered    msg/s from the first post until the mock holds all 20,000
//	status p99   GET /v1/messages/{id} of random preloaded (or just sent) messages
//	failed p99   GET /v1/messages?status=failed&limit=100
//	metrics      GET /metrics (queue depth per status), mean and p99
//
// Each figure is reported for both with the big ÷ small ratio; the issue's
// target is within 10 %. The preloaded file is kept in MINIPUSH_SCALE_DIR
// (default: the system's temp dir) and reused by later runs, since writing
// 10 million rows takes minutes.
//
//	MINIPUSH_SCALE=10000000 go test -run '^TestScale$' -v -timeout 2h ./sender/

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

const (
	scaleEnv    = "MINIPUSH_SCALE"
	scaleDirEnv = "MINIPUSH_SCALE_DIR"
	// scaleFailed failed messages in both databases: the failed list
	// reads the same pages from each.
	scaleFailed = 1000
	scaleBurst  = 20000
)

func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(scaleEnv))
	if n <= 0 {
		t.Skip("opt-in: " + scaleEnv + "=10000000 go test -run '^TestScale$' -v -timeout 2h ./sender/ (docs/performance.md)")
	}
	dir := os.Getenv(scaleDirEnv)
	if dir == "" {
		dir = os.TempDir()
	}
	big := filepath.Join(dir, fmt.Sprintf("minipush-scale-%d.db", n))
	if _, err := os.Stat(big); err != nil {
		start := time.Now()
		if err := preload(big, n); err != nil {
			_ = os.Remove(big)
			t.Fatal(err)
		}
		st, _ := os.Stat(big)
		t.Logf("preloaded %d delivered + %d failed messages into %s in %v (%.1f GiB)", n, scaleFailed, big,
			time.Since(start).Round(time.Second), float64(st.Size())/(1<<30))
	}
	small := filepath.Join(t.TempDir(), "small.db")
	if err := preload(small, 0); err != nil {
		t.Fatal(err)
	}
	results := map[string][]scaleFigures{}
	rounds := 2
	if v, err := strconv.Atoi(os.Getenv("MINIPUSH_SCALE_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	for round := range rounds {
		for _, db := range []struct{ name, path string }{{"small", small}, {"big", big}} {
			f := measureScale(t, db.path, round)
			t.Logf("%s (round %d): %s", db.name, round+1, f)
			results[db.name] = append(results[db.name], f)
		}
	}
	s, b := best(results["small"]), best(results["big"])
	t.Logf("best of %d, %d delivered preloaded vs none (both with %d failed), big vs small (load %s):", rounds, n, scaleFailed, loadAvg())
	t.Logf("  accept      %8.0f vs %8.0f msg/s   ratio %.2f", b.accept, s.accept, b.accept/s.accept)
	t.Logf("  delivered   %8.0f vs %8.0f msg/s   ratio %.2f", b.delivered, s.delivered, b.delivered/s.delivered)
	t.Logf("  status p99  %8.2f vs %8.2f ms      ratio %.2f", b.statusP99, s.statusP99, b.statusP99/s.statusP99)
	t.Logf("  failed p99  %8.2f vs %8.2f ms      ratio %.2f", b.failedP99, s.failedP99, b.failedP99/s.failedP99)
	t.Logf("  metrics     %8.2f vs %8.2f ms mean ratio %.2f (p99 %.2f vs %.2f)", b.metricsMean, s.metricsMean,
		b.metricsMean/s.metricsMean, b.metricsP99, s.metricsP99)
}

type scaleFigures struct {
	accept, delivered               float64 // msg/s
	statusP99, failedP99            float64 // ms
	metricsMean, metricsP99, others float64
}

func (f scaleFigures) String() string {
	return fmt.Sprintf("accept %.0f/s, delivered %.0f/s, status p99 %.2f ms, failed-list p99 %.2f ms, /metrics mean %.2f p99 %.2f ms, others %.2f cores (load %s)",
		f.accept, f.delivered, f.statusP99, f.failedP99, f.metricsMean, f.metricsP99, f.others, loadAvg())
}

// best keeps each figure's better value of the runs: a neighbour's burst
// on the shared machine only ever makes a figure worse.
func best(fs []scaleFigures) scaleFigures {
	b := fs[0]
	for _, f := range fs[1:] {
		b.accept, b.delivered = max(b.accept, f.accept), max(b.delivered, f.delivered)
		b.statusP99, b.failedP99 = min(b.statusP99, f.statusP99), min(b.failedP99, f.failedP99)
		b.metricsMean, b.metricsP99 = min(b.metricsMean, f.metricsMean), min(b.metricsP99, f.metricsP99)
	}
	return b
}

// measureScale runs the sender on the database at path (retention off:
// the history is the point) and takes the figures.
func measureScale(t *testing.T, path string, round int) scaleFigures {
	mock := startPerfMock(t, perfUsers, 2*scaleBurst+perfClients)
	cfg := perfConfig(t, mock.URL, nil)
	cfg.Storage.Path = path
	cfg.Retention = config.Retention{}
	cfg.APIRate = config.KeyRate{} // 64 clients as fast as they go
	s := startService(t, mock, cfg, nil)
	defer s.stop()
	g := newLoadGen(s.URL, perfClients)
	defer g.close()
	before, err := mock.Control.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	from := (round + 1) * 10 * scaleBurst // bodies unique across rounds
	win := startCPU(0)
	start := time.Now()
	took, err := g.burst(from, scaleBurst, perfClients, perfUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The mock's inbox is the clock (the sender's own counts hold the
	// preloaded failed messages).
	var done time.Time
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		st, err := mock.Control.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Delivered >= before.Delivered+scaleBurst {
			done = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes the mock holds %d of %d", st.Delivered-before.Delivered, scaleBurst)
		}
	}
	f := scaleFigures{accept: scaleBurst / took.Seconds(), delivered: scaleBurst / done.Sub(start).Seconds()}

	// Reads: ids of preloaded messages where there are some, else of
	// the failed ones.
	var total int
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT MAX(seq) FROM messages`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, 2000)
	for range 2000 {
		var id string
		if err := db.QueryRow(`SELECT id FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1`, 1+rand.IntN(total)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	db.Close()
	lat := perfprobe.NewLatencies()
	for _, id := range ids {
		t0 := time.Now()
		if code, b, err := g.do(http.MethodGet, "/v1/messages/"+id, nil); err != nil || code != http.StatusOK {
			t.Fatalf("GET /v1/messages/%s: %d %s %v", id, code, b, err)
		}
		lat.Record(time.Since(t0))
	}
	f.statusP99 = perfprobe.MS(lat.Quantile(99))
	lat = perfprobe.NewLatencies()
	for range 300 {
		t0 := time.Now()
		if code, b, err := g.do(http.MethodGet, "/v1/messages?status=failed&limit=100", nil); err != nil || code != http.StatusOK {
			t.Fatalf("GET failed list: %d %.200s %v", code, b, err)
		}
		lat.Record(time.Since(t0))
	}
	f.failedP99 = perfprobe.MS(lat.Quantile(99))
	lat = perfprobe.NewLatencies()
	var sum time.Duration
	for range 300 {
		t0 := time.Now()
		if code, _, err := g.do(http.MethodGet, "/metrics", nil); err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", code, err)
		}
		d := time.Since(t0)
		sum += d
		lat.Record(d)
	}
	f.metricsMean = perfprobe.MS(sum / 300)
	f.metricsP99 = perfprobe.MS(lat.Quantile(99))
	_, _, f.others = win.cores()
	return f
}

// preload creates the database at path (schema by sqlite.Open) and writes
// n delivered messages with one attempt each, and scaleFailed failed ones
// spread evenly among them, in one statement each, as the sender would
// have stored them; the status counts are set to match.
func preload(path string, n int) error {
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", path+"?_pragma=synchronous(OFF)&_pragma=cache_size(-262144)&_pragma=foreign_keys(0)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	total := n + scaleFailed
	every := max(1, total/scaleFailed)
	now := time.Now().Add(-time.Hour).UnixMilli()
	stmts := []string{
		`BEGIN`,
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
INSERT INTO messages (seq, id, app, platform, recipient, template_id, data, page, status, retries, next_attempt_at,
	platform_msgid, last_code, last_error, created_at, updated_at, claims)
SELECT x, printf('msg_pre_%%012d', x), '%s', 'wechat', printf('o_perf_%%07d', x %% 1000), '%s',
	'{"thing1":"咖啡豆已发货","time2":"2024-05-01 12:30","character_string3":"' || x || '"}', 'pages/order/detail?id=' || x,
	CASE WHEN x %% %d = 0 AND %d > 0 OR %d = 0 THEN 'failed' ELSE 'delivered' END, 0, %d - (%d - x),
	CASE WHEN x %% %d = 0 AND %d > 0 OR %d = 0 THEN '' ELSE printf('pm_%%012d', x) END,
	CASE WHEN x %% %d = 0 AND %d > 0 OR %d = 0 THEN '43101' ELSE '' END,
	CASE WHEN x %% %d = 0 AND %d > 0 OR %d = 0 THEN 'user refuse to accept the msg' ELSE '' END,
	%d - (%d - x), %d - (%d - x), 1
FROM c`, total, perfApp, tmpl, every, n, n, now, total, every, n, n, every, n, n, every, n, n, now, total, now, total),
		`INSERT INTO attempts (message_id, n, at, outcome, code, message, latency_ms)
SELECT id, 1, updated_at, CASE status WHEN 'failed' THEN 'permanent' ELSE 'delivered' END,
	CASE status WHEN 'failed' THEN '43101' ELSE '0' END, CASE status WHEN 'failed' THEN 'user refuse to accept the msg' ELSE 'ok' END, 3.5
FROM messages ORDER BY id`,
		`UPDATE status_counts SET n = (SELECT COUNT(*) FROM messages WHERE messages.status = status_counts.status)`,
		`COMMIT`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("preload %s: %w", path, err)
		}
	}
	return nil
}

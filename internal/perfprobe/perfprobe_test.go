package perfprobe

import (
	"os"
	"testing"
	"time"
)

func TestLatenciesQuantiles(t *testing.T) {
	t.Parallel()
	l := NewLatencies()
	if got := l.Quantile(99); got != 0 {
		t.Fatalf("empty p99 = %v, want 0", got)
	}
	// 1..1000 ms: p50 is 500ms, p99 990ms, max 1s (within HDR's 0.1%).
	for i := 1; i <= 1000; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	l.Record(0)         // clamped up to 1µs
	l.Record(time.Hour) // clamped down to 60s
	for _, c := range []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"p50", l.Quantile(50), 500 * time.Millisecond},
		{"p99", l.Quantile(99), 990 * time.Millisecond},
		{"max", l.Max(), time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := c.got - c.want; diff < -c.want/500 || diff > c.want/500 {
				t.Errorf("%s = %v, want %v ±0.2%%", c.name, c.got, c.want)
			}
		})
	}
	if n := l.Count(); n != 1002 {
		t.Errorf("count = %d, want 1002", n)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		in      string
		want    Memory
		wantErr bool
	}{
		{"linux", "Name:\tsender\nVmPeak:\t  900 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t9\n",
			Memory{RSS: 1 << 20, HWM: 2 << 20}, false},
		{"kernel thread", "Name:\tkthreadd\nThreads:\t1\n", Memory{}, true},
		{"bad unit", "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", Memory{}, true},
		{"bad number", "VmHWM:\t x kB\nVmRSS:\t 1 kB\n", Memory{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStatus([]byte(c.in))
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("parseStatus = %+v, %v; want %+v, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// utime 150 and stime 50 ticks: 2s. The name holds ") (" on purpose.
	const stat = "4242 (my) (proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 12345 1000 250 18446744073709551615\n"
	got, err := parseStat(stat)
	if err != nil || got != 2*time.Second {
		t.Fatalf("parseStat = %v, %v; want 2s", got, err)
	}
	if _, err := parseStat("4242 (truncated) S 1"); err == nil {
		t.Error("parseStat of a short line: want an error")
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// user 100 + nice 10 + system 50 + irq 5 + softirq 5 + steal 30 ticks
	// busy; idle 1000 and iowait 20 are not; guest 7 is inside user.
	got, err := parseProcStat("cpu  100 10 50 1000 20 5 5 30 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n")
	if err != nil || got != 2*time.Second {
		t.Fatalf("parseProcStat = %v, %v; want 2s", got, err)
	}
	if _, err := parseProcStat("intr 1 2 3\n"); err == nil {
		t.Error("parseProcStat without a cpu line: want an error")
	}
}

func TestParseLoadAvg(t *testing.T) {
	t.Parallel()
	got, err := parseLoadAvg("5.88 5.99 6.45 3/512 12345\n")
	if err != nil || got != (LoadAvg{5.88, 5.99, 6.45}) || got.String() != "5.88 5.99 6.45" {
		t.Fatalf("parseLoadAvg = %v, %v", got, err)
	}
	if _, err := parseLoadAvg("1.0 x"); err == nil {
		t.Error("parseLoadAvg of garbage: want an error")
	}
}

// The readers work on this very process.
func TestReadSelf(t *testing.T) {
	pid := os.Getpid()
	m, err := ReadMemory(pid)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("memory %+v: want 0 < RSS ≤ HWM", m)
	}
	if _, err := ProcessCPU(pid); err != nil {
		t.Error(err)
	}
	if _, err := ReadLoadAvg(); err != nil {
		t.Error(err)
	}
	if c, err := MachineCPU(); err != nil || c <= 0 {
		t.Errorf("MachineCPU = %v, %v", c, err)
	}
	if SelfCPU() <= 0 {
		t.Error("SelfCPU = 0 for a running test")
	}
	// ThreadsCPU grows with work done, at a finer grain than ticks. The
	// spin lasts until the process has used 20 ms of CPU by getrusage,
	// not 20 ms of wall time: on a loaded machine (load 37) 20 ms of
	// wall time gave the spinner under 1 ms of CPU.
	before, err := ThreadsCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	self := SelfCPU()
	for deadline := time.Now().Add(time.Minute); SelfCPU()-self < 20*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatal("20 ms of CPU not had in a minute of spinning")
		}
	}
	after, err := ThreadsCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 10*time.Millisecond {
		t.Errorf("ThreadsCPU grew %v while the process used 20 ms of CPU, want ≥ 10 ms", d)
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat("123456789 5000 12\n")
	if err != nil || got != 123456789*time.Nanosecond {
		t.Errorf("parseSchedstat = %v, %v", got, err)
	}
	if _, err := parseSchedstat(""); err == nil {
		t.Error("parseSchedstat of an empty line: no error")
	}
}

func TestWatchMemorySeesGrowth(t *testing.T) {
	pid := os.Getpid()
	if _, err := ReadMemory(pid); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	w := WatchMemory(pid, 5*time.Millisecond)
	before := w.Peak()
	// Touch 64 MiB so it is resident, and keep it alive past the samples.
	buf := make([]byte, 64<<20)
	for i := range len(buf) / 4096 {
		buf[i*4096] = 1
	}
	time.Sleep(50 * time.Millisecond)
	peak, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if peak.RSS-before.RSS < 32<<20 {
		t.Errorf("peak RSS %.0f MiB, before %.0f MiB: the watch missed a 64 MiB allocation", MiB(peak.RSS), MiB(before.RSS))
	}
	_ = buf[len(buf)-1]
}

func FuzzParsers(f *testing.F) {
	f.Add("VmHWM:\t 2048 kB\nVmRSS:\t 1024 kB\n")
	f.Add("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0")
	f.Add("0.1 0.2 0.3 1/1 1")
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := parseStatus([]byte(s)); err == nil && (m.RSS < 0 || m.HWM < 0) {
			t.Errorf("parseStatus(%q) = %+v: negative sizes accepted", s, m)
		}
		_, _ = parseStat(s)
		_, _ = parseLoadAvg(s)
		if d, err := parseProcStat(s); err == nil && d < 0 {
			t.Errorf("parseProcStat(%q) = %v: negative", s, d)
		}
	})
}

// Package perfprobe measures the sender for its performance benchmarks
// (sender/bench_test.go, benchcompare, docs/performance.md): latency histograms, a
// process's resident memory and CPU time read from /proc, and the
// machine's load average, which every figure must be read against on a
// shared machine.
//
// It is test support: nothing in the service imports it.
package perfprobe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies is a goroutine-safe HDR histogram of durations from 1µs to
// 60s at 3 significant digits: quantiles are exact to 0.1% however many
// samples, in constant memory.
type Latencies struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

const (
	minLatency = time.Microsecond
	maxLatency = time.Minute
)

// NewLatencies returns an empty histogram.
func NewLatencies() *Latencies {
	return &Latencies{h: hdrhistogram.New(int64(minLatency/time.Microsecond), int64(maxLatency/time.Microsecond), 3)}
}

// Record adds one sample; values outside 1µs..60s are clamped, so a stall
// still counts as a (very) slow sample rather than vanishing.
func (l *Latencies) Record(d time.Duration) {
	us := int64(min(max(d, minLatency), maxLatency) / time.Microsecond)
	l.mu.Lock()
	_ = l.h.RecordValue(us) // in range by construction
	l.mu.Unlock()
}

// Quantile returns the latency at percentile p (0 < p ≤ 100); 0 when empty.
func (l *Latencies) Quantile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.h.ValueAtQuantile(p)) * time.Microsecond
}

// Max is the slowest sample.
func (l *Latencies) Max() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.h.Max()) * time.Microsecond
}

// Count is the number of samples.
func (l *Latencies) Count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.TotalCount()
}

// MS converts a duration to float milliseconds, the unit the benchmarks
// report latencies in.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Memory is a process's resident set: now (VmRSS) and its peak so far
// (VmHWM, the kernel's high-water mark, which no sampling can miss).
type Memory struct {
	RSS, HWM int64 // bytes
}

// MiB is n bytes in mebibytes.
func MiB(n int64) float64 { return float64(n) / (1 << 20) }

// ReadMemory reads /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (Memory, error) {
	var m Memory
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		// "VmRSS:	   12345 kB"
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("parse /proc status: %s: unexpected %q", name, rest)
		}
		kb, err := strconv.ParseUint(f[0], 10, 40) // < 1 PiB: no overflow below
		if err != nil {
			return Memory{}, fmt.Errorf("parse /proc status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			m.RSS, haveRSS = int64(kb)<<10, true
		} else {
			m.HWM, haveHWM = int64(kb)<<10, true
		}
	}
	if !haveRSS || !haveHWM {
		return Memory{}, errors.New("parse /proc status: no VmRSS/VmHWM (a kernel thread, or not Linux)")
	}
	return m, nil
}

// MemoryWatch samples a process's memory on a ticker and keeps the largest
// VmRSS seen, so a phase of a run can report its own peak (VmHWM only ever
// grows over the whole life of the process).
type MemoryWatch struct {
	mu   sync.Mutex
	peak Memory
	last Memory
	err  error
	stop context.CancelFunc
	done chan struct{}
}

// WatchMemory starts sampling pid every interval until Stop.
func WatchMemory(pid int, every time.Duration) *MemoryWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &MemoryWatch{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			w.sample(pid)
			select {
			case <-ctx.Done():
				w.sample(pid)
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *MemoryWatch) sample(pid int) {
	m, err := ReadMemory(pid)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.last = m
	w.peak.RSS = max(w.peak.RSS, m.RSS)
	w.peak.HWM = max(w.peak.HWM, m.HWM)
}

// Reset forgets the peak so far (the start of a new phase).
func (w *MemoryWatch) Reset() {
	w.mu.Lock()
	w.peak = w.last
	w.mu.Unlock()
}

// Peak is the largest VmRSS sampled since the start or the last Reset, and
// the process's VmHWM at the last sample.
func (w *MemoryWatch) Peak() Memory {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// Stop takes a last sample, stops the watch and returns the peak and the
// first sampling error (the process may have exited).
func (w *MemoryWatch) Stop() (Memory, error) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.err
}

// LoadAvg is the machine's 1, 5 and 15-minute load averages.
type LoadAvg [3]float64

func (l LoadAvg) String() string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }

// ReadLoadAvg reads /proc/loadavg.
func ReadLoadAvg() (LoadAvg, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return LoadAvg{}, fmt.Errorf("read load average: %w", err)
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) (LoadAvg, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return LoadAvg{}, fmt.Errorf("parse load average %q", s)
	}
	var l LoadAvg
	for i := range l {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return LoadAvg{}, fmt.Errorf("parse load average %q: %w", s, err)
		}
		l[i] = v
	}
	return l, nil
}

// SelfCPU is this process's CPU time (user + system) so far. On a shared
// machine wall-clock rates depend on the neighbours; CPU per message does
// not (much).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports (the kernel fixes it for user space
// regardless of CONFIG_HZ).
const clockTick = 10 * time.Millisecond

// ProcessCPU reads another process's CPU time (user + system) from
// /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	return parseStat(string(b))
}

func parseStat(s string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces
	// or parentheses: fields are counted from the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat %q", s)
	}
	f := strings.Fields(s[i+1:])
	// After ")": state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the name", len(f))
	}
	var total int64
	for _, x := range f[11:13] {
		v, err := strconv.ParseUint(x, 10, 40) // ticks: 348 years fit
		if err != nil {
			return 0, fmt.Errorf("parse /proc stat: %w", err)
		}
		total += int64(v)
	}
	return time.Duration(total) * clockTick, nil
}

// MachineCPU is the CPU time all processes of the machine have used so
// far (every non-idle field of /proc/stat's "cpu" line). Its growth over a
// run, less this process's, is what the neighbours took from the run.
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read machine cpu time: %w", err)
	}
	return parseProcStat(string(b))
}

func parseProcStat(s string) (time.Duration, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("parse /proc/stat: first line %q", line)
	}
	var busy int64
	for i, x := range f[1:] {
		if i == 3 || i == 4 || i >= 8 {
			continue // idle, iowait; guest time is already in user
		}
		v, err := strconv.ParseUint(x, 10, 40)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/stat: %w", err)
		}
		busy += int64(v)
	}
	return time.Duration(busy) * clockTick, nil
}

// ThreadsCPU is another process's CPU time to the nanosecond: the sum of
// its threads' run time in /proc/<pid>/task/*/schedstat (ProcessCPU counts
// 10 ms ticks, too coarse to tell apart two servers' turns of a few
// hundred milliseconds). Threads that have exited are no longer counted:
// read it around a window in which the process keeps its threads (a Go
// program does). It falls back to ProcessCPU where schedstat is missing.
func ThreadsCPU(pid int) (time.Duration, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read threads of pid %d: %w", pid, err)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return ProcessCPU(pid)
		}
		ns, err := parseSchedstat(string(b))
		if err != nil {
			return 0, err
		}
		total += ns
	}
	return total, nil
}

// parseSchedstat reads the first field of a schedstat line: nanoseconds
// spent on a CPU.
func parseSchedstat(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) < 1 {
		return 0, fmt.Errorf("parse schedstat %q", s)
	}
	v, err := strconv.ParseUint(f[0], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("parse schedstat %q: %w", s, err)
	}
	return time.Duration(v), nil
}

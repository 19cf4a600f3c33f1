package chaos_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/chaos"
)

// mountTmpfs mounts a tmpfs of size at a new directory and unmounts it
// when the test ends. Where mount is not permitted the test is skipped
// with the reason — or fails when MINIPUSH_REQUIRE_CHAOS_MOUNT=1 (a
// machine that must run the probe).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("disk-full probe needs to mount a tmpfs (root or CAP_SYS_ADMIN): mount: %v %s", err, out)
		if os.Getenv("MINIPUSH_REQUIRE_CHAOS_MOUNT") == "1" {
			t.Fatal(msg + " (MINIPUSH_REQUIRE_CHAOS_MOUNT=1)")
		}
		t.Skip(msg + " — skipped; MINIPUSH_REQUIRE_CHAOS_MOUNT=1 makes this a failure")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system has no space left.
func fill(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if errors.Is(err, syscall.ENOSPC) {
			// The last partial blocks.
			for _, sz := range []int{4096, 512, 1} {
				for {
					k, err := f.Write(buf[:sz])
					n += int64(k)
					if err != nil {
						break
					}
				}
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Probe 4: disk full. bin/sender keeps its database on a 32 MB tmpfs;
// messages are posted without pause; mid-run the tmpfs is filled to the
// last byte, held full for a while, then the filler is removed.
//
// Pass: while full, writes answer 503 with Retry-After (never 500, never
// 202 for what was not stored) and /readyz answers 503; the same process
// (no restart) reads ready again and accepts once space returns; every
// accepted message is delivered exactly once.
func TestDiskFull(t *testing.T) {
	mode := chaos.Gate(t)
	fig := chaos.NewFigures("disk_full", mode)
	defer fig.Report(t)
	mnt := mountTmpfs(t, "32m")
	const users = 50
	w := newWorld(t, mode, users, 100_000)
	w.writeConfig(filepath.Join(mnt, "data", "minipush.db"), "", "")
	p := w.startSender()

	var (
		stop                    atomic.Bool
		next                    atomic.Int64
		mu                      sync.Mutex
		accepted                []string
		unavailable, noRetry    atomic.Int64
		other                   = map[int]int{}
		transport               atomic.Int64
		wg                      sync.WaitGroup
		firstUnavailable, after atomic.Int64 // unix ms
	)
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				mk := fmt.Sprintf("d%06d", i)
				to := userName(i % users)
				body := message(to, mk)
				code, hdr, _, err := w.do(p.URL, http.MethodPost, "/v1/messages", body)
				mu.Lock()
				switch {
				case err != nil:
					transport.Add(1)
				case code == http.StatusAccepted:
					accepted = append(accepted, inboxKey(mk, to))
					if firstUnavailable.Load() != 0 && after.Load() == 0 {
						after.Store(time.Now().UnixMilli())
					}
				case code == http.StatusServiceUnavailable:
					unavailable.Add(1)
					firstUnavailable.CompareAndSwap(0, time.Now().UnixMilli())
					if hdr.Get("Retry-After") == "" {
						noRetry.Add(1)
					}
				default:
					other[code]++
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(2 * time.Second)
	filler := filepath.Join(mnt, "filler")
	filled := time.Now()
	n, err := fill(filler)
	if err != nil {
		t.Fatalf("fill the tmpfs: %v", err)
	}
	fig.Set("filler_bytes", n)
	// Not ready, and writes refused, within 30 s.
	if err := chaos.WaitHTTP(t.Context(), p.URL+"/readyz", http.StatusServiceUnavailable, 30*time.Second); err != nil {
		t.Errorf("disk full: %v", err)
	}
	notReadyAfter := time.Since(filled)
	deadline := time.Now().Add(30 * time.Second)
	for unavailable.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Held full a while: deliveries, claims and probes meet the full disk.
	time.Sleep(5 * time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	if err := chaos.WaitHTTP(t.Context(), p.URL+"/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Errorf("space returned: %v\n%s", err, chaos.Tail(w.logPath, 20))
	}
	readyAgain := time.Since(freed)
	deadline = time.Now().Add(30 * time.Second)
	for after.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	select {
	case <-p.Exited(): // recovery must be without a restart
		t.Fatalf("the sender exited during the probe\n%s", chaos.Tail(w.logPath, 20))
	default:
	}
	if err := w.drain(p.URL, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, _ := w.inbox("d")
	lost, dups, _ := reconcile(accepted, got)
	fig.Set("posted", next.Load())
	fig.Set("accepted", len(accepted))
	fig.Set("answered_503", unavailable.Load())
	fig.Set("answered_503_without_retry_after", noRetry.Load())
	fig.Set("answered_other", fmt.Sprint(other))
	fig.Set("transport_errors", transport.Load())
	fig.Set("not_ready_after_s", notReadyAfter.Seconds())
	fig.Set("ready_again_after_s", readyAgain.Seconds())
	fig.Set("lost", lost)
	fig.Set("duplicates", dups)
	if unavailable.Load() == 0 {
		t.Error("no write was answered 503 while the disk was full")
	}
	if noRetry.Load() > 0 {
		t.Errorf("%d answers 503 without Retry-After", noRetry.Load())
	}
	if len(other) > 0 || transport.Load() > 0 {
		t.Errorf("answers other than 202 and 503: %v, %d transport errors", other, transport.Load())
	}
	if after.Load() == 0 {
		t.Error("no message was accepted after space returned")
	}
	if lost > 0 || dups > 0 {
		t.Errorf("%d accepted messages lost, %d duplicates", lost, dups)
	}
}

// Package browsertest runs Go tests in a real browser: headless Chromium
// (Debian's chromium package, installed by .ci/run) driven over the
// DevTools protocol by github.com/chromedp/chromedp.
//
// Start finds Chromium and launches it with a throw-away profile; each test
// opens tabs from it. Where Chromium is missing the test is skipped with a
// message saying how to install it — unless MINIPUSH_REQUIRE_BROWSER=1 (CI
// sets it), where it fails: a browser test that silently skipped must never
// count as a pass there. Screenshot writes PNGs of pages to
// build/reports/ui/ at the module root, on every run, for people to look
// at.
//
// The browser reaches nothing but loopback: every host name other than
// localhost resolves to nothing, and Chromium's background services
// (updates, sync, metrics) are off.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv is the variable that turns a missing browser into a failure.
const RequireEnv = "MINIPUSH_REQUIRE_BROWSER"

// PathEnv names a Chromium binary to use instead of searching PATH.
const PathEnv = "MINIPUSH_CHROMIUM"

// candidates are the names Chromium goes by (Debian: chromium).
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Find returns the path of a Chromium binary: $MINIPUSH_CHROMIUM, else the
// first of the usual names on PATH.
func Find() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", PathEnv, p, err)
		}
		return p, nil
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium on PATH (looked for " + strings.Join(candidates, ", ") + ")")
}

// Viewport is a window size a page is rendered at.
type Viewport struct {
	Name          string
	Width, Height int64
	Scale         float64 // device pixel ratio
	Mobile        bool
}

// The viewports screenshots are taken at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1366, Height: 900, Scale: 1}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Scale: 2, Mobile: true}
)

// Browser is a running headless Chromium.
type Browser struct {
	ctx context.Context // the browser's context; tabs derive from it
}

// Start launches Chromium for the test and stops it when the test ends.
// It skips the test where Chromium is missing, or fails it when
// MINIPUSH_REQUIRE_BROWSER=1.
func Start(tb testing.TB) *Browser {
	tb.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("%s=1 but no browser: %v (install Debian's chromium package)", RequireEnv, err)
		}
		tb.Skipf("browser test skipped: %v; install Chromium (apt-get install chromium) or set %s to run it", err, PathEnv)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		// Loopback only: names other than localhost resolve to nothing.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// Launch now, so a browser that cannot start fails here with its own
	// error rather than in the first step of the test. (No timeout on
	// this first call: it would bound the browser's whole life.)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err := <-started:
		if err != nil {
			cancelBrowser()
			cancelAlloc()
			tb.Fatalf("start %s: %v", path, err)
		}
	case <-time.After(60 * time.Second):
		cancelBrowser()
		cancelAlloc()
		tb.Fatalf("start %s: no answer in 60 s", path)
	}
	tb.Cleanup(func() {
		cancelBrowser() // closes the browser gracefully
		cancelAlloc()
	})
	return &Browser{ctx: bctx}
}

// Tab opens a new tab in the browser that closes when the test ends (or
// after timeout). Uncaught script errors and dialogs the page opens fail
// the test: a page under test must run clean, and an alert() can only come
// from script that should not be there.
func (b *Browser) Tab(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	tctx, cancelTab := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(tctx); err != nil { // open the tab before the deadline starts
		cancelTab()
		tb.Fatalf("open a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tctx, timeout)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.Errorf("the page opened a %s dialog: %q", ev.Type, ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil && ev.ExceptionDetails.Exception.Description != "" {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			tb.Errorf("uncaught script error in the page: %s", msg)
		}
	}()
	tb.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		wg.Wait() // no Errorf after the test ends
	})
	return ctx
}

// SetViewport sizes the tab like a device.
func SetViewport(v Viewport) chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.Scale), chromedp.EmulatePortrait}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(v.Width, v.Height, opts...)
}

// ReportDir is build/reports/ui at the module root (found from the
// working directory by go.mod), created if needed.
func ReportDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "build", "reports", "ui")
	if err := os.MkdirAll(out, 0o755); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Screenshot renders the tab's current page at v and writes it to
// build/reports/ui/<name>-<viewport>.png: the whole page on a desktop, one
// screen's worth on a phone (as a person holding it would see it). The tab
// is left at v. It returns the file's path.
func Screenshot(tb testing.TB, ctx context.Context, name string, v Viewport) string {
	tb.Helper()
	if err := chromedp.Do(ctx, SetViewport(v), chromedp.Sleep(200*time.Millisecond)); err != nil {
		tb.Fatalf("screenshot %s (%s): viewport: %v", name, v.Name, err)
	}
	shot := chromedp.CaptureScreenshot()
	if !v.Mobile {
		shot = chromedp.FullScreenshot(100) // quality 100: PNG
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		tb.Fatalf("screenshot %s (%s): %v", name, v.Name, err)
	}
	path := filepath.Join(ReportDir(tb), name+"-"+v.Name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

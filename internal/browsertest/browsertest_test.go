package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minipush/minipush/internal/browsertest"
)

// The harness itself: a page served on loopback, read back through the
// DevTools protocol, photographed at both viewports.
func TestBrowserRendersAndPhotographs(t *testing.T) {
	b := browsertest.Start(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width"><title>harness</title>`+
			`<p id="p">服务通知 works</p><script>document.getElementById("p").dataset.js = "ran"</script>`)
	}))
	t.Cleanup(ts.Close)
	tab := b.Tab(t, time.Minute)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#p")))
	if err != nil || text != "服务通知 works" {
		t.Fatalf("text %q, %v", text, err)
	}
	ran, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("p").dataset.js`))
	if err != nil || ran != "ran" {
		t.Fatalf("the page's script did not run: %q, %v", ran, err)
	}
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		path := browsertest.Screenshot(t, tab, "harness", v)
		png, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("%s is not a PNG (%v)", path, err)
		}
	}
	if w, _ := chromedp.Run(tab, chromedp.Evaluate[int](`window.innerWidth`)); w != int(browsertest.Phone.Width) {
		t.Fatalf("after the phone screenshot the viewport is %d wide, want %d", w, browsertest.Phone.Width)
	}
}

// The gate: without a browser the test skips, or fails when CI requires
// one. Run in a child process so the skip or failure is observed from
// outside.
func TestGateWithoutABrowser(t *testing.T) {
	if os.Getenv("BROWSERTEST_CHILD") == "1" {
		browsertest.Start(t)
		t.Fatal("Start returned without a browser")
	}
	t.Parallel()
	for _, tc := range []struct {
		require string
		want    string
	}{
		{"", "--- SKIP"},
		{"1", "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGateWithoutABrowser$", "-test.v")
		cmd.Env = append(os.Environ(), "BROWSERTEST_CHILD=1", browsertest.PathEnv+"=/nonexistent/chromium",
			browsertest.RequireEnv+"="+tc.require)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "/nonexistent/chromium") {
			t.Errorf("%s=%q: want %s naming the missing browser, got:\n%s", browsertest.RequireEnv, tc.require, tc.want, out)
		}
	}
	if _, err := browsertest.Find(); err != nil && os.Getenv(browsertest.RequireEnv) == "1" {
		t.Fatalf("CI requires a browser: %v", err)
	}
}

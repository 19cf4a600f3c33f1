package console_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/senderclient"
)

// The world: the mock's demo seed (README: "The demo seed"), its UI on,
// and a sender with the demo WeChat app and three keys.
const (
	appName   = "shop-wechat"
	adminKey  = "console-test-admin-key-0001"
	viewerKey = "console-test-viewer-key-0001"
	senderKey = "console-test-send-only-0001"
	alice     = seed.DemoUserAlice
	bob       = seed.DemoUserBob
	carol     = seed.DemoUserCarol
	order     = seed.DemoTemplateOrder
	xss       = "<script>alert(1)</script>"

	pushToken  = "ConsoleTestPushToken1"
	pushAESKey = "ConsoleTestEncodingAESKey0123456789abcdefgh"
)

type world struct {
	mock  *mocktest.Mock
	URL   string // the sender
	admin *senderclient.Client
	cfg   *config.Config
}

func start(t *testing.T) *world {
	t.Helper()
	m := mocktest.Start(t, mockserver.WithSeed(seed.Demo()), mockserver.WithUI(true))
	c := config.Defaults()
	c.Listen = "127.0.0.1:0"
	c.Storage.Path = filepath.Join(t.TempDir(), "minipush.db")
	c.APIKeys = []config.APIKey{
		{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeSend, config.ScopeRead, config.ScopeAdmin}},
		{Name: "viewer", Key: viewerKey, Scopes: []string{config.ScopeRead}},
		{Name: "sendonly", Key: senderKey, Scopes: []string{config.ScopeSend}},
	}
	c.Apps = []config.App{{Name: appName, Platform: "wechat", AppID: seed.DemoWeChatAppID, Secret: seed.DemoWeChatSecret, BaseURL: m.URL,
		Events: &config.Events{Token: pushToken, EncodingAESKey: pushAESKey},
		// Campaign rules that never bite the other tests: shown on the apps
		// page (TestCampaignFields).
		Campaigns: &config.Campaigns{FrequencyCaps: []config.FrequencyCap{{Period: config.PeriodDay, Limit: 100000}}}}}
	c.Delivery.Workers = 4
	c.Delivery.MaxAttempts = 3
	c.Delivery.BackoffBase = 50 * time.Millisecond
	c.Delivery.BackoffMax = 200 * time.Millisecond
	c.Delivery.PollInterval = 10 * time.Millisecond
	c.Delivery.SendTimeout = 5 * time.Second
	c.Delivery.ShutdownTimeout = 5 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := sender.New(ctx, &c, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatalf("sender.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			_ = svc.Close()
		})
	})
	w := &world{mock: m, URL: "http://" + ln.Addr().String(), cfg: &c}
	// The mock pushes the app's events (popups, settings) to the sender,
	// which keeps the consent ledger the console shows.
	if _, err := m.Control.SetPush(ctxT(t), "wechat", seed.DemoWeChatAppID, &mockapi.PushConfig{
		URL: w.URL + "/v1/platform-events/" + appName, Token: pushToken, EncodingAESKey: pushAESKey, Format: "json", Mode: "safe"}); err != nil {
		t.Fatalf("push settings: %v", err)
	}
	w.admin, err = senderclient.New(w.URL, senderclient.WithAPIKey(adminKey))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// sendOrder sends the demo order template to user through the sender API.
func (w *world) sendOrder(t *testing.T, user, thing, code string) senderclient.Accepted {
	t.Helper()
	a, err := w.admin.Send(ctxT(t), senderclient.MessageRequest{App: appName, To: user, TemplateID: order,
		Data: map[string]string{"thing1": thing, "character_string2": code, "date3": "2026-11-25", "phrase4": "已发货"},
		Page: "pages/order/detail?id=42"})
	if err != nil {
		t.Fatalf("send to %s: %v", user, err)
	}
	return a
}

// waitFinal polls the API until the message is final.
func (w *world) waitFinal(t *testing.T, id string) senderclient.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := w.admin.Message(ctxT(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Final() {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s not final after 30 s: %+v", id, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects (so each answer can be checked).
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (w *world) newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: w.URL, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// signIn posts key on the login form and checks it was let in.
func (b *browser) signIn(key string) {
	b.t.Helper()
	resp, body := b.post("/console/login", url.Values{"key": {key}, "next": {"/console/"}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
}

// csrf reads the page's CSRF token (the sign-out form carries it).
func (b *browser) csrf() string {
	b.t.Helper()
	_, body := b.get("/console/apps")
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		b.t.Fatalf("no CSRF token on the page: %s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// faultFor makes the mock answer user's sends -1 (system busy: the
// sender retries) the next times calls.
func faultFor(user string, times int) mockapi.Fault {
	code := -1
	return mockapi.Fault{Platform: "wechat", Endpoint: "subscribe_send", OpenID: user, ErrCode: &code, Times: times}
}

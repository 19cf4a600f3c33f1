// Package selfhost starts what a self-contained load run needs, in-process
// on loopback: the mock platform seeded with one app (WeChat by default;
// Alipay, Douyin, Kuaishou or Baidu with Options.Platform), a long-term
// template, enough granted users and some users without a grant, and (when
// the run targets the sender) a sender wired to that mock with its database
// in a temporary directory. `make load` needs nothing else.
package selfhost

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender"
)

// senderYAML is the sender's configuration; per-run values come from the
// environment handed to the loader (see the file).
//
//go:embed sender.yaml
var senderYAML []byte

// The seeded world. The sender's app name and app id must match
// sender.yaml.
const (
	AppName     = "loadtest"
	AppID       = "wxloadtest00000001"
	TemplateID  = "loadtest-order-shipped"
	ContentWord = "fake-invoice"
	ContentRule = "no-fake-invoice"
	Platform    = mockapi.PlatformWeChat
)

// AppIDFor is the seeded app's id on platform (each platform's own shape).
func AppIDFor(platform string) string {
	switch platform {
	case mockapi.PlatformAlipay:
		return "2021000000000099"
	case mockapi.PlatformDouyin:
		return "ttloadtest00000001"
	case mockapi.PlatformKuaishou:
		return "ks700000000000000099"
	case mockapi.PlatformBaidu:
		return "bdLoadtestAppKey0000000000000001"
	}
	return AppID
}

// UserNameFor and NoGrantNameFor are the seeded user ids on platform:
// Alipay's are "2088" and 12 digits, the others' the WeChat-style names.
func UserNameFor(platform string, i int) string {
	if platform == mockapi.PlatformAlipay {
		return fmt.Sprintf("2088%012d", i)
	}
	return UserName(i)
}

func NoGrantNameFor(platform string, i int) string {
	if platform == mockapi.PlatformAlipay {
		return fmt.Sprintf("2088%012d", 500_000_000_000+i)
	}
	return NoGrantName(i)
}

// BaiduSubscribeID is the subscribe_id the Baidu app's sends carry. Baidu
// takes one send per user, template and subscribe_id: a run on Baidu
// needs a granted user per message (Options.Users).
const BaiduSubscribeID = "loadtest"

// Defaults.
const (
	DefaultUsers        = 1000
	DefaultNoGrantUsers = 100
)

// Options tune the world.
type Options struct {
	// Platform is the app's platform (default wechat).
	Platform string
	// Users hold long-term grants; NoGrantUsers are registered but never
	// subscribed (their sends fail with 43101).
	Users, NoGrantUsers int
	// InboxLimit bounds the mock's inbox; it must hold every message of
	// the run for reconciliation (the loadtest sizes it).
	InboxLimit int
	// WithSender starts a sender too.
	WithSender bool
	// Configure adjusts the sender's configuration before it starts (e.g.
	// delivery.max_attempts for a fault-storm test).
	Configure func(*sender.Config)
	// Log receives the sender's log (default: discarded).
	Log *slog.Logger
}

// World is a running self-contained target.
type World struct {
	MockURL string
	Control *mockclient.Client
	// SenderURL and APIKey are empty without a sender.
	SenderURL string
	APIKey    string
	// App is the sender's name for the app; AppID and AppSecret the
	// platform's (the secret is random per run and only in memory).
	App, AppID, AppSecret string
	Platform              string
	TemplateID            string
	Users, NoGrantUsers   []string
	ContentWord           string
	ContentRule           string

	mock    *mocktest.Mock
	dir     string
	stopSvc func() error
}

// UserName and NoGrantName are the seeded openids.
func UserName(i int) string    { return fmt.Sprintf("o_loadtest_user_%06d", i) }
func NoGrantName(i int) string { return fmt.Sprintf("o_loadtest_nogrant_%06d", i) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Seed is the mock's seed for the WeChat world.
func Seed(secret string, users, noGrant []string) mockapi.Seed {
	return SeedFor(Platform, secret, users, noGrant)
}

// SeedFor is the mock's seed for the world on platform: the app (with the
// demo app's keys on Alipay, whose requests are signed), the template with
// the platform's keys (scenario.Keys), the users and their grants.
func SeedFor(platform, secret string, users, noGrant []string) mockapi.Seed {
	app := mockapi.App{Platform: platform, AppID: AppIDFor(platform), Secret: secret,
		Users: append(append([]string(nil), users...), noGrant...),
		Templates: []mockapi.Template{{TemplateID: TemplateID, Title: "订单发货通知",
			Keywords: scenario.TemplateKeys(platform), Type: mockapi.TemplateLongTerm}}}
	if platform == mockapi.PlatformAlipay {
		demo, _ := seed.DemoApp(platform)
		app.Secret, app.AppPublicKey, app.AlipayPrivateKey = "", demo.AppPublicKey, demo.AlipayPrivateKey
	}
	for _, u := range users {
		app.Grants = append(app.Grants, mockapi.Grant{OpenID: u, TemplateID: TemplateID, LongTerm: true})
	}
	// The content scenario's word is risky on the mock too, so a content
	// violation that slipped past the sender would still not be delivered
	// (and the mock-direct content scenario has a word to hit).
	rules := &mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: ContentWord, Label: 20006}}}
	return mockapi.Seed{Apps: []mockapi.App{app}, ContentRules: rules}
}

// Start brings the world up. Close it when done.
func Start(ctx context.Context, o Options) (_ *World, err error) {
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.NoGrantUsers <= 0 {
		o.NoGrantUsers = DefaultNoGrantUsers
	}
	if o.Platform == "" {
		o.Platform = Platform
	}
	w := &World{App: AppName, AppID: AppIDFor(o.Platform), AppSecret: randomHex(16), TemplateID: TemplateID,
		ContentWord: ContentWord, ContentRule: ContentRule, Platform: o.Platform}
	for i := range o.Users {
		w.Users = append(w.Users, UserNameFor(o.Platform, i))
	}
	for i := range o.NoGrantUsers {
		w.NoGrantUsers = append(w.NoGrantUsers, NoGrantNameFor(o.Platform, i))
	}
	opts := []mockserver.Option{mockserver.WithSeed(SeedFor(o.Platform, w.AppSecret, w.Users, w.NoGrantUsers))}
	if o.InboxLimit > 0 {
		opts = append(opts, mockserver.WithInboxLimit(o.InboxLimit))
	}
	w.mock, err = mocktest.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("start mock: %w", err)
	}
	w.MockURL, w.Control = w.mock.URL, w.mock.Control
	defer func() {
		if err != nil {
			_ = w.Close()
		}
	}()
	if !o.WithSender {
		return w, nil
	}
	if err := w.startSender(ctx, o); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *World) startSender(ctx context.Context, o Options) error {
	dir, err := os.MkdirTemp("", "minipush-loadtest-")
	if err != nil {
		return fmt.Errorf("temporary directory for the sender's database: %w", err)
	}
	w.dir = dir
	cfgPath := filepath.Join(dir, "sender.yaml")
	if err := os.WriteFile(cfgPath, senderYAML, 0o600); err != nil {
		return err
	}
	w.APIKey = "lt-" + randomHex(16)
	env := map[string]string{
		"MINIPUSH_STORAGE_PATH":          filepath.Join(dir, "db", "minipush.db"),
		"MINIPUSH_API_KEYS":              "loadtest:" + w.APIKey,
		"MINIPUSH_APP_LOADTEST_SECRET":   w.AppSecret,
		"MINIPUSH_APP_LOADTEST_BASE_URL": w.MockURL,
	}
	cfg, err := sender.LoadConfig(cfgPath, func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("sender configuration: %w", err)
	}
	setPlatform(cfg, w.Platform)
	if o.Configure != nil {
		o.Configure(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("sender configuration for %s: %w", w.Platform, err)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The service outlives the caller's context: Close stops it, so a
	// cancelled run still drains and shuts down in order.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	svc, err := sender.New(sctx, cfg, log)
	if err != nil {
		cancel()
		return fmt.Errorf("start sender: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = svc.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(sctx, ln) }()
	w.SenderURL = "http://" + ln.Addr().String()
	w.stopSvc = func() error {
		cancel()
		runErr := <-done
		return errors.Join(runErr, svc.Close())
	}
	return waitReady(ctx, w.SenderURL+"/readyz", 10*time.Second)
}

// setPlatform points the sender's app (sender.yaml's, a WeChat app) at
// the world's app on platform, with what that platform's client needs.
func setPlatform(cfg *sender.Config, platform string) {
	a := &cfg.Apps[0]
	a.Platform, a.AppID = platform, AppIDFor(platform)
	switch platform {
	case mockapi.PlatformAlipay:
		// Signed requests with the mock's published demo keys.
		a.Secret, a.PrivateKey, a.AlipayPublicKey = "", seed.DemoAlipayAppPrivateKey, seed.DemoAlipayPublicKey
		a.DefaultPage = "pages/index/index"
	case mockapi.PlatformKuaishou:
		a.DefaultPage = "pages/index/index"
	case mockapi.PlatformBaidu:
		a.BaiduSubscribeID = BaiduSubscribeID
	}
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sender not ready at %s within %s", url, within)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the sender and the mock and removes the temporary directory.
func (w *World) Close() error {
	var errs []error
	if w.stopSvc != nil {
		errs = append(errs, w.stopSvc())
		w.stopSvc = nil
	}
	if w.mock != nil {
		w.mock.Close()
		w.mock = nil
	}
	if w.dir != "" {
		errs = append(errs, os.RemoveAll(w.dir))
		w.dir = ""
	}
	return errors.Join(errs...)
}

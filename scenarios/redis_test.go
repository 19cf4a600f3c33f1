package scenarios_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender"
)

// TestRedisFeatures runs the features tagged @redis (two sender instances
// on one real redis-server, in this process, delivering to an in-process
// mock): each scenario gets a Redis, a mock and two senders of its own.
// The main suite leaves @redis out (scenarios.TagFilter).
func TestRedisFeatures(t *testing.T) {
	redistest.Binary(t) // skip, or fail with MINIPUSH_REQUIRE_REDIS=1, before anything starts
	root := repoRoot(t)
	reports := filepath.Join(root, "build", "reports")
	if err := os.MkdirAll(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	status := godog.TestSuite{
		Name: "minipush-redis",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			r := &redisWorld{t: t}
			sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
				r.close()
				return ctx, nil
			})
			r.register(sc)
		},
		Options: &godog.Options{
			Format:      fmt.Sprintf("pretty,junit:%s", filepath.Join(reports, "bdd-redis.xml")),
			Paths:       []string{filepath.Join(root, "features")},
			Tags:        "@redis",
			Strict:      true,
			Concurrency: 2,
			TestingT:    t,
		},
	}.Run()
	if status != 0 {
		t.Fatalf("godog exit status %d", status)
	}
}

const (
	redisAppID    = "wxredisbdd0000001"
	redisSecret   = "redis-bdd-secret"
	redisTemplate = "tmpl-redis-order"
	redisAPIKey   = "redis-bdd-api-key"
)

// redisWorld is one scenario's Redis, mock and two sender instances.
type redisWorld struct {
	t     *testing.T
	redis *redistest.Server
	mock  *mocktest.Mock
	urls  []string
	stops []func()

	users []string
	mu    sync.Mutex
	ids   map[string]string // user → message id
}

func (r *redisWorld) register(sc *godog.ScenarioContext) {
	sc.Step(`^two sender instances share one Redis(?:, each allowed (\d+) messages a second for the app)?$`, r.startInstances)
	sc.Step(`^(\d+) users have subscribed to the template for the long term$`, r.subscribe)
	sc.Step(`^I send a message to each of them, alternating between the two instances$`, r.sendAll)
	sc.Step(`^all the messages are delivered$`, r.allDelivered)
	sc.Step(`^each of them receives the message exactly once$`, r.exactlyOnce)
	sc.Step(`^both instances report every message as delivered$`, r.bothReport)
	sc.Step(`^the platform issued the app (\d+) access tokens?$`, r.tokens)
	sc.Step(`^the platform never received more than (\d+) of the app's messages in one second$`, r.perSecond)
	sc.Step(`^some but not all of the messages have been delivered$`, r.someDelivered)
	sc.Step(`^the first instance stops$`, func() error { r.stops[0](); r.urls = r.urls[1:]; return nil })
	sc.Step(`^Redis is killed$`, func() error { r.redis.Kill(); return nil })
	sc.Step(`^Redis is started again from its append-only file$`, func() error { r.redis.Restart(r.t); return nil })
	sc.Step(`^a message sent to either instance is refused with 503 and a Retry-After$`, r.refused)
	sc.Step(`^neither instance is ready$`, func() error { return r.ready(http.StatusServiceUnavailable) })
	sc.Step(`^both instances are ready again$`, func() error { return r.ready(http.StatusOK) })
}

func (r *redisWorld) startInstances(ctx context.Context, perSecond string) error {
	// always: a scenario kills Redis, and under everysec acknowledged writes
	// may wait up to 2 s for the disk (docs/redis.md#durability).
	r.redis = redistest.Start(r.t, redistest.WithAOF("always"))
	m, err := mocktest.New()
	if err != nil {
		return err
	}
	r.mock = m
	if _, err := m.Control.AddApp(ctx, mockapi.App{Platform: "wechat", AppID: redisAppID, Secret: redisSecret}); err != nil {
		return err
	}
	if err := m.Control.AddTemplate(ctx, mockapi.Template{Platform: "wechat", AppID: redisAppID, TemplateID: redisTemplate,
		Title: "发货通知", Keywords: []string{"thing1", "character_string2"}, Type: mockapi.TemplateLongTerm}); err != nil {
		return err
	}
	rate := ""
	if perSecond != "" {
		rate = ", rate: {per_second: " + perSecond + ", burst: 1}"
	}
	dir := r.t.TempDir()
	for i := range 2 {
		path := filepath.Join(dir, fmt.Sprintf("sender%d.yaml", i))
		cfg := fmt.Sprintf(`listen: 127.0.0.1:0
storage: {driver: redis, url: %q, prefix: bdd}
api_keys: [{name: bdd, key: %s}]
apps: [{name: shop, platform: wechat, app_id: %s, secret: %s, base_url: %s%s}]
delivery: {workers: 4, lease: 3s, send_timeout: 2s, backoff_base: 100ms, backoff_max: 1s, poll_interval: 20ms, shutdown_timeout: 5s}
`, r.redis.URL(), redisAPIKey, redisAppID, redisSecret, m.URL, rate)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return err
		}
		c, err := sender.LoadConfig(path, func(string) string { return "" })
		if err != nil {
			return err
		}
		rctx, cancel := context.WithCancel(context.Background())
		svc, err := sender.New(rctx, c, slog.New(slog.DiscardHandler))
		if err != nil {
			cancel()
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			cancel()
			return err
		}
		done := make(chan error, 1)
		go func() { done <- svc.Run(rctx, ln) }()
		var once sync.Once
		r.stops = append(r.stops, func() {
			once.Do(func() {
				cancel()
				<-done
				_ = svc.Close()
			})
		})
		r.urls = append(r.urls, "http://"+ln.Addr().String())
	}
	return r.ready(http.StatusOK)
}

func (r *redisWorld) close() {
	for _, stop := range r.stops {
		stop()
	}
	if r.mock != nil {
		r.mock.Close()
	}
}

func (r *redisWorld) subscribe(ctx context.Context, n int) error {
	for i := range n {
		u := fmt.Sprintf("o_redis_user_%02d", i)
		if err := r.mock.Control.AddUser(ctx, mockapi.User{Platform: "wechat", AppID: redisAppID, OpenID: u}); err != nil {
			return err
		}
		if _, err := r.mock.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: redisAppID, OpenID: u,
			TemplateID: redisTemplate, LongTerm: true}); err != nil {
			return err
		}
		r.users = append(r.users, u)
	}
	return nil
}

// api calls an instance.
func (r *redisWorld) api(base, method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+redisAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func body(user string) map[string]any {
	return map[string]any{"app": "shop", "to": user, "template_id": redisTemplate,
		"data": map[string]string{"thing1": "咖啡豆已发货", "character_string2": "m-" + user}}
}

func (r *redisWorld) sendAll() error {
	r.ids = map[string]string{}
	for i, u := range r.users {
		code, _, b, err := r.api(r.urls[i%len(r.urls)], http.MethodPost, "/v1/messages", body(u))
		if err != nil || code != http.StatusAccepted {
			return fmt.Errorf("POST to instance %d: %d %s %v", i%len(r.urls), code, b, err)
		}
		var a struct{ ID string }
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		r.ids[u] = a.ID
	}
	return nil
}

func (r *redisWorld) status(base, id string) (string, error) {
	code, _, b, err := r.api(base, http.MethodGet, "/v1/messages/"+id, nil)
	if err != nil || code != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d %s %v", id, code, b, err)
	}
	var m struct{ Status string }
	return m.Status, json.Unmarshal(b, &m)
}

func (r *redisWorld) allDelivered() error {
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range r.ids {
		for {
			st, err := r.status(r.urls[0], id)
			if err == nil && st == "delivered" {
				break
			}
			if st == "failed" || st == "rejected" || time.Now().After(deadline) {
				return fmt.Errorf("message %s: %s %v", id, st, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func (r *redisWorld) bothReport() error {
	for _, base := range r.urls {
		for _, id := range r.ids {
			if st, err := r.status(base, id); err != nil || st != "delivered" {
				return fmt.Errorf("instance %s reports %s as %q (%v)", base, id, st, err)
			}
		}
	}
	return nil
}

func (r *redisWorld) inbox(ctx context.Context) ([]mockapi.Message, error) {
	got, err := r.mock.Control.Messages(ctx, mockclient.MessageFilter{Platform: "wechat", AppID: redisAppID, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	return got.Messages, nil
}

func (r *redisWorld) exactlyOnce(ctx context.Context) error {
	msgs, err := r.inbox(ctx)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.OpenID]++
	}
	var bad []string
	for _, u := range r.users {
		if seen[u] != 1 {
			bad = append(bad, fmt.Sprintf("%s ×%d", u, seen[u]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not exactly once: %s", strings.Join(bad, ", "))
	}
	return nil
}

func (r *redisWorld) journal(ctx context.Context, endpoint string) ([]mockapi.Request, error) {
	got, err := r.mock.Control.Requests(ctx, mockclient.RequestFilter{Platform: "wechat", Endpoint: endpoint,
		AppID: redisAppID, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	return got.Requests, nil
}

func (r *redisWorld) tokens(ctx context.Context, n int) error {
	fetches, err := r.journal(ctx, "stable_token")
	if err != nil {
		return err
	}
	if len(fetches) != n {
		return fmt.Errorf("the platform issued %d access tokens to two instances, want %d", len(fetches), n)
	}
	return nil
}

func (r *redisWorld) perSecond(ctx context.Context, most int) error {
	sends, err := r.journal(ctx, "subscribe_send")
	if err != nil {
		return err
	}
	per := map[int64]int{}
	for _, s := range sends {
		per[s.Time.Unix()]++
	}
	for sec, c := range per {
		if c > most {
			return fmt.Errorf("%d of the app's messages in second %d, more than %d", c, sec, most)
		}
	}
	return nil
}

func (r *redisWorld) someDelivered(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := r.inbox(ctx)
		if err != nil {
			return err
		}
		if len(msgs) > 0 && len(msgs) < len(r.users) {
			return nil
		}
		if len(msgs) >= len(r.users) {
			return errors.New("every message was delivered before the step could act in the middle of the run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no message delivered within 30s")
}

func (r *redisWorld) refused() error {
	for i, base := range r.urls {
		code, hdr, b, err := r.api(base, http.MethodPost, "/v1/messages", body(r.users[0]))
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			return fmt.Errorf("instance %d answered %d (Retry-After %q) %s, want 503 with Retry-After", i, code, hdr.Get("Retry-After"), b)
		}
	}
	return nil
}

func (r *redisWorld) ready(want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, base := range r.urls {
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == want {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("instance %s: /readyz did not answer %d", base, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

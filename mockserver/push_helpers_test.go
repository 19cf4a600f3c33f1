package mockserver_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// Push test fixtures: a WeChat and a Douyin app, and a developer's server
// (a real httptest listener) the mock pushes to.
const (
	pushWxApp    = "wx1a2b3c4d5e6f7a8b"
	pushWxSecret = "push-test-secret"
	pushToken    = "Tok3nForPushes"
	pushAESKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	pushUser     = "o_push_user_00000000000000000"
	pushOneTime  = "tmpl-one-time-0000000000000000000000000001"
	pushOneTime2 = "tmpl-one-time-0000000000000000000000000002"
	pushLongTerm = "tmpl-long-term-000000000000000000000000001"
	pushDyApp    = "tt1a2b3c4d5e6f7a8b"
	pushDySecret = "douyin-push-secret"
)

func pushSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformWeChat, AppID: pushWxApp, Secret: pushWxSecret, Users: []string{pushUser},
		Templates: []mockapi.Template{
			{TemplateID: pushOneTime, Title: "订单发货通知", Keywords: []string{"thing1"}},
			{TemplateID: pushOneTime2, Title: "退款通知", Keywords: []string{"thing1"}},
			{TemplateID: pushLongTerm, Title: "预约提醒", Keywords: []string{"thing1"}, Type: mockapi.TemplateLongTerm},
		},
	}, {
		Platform: mockapi.PlatformDouyin, AppID: pushDyApp, Secret: pushDySecret, Users: []string{pushUser},
		Templates: []mockapi.Template{
			{TemplateID: "MSG-one-time-1", Title: "订单发货通知", Keywords: []string{"物品名称"}},
			{TemplateID: "MSG-long-term-1", Title: "预约提醒", Keywords: []string{"预约项目"}, Type: mockapi.TemplateLongTerm},
		},
	}}}
}

// startPushMock starts a mock with short push timeouts.
func startPushMock(t *testing.T, opts ...mockserver.Option) *mocktest.Mock {
	t.Helper()
	base := []mockserver.Option{mockserver.WithSeed(pushSeed()), mockserver.WithPushTimeout(2 * time.Second),
		mockserver.WithPushRetryDelay(10 * time.Millisecond)}
	return mocktest.Start(t, append(base, opts...)...)
}

// devServer is the developer's push endpoint: it records every request
// and answers with answer (default: the WeChat handshake's echostr, or
// "success").
type devServer struct {
	*httptest.Server
	mu      sync.Mutex
	got     []*http.Request
	bodies  [][]byte
	arrived chan int
	answer  func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newDevServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *devServer {
	t.Helper()
	d := &devServer{arrived: make(chan int, 1000), answer: answer}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		d.mu.Lock()
		d.got = append(d.got, r.Clone(context.Background()))
		d.bodies = append(d.bodies, body)
		n := len(d.got) - 1
		d.mu.Unlock()
		d.arrived <- n
		if d.answer != nil {
			d.answer(w, r, body)
			return
		}
		if e := r.URL.Query().Get("echostr"); e != "" {
			_, _ = io.WriteString(w, e)
			return
		}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(func() {
		d.CloseClientConnections()
		d.Close()
	})
	return d
}

// next waits for the next request the mock sends.
func (d *devServer) next(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	select {
	case n := <-d.arrived:
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.got[n], d.bodies[n]
	case <-time.After(10 * time.Second):
		t.Fatal("the developer's server got no request within 10s")
		return nil, nil
	}
}

// nextPost skips handshakes and returns the next POST that is not one.
func (d *devServer) nextPost(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	for {
		r, b := d.next(t)
		if r.Method == http.MethodPost && !bytes.Contains(b, []byte("verify_webhook")) {
			return r, b
		}
	}
}

// quiet asserts nothing arrives for a while.
func (d *devServer) quiet(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case n := <-d.arrived:
		d.mu.Lock()
		defer d.mu.Unlock()
		t.Fatalf("unexpected request %s %s: %s", d.got[n].Method, d.got[n].URL, d.bodies[n])
	case <-time.After(wait):
	}
}

// wxPush is WeChat push settings for d.
func wxPush(d *devServer, format, mode string) *mockapi.PushConfig {
	return &mockapi.PushConfig{URL: d.URL + "/wx/push", Token: pushToken, EncodingAESKey: pushAESKey, Format: format, Mode: mode}
}

// startWithPush starts a push-test mock whose WeChat app pushes to a new
// developer's server in format and mode, the save's handshake consumed.
func startWithPush(t *testing.T, format, mode string) (*mocktest.Mock, *devServer) {
	t.Helper()
	m := startPushMock(t)
	d := newDevServer(t, nil)
	setPush(t, m, "wechat", pushWxApp, wxPush(d, format, mode))
	d.next(t)
	return m, d
}

func setPush(t *testing.T, m *mocktest.Mock, platform, appID string, p *mockapi.PushConfig) mockapi.PushSettingsResult {
	t.Helper()
	res, err := m.Control.SetPush(context.Background(), platform, appID, p)
	if err != nil {
		t.Fatalf("set push settings: %v", err)
	}
	return res
}

// wxToken gets an access token of the push test app.
func wxToken(t *testing.T, m *mocktest.Mock) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {pushWxApp}, "secret": {pushWxSecret}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, m.URL+"/cgi-bin/token?"+q.Encode(), &tok)
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	return tok.AccessToken
}

type sendAnswer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

// wxSend sends a subscribe message of tmpl to the push test user.
func wxSend(t *testing.T, m *mocktest.Mock, token, tmpl string) sendAnswer {
	t.Helper()
	body := map[string]any{"touser": pushUser, "template_id": tmpl, "data": map[string]any{"thing1": map[string]string{"value": "耳机"}}}
	var out sendAnswer
	postJSONTo(t, m.URL+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(token), body, &out)
	return out
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// postJSONTo POSTs v and decodes the answer; it returns the status.
func postJSONTo(t *testing.T, u string, v, out any) int {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: %d %s: %v", u, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// waitPushes waits until min attempts match f.
func waitPushes(t *testing.T, m *mocktest.Mock, f mockclient.PushFilter, min int) []mockapi.Push {
	t.Helper()
	f.Wait, f.Min = 10*time.Second, min
	ps, err := m.Control.Pushes(context.Background(), f)
	if err != nil {
		t.Fatalf("read pushes: %v", err)
	}
	if len(ps.Pushes) < min {
		t.Fatalf("%d push attempts match %+v, want %d: %+v", len(ps.Pushes), f, min, ps.Pushes)
	}
	return ps.Pushes
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sortedJoin is how WeChat's signatures join their parts.
func sortedJoin(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	return strings.Join(p, "")
}

// wantRefused checks a control call answered status naming field; it
// returns the error for further checks (nil when it did not match).
func wantRefused(t *testing.T, what string, err error, status int, field string) *mockclient.Error {
	t.Helper()
	var ce *mockclient.Error
	if !errors.As(err, &ce) || ce.Status != status || ce.Field != field {
		t.Errorf("%s: %v, want %d naming %s", what, err, status, field)
		return nil
	}
	return ce
}

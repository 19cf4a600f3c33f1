package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The world every test starts from: two WeChat apps, each with users and a
// one-time template. Secrets are long and distinctive so a leak into any
// response body is caught by the substring check in do.
const (
	appA    = "wxf8b4f85f3a794e77"
	secretA = "SECRET-A-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	appB    = "wx1111111111111111"
	secretB = "SECRET-B-aaaabbbbccccddddeeeeffff00001111"

	userA  = "o7esq5OI1Uej6Xixw1lA2H7XDVbc" // user of app A
	userA2 = "o7esq5OI1Uej6Xixw1lA2H7XDVb2" // second user of app A
	userB  = "oBBBBBBBBBBBBBBBBBBBBBBBBBBB" // user of app B only

	tmplA = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc" // app A: thing1 time2 amount3 number4
	tmplB = "BBBBUEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc" // app B: thing1
)

// secrets must never appear in a response body.
var secrets = []string{secretA, secretB}

var ridSuffix = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// baseSeed is the seed of start.
func baseSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{
		{
			Platform: mockapi.PlatformWeChat, AppID: appA, Secret: secretA,
			Users: []string{userA, userA2},
			Templates: []mockapi.Template{{TemplateID: tmplA, Title: "订单通知",
				Keywords: []string{"thing1", "time2", "amount3", "number4"}}},
		},
		{
			Platform: mockapi.PlatformWeChat, AppID: appB, Secret: secretB,
			Users:     []string{userB},
			Templates: []mockapi.Template{{TemplateID: tmplB, Title: "B", Keywords: []string{"thing1"}}},
		},
	}}
}

// beijing11pm is a fixed start an hour before Beijing midnight, so tests
// that count daily quotas neither depend on the wall clock nor cross a day
// by accident.
var beijing11pm = time.Date(2025, 3, 14, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))

// mock is a running mock plus the test that owns it.
type mock struct {
	t testing.TB
	*mocktest.Mock
	ctx context.Context
}

// start runs a mock seeded with baseSeed (edit mutates the seed first).
func start(t testing.TB, edit ...func(*mockapi.Seed)) *mock {
	t.Helper()
	s := baseSeed()
	for _, e := range edit {
		e(&s)
	}
	return &mock{t: t, Mock: mocktest.Start(t, mockserver.WithSeed(s)), ctx: context.Background()}
}

// atStart pins the mock clock at reset.
func atStart(at time.Time) func(*mockapi.Seed) {
	return func(s *mockapi.Seed) { s.Start = &at }
}

// reply is one platform answer. Fields is the JSON object decoded with
// UseNumber, so int64 ids keep their precision.
type reply struct {
	Status int
	Body   []byte
	Fields map[string]any
}

// do calls the mock. body is sent as is when it is a string, else as JSON;
// nil sends no body. It fails the test when the answer leaks a secret.
func (m *mock) do(method, path string, body any) reply {
	m.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			m.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(m.ctx, method, m.URL+path, rd)
	if err != nil {
		m.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("read %s %s: %v", method, path, err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			m.t.Fatalf("%s %s: answer leaks a secret: %s", method, path, raw)
		}
	}
	r := reply{Status: resp.StatusCode, Body: raw}
	if resp.StatusCode == http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.Fields); err != nil {
			m.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// errCode is the answer's errcode; an answer without one (a token) is 0.
func (r reply) errCode(t testing.TB) int64 {
	t.Helper()
	v, ok := r.Fields["errcode"]
	if !ok {
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("errcode is %T, not a number: %s", v, r.Body)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("errcode %q is not an integer: %s", n, r.Body)
	}
	return i
}

func (r reply) errMsg() string {
	s, _ := r.Fields["errmsg"].(string)
	return s
}

func (r reply) str(key string) string {
	s, _ := r.Fields[key].(string)
	return s
}

func (r reply) int(t testing.TB, key string) int64 {
	t.Helper()
	n, ok := r.Fields[key].(json.Number)
	if !ok {
		t.Fatalf("%s is missing or not a number: %s", key, r.Body)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s %q is not an integer: %s", key, n, r.Body)
	}
	return i
}

// wantCode checks a WeChat answer: HTTP 200, the errcode, and for an error
// an errmsg ending in the rid suffix.
func wantCode(t testing.TB, r reply, code int64) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if got := r.errCode(t); got != code {
		t.Fatalf("errcode %d, want %d: %s", got, code, r.Body)
	}
	if code != 0 && !ridSuffix.MatchString(r.errMsg()) {
		t.Fatalf("errmsg %q does not end with a rid", r.errMsg())
	}
}

// wantMsg checks an error answer's errmsg without its rid.
func wantMsg(t testing.TB, r reply, code int64, msg string) {
	t.Helper()
	wantCode(t, r, code)
	if got := ridSuffix.ReplaceAllString(r.errMsg(), ""); got != msg {
		t.Fatalf("errmsg %q, want %q", got, msg)
	}
}

// tokenPath is the /cgi-bin/token URL for the given parameters.
func tokenPath(grantType, appID, secret string) string {
	q := url.Values{}
	if grantType != "" {
		q.Set("grant_type", grantType)
	}
	if appID != "" {
		q.Set("appid", appID)
	}
	if secret != "" {
		q.Set("secret", secret)
	}
	return "/cgi-bin/token?" + q.Encode()
}

// token fetches a normal token, failing the test if it cannot.
func (m *mock) token(appID, secret string) string {
	m.t.Helper()
	r := m.do(http.MethodGet, tokenPath("client_credential", appID, secret), nil)
	wantCode(m.t, r, 0)
	tok := r.str("access_token")
	if tok == "" {
		m.t.Fatalf("no access_token: %s", r.Body)
	}
	return tok
}

type stableBody struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

func (m *mock) stable(force bool) reply {
	m.t.Helper()
	return m.do(http.MethodPost, "/cgi-bin/stable_token",
		stableBody{GrantType: "client_credential", AppID: appA, Secret: secretA, ForceRefresh: force})
}

// stableToken fetches a stable token of app A and its expires_in.
func (m *mock) stableToken(force bool) (string, int64) {
	m.t.Helper()
	r := m.stable(force)
	wantCode(m.t, r, 0)
	return r.str("access_token"), r.int(m.t, "expires_in")
}

// advance moves the mock clock.
func (m *mock) advance(d time.Duration) {
	m.t.Helper()
	if _, err := m.Control.Advance(m.ctx, d); err != nil {
		m.t.Fatalf("advance clock: %v", err)
	}
}

func (m *mock) grant(g mockapi.Grant) {
	m.t.Helper()
	if g.Platform == "" {
		g.Platform, g.AppID = mockapi.PlatformWeChat, appA
	}
	if _, err := m.Control.Grant(m.ctx, g); err != nil {
		m.t.Fatalf("grant: %v", err)
	}
}

func (m *mock) setQuota(appID, endpoint string, limit int, per string) {
	m.t.Helper()
	err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformWeChat, AppID: appID,
		Endpoint: endpoint, Limit: limit, Per: per})
	if err != nil {
		m.t.Fatalf("set quota: %v", err)
	}
}

func (m *mock) addFault(f mockapi.Fault) string {
	m.t.Helper()
	f.Platform = mockapi.PlatformWeChat
	id, err := m.Control.AddFault(m.ctx, f)
	if err != nil {
		m.t.Fatalf("add fault: %v", err)
	}
	return id
}

// use is a token probe: the errcode of a gettemplate call with tok.
func (m *mock) use(tok string) int64 {
	m.t.Helper()
	r := m.do(http.MethodGet, "/wxaapi/newtmpl/gettemplate?access_token="+url.QueryEscape(tok), nil)
	return r.errCode(m.t)
}

// sendMsg is the subscribe-send body; Data values are {"value": …}.
type sendMsg struct {
	ToUser           string         `json:"touser"`
	TemplateID       string         `json:"template_id"`
	Page             string         `json:"page,omitempty"`
	Data             map[string]any `json:"data"`
	MiniprogramState string         `json:"miniprogram_state,omitempty"`
	Lang             string         `json:"lang,omitempty"`
}

// goodData is valid data for tmplA.
func goodData() map[string]any {
	return map[string]any{
		"thing1":  map[string]any{"value": "小米手机"},
		"time2":   map[string]any{"value": "2019年10月1日 15:01"},
		"amount3": map[string]any{"value": "¥100.00"},
		"number4": map[string]any{"value": "3"},
	}
}

func goodMsg() sendMsg { return sendMsg{ToUser: userA, TemplateID: tmplA, Data: goodData()} }

func sendPath(tok string) string {
	return "/cgi-bin/message/subscribe/send?access_token=" + url.QueryEscape(tok)
}

func (m *mock) send(tok string, body any) reply {
	m.t.Helper()
	return m.do(http.MethodPost, sendPath(tok), body)
}

// messages reads the WeChat inbox.
func (m *mock) messages() []mockapi.Message {
	m.t.Helper()
	ms, err := m.Control.Messages(m.ctx, mockclient.MessageFilter{Platform: mockapi.PlatformWeChat})
	if err != nil {
		m.t.Fatalf("read inbox: %v", err)
	}
	return ms.Messages
}

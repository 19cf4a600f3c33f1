package baidu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The world every test starts from: two Baidu apps, addressed by their
// AppKeys. Secrets are long and distinctive so a leak is caught by raw.
const (
	appA    = "4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c"
	secretA = "BD-SECRET-A-0f1e2d3c4b5a69788796a5b4c3d2"
	appB    = "Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
	secretB = "BD-SECRET-B-aaaabbbbccccddddeeeeffff0000"

	userA    = "k4RWmo0mKtr-A6Yw1RHzQnt5gl"       // user of app A, one-time credits
	userA2   = "k4RWmo0mKtr-A6Yw1RHzQnt5g2"       // user of app A without grants
	userLong = "k4RWmo0mKtr-A6Yw1RHzQnt5g3"       // user of app A with a long-term grant
	userB    = "BBBBmo0mKtr-A6Yw1RHzQnt5gl"       // user of app B only
	tmplA    = "83213b378e0647a3b5df04db353a1fb7" // app A: thing1 number2
	tmplA2   = "83213b378e0647a3b5df04db353a1fb8" // app A: thing1
	tmplB    = "b0000000000000000000000000000001" // app B: thing1

	creditsOfA = 3
)

var secrets = []string{secretA, secretB}

func baseSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{
		{
			Platform: mockapi.PlatformBaidu, AppID: appA, Secret: secretA,
			Users: []string{userA, userA2, userLong},
			Templates: []mockapi.Template{
				{TemplateID: tmplA, Title: "订单通知", Keywords: []string{"thing1", "number2"}},
				{TemplateID: tmplA2, Title: "提醒", Keywords: []string{"thing1"}},
			},
			Grants: []mockapi.Grant{
				{OpenID: userA, TemplateID: tmplA, Count: creditsOfA},
				{OpenID: userA, TemplateID: tmplA2, Count: 1},
				{OpenID: userLong, TemplateID: tmplA, LongTerm: true},
			},
		},
		{
			Platform: mockapi.PlatformBaidu, AppID: appB, Secret: secretB,
			Users:     []string{userB},
			Templates: []mockapi.Template{{TemplateID: tmplB, Title: "B", Keywords: []string{"thing1"}}},
			Grants:    []mockapi.Grant{{OpenID: userB, TemplateID: tmplB, Count: 1}},
		},
	}}
}

type mock struct {
	t testing.TB
	*mocktest.Mock
	ctx context.Context
}

func start(t testing.TB, edit ...func(*mockapi.Seed)) *mock {
	t.Helper()
	s := baseSeed()
	for _, e := range edit {
		e(&s)
	}
	return &mock{t: t, Mock: mocktest.Start(t, mockserver.WithSeed(s)), ctx: context.Background()}
}

// reply is one platform answer; Fields is the JSON object (UseNumber),
// decoded whatever the status.
type reply struct {
	Status int
	Body   []byte
	Fields map[string]any
}

func (m *mock) raw(method, path, contentType string, body io.Reader) reply {
	m.t.Helper()
	req, err := http.NewRequestWithContext(m.ctx, method, m.URL+path, body)
	if err != nil {
		m.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
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
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.Fields); err != nil {
			m.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// form sends a urlencoded body (nil: none).
func (m *mock) form(method, path string, f url.Values) reply {
	m.t.Helper()
	var body io.Reader
	if f != nil {
		body = strings.NewReader(f.Encode())
	}
	return m.raw(method, path, "application/x-www-form-urlencoded", body)
}

func (r reply) num(t testing.TB, key string) int64 {
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

func (r reply) str(key string) string {
	s, _ := r.Fields[key].(string)
	return s
}

// wantErrno checks a business answer: HTTP 200, errno, msg, and a data object.
func wantErrno(t testing.TB, r reply, n baidu.Errno) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if _, gw := r.Fields["error_code"]; gw {
		t.Fatalf("gateway answer, want errno %d: %s", n, r.Body)
	}
	if got := r.num(t, "errno"); got != int64(n) {
		t.Fatalf("errno %d, want %d: %s", got, n, r.Body)
	}
	if !strings.HasPrefix(r.str("msg"), n.Message()) {
		t.Fatalf("msg %q does not start with %q", r.str("msg"), n.Message())
	}
	if _, ok := r.Fields["data"].(map[string]any); !ok {
		t.Fatalf("data is not an object: %s", r.Body)
	}
}

// wantGateway checks a gateway answer: HTTP 200, error_code and error_msg.
func wantGateway(t testing.TB, r reply, code baidu.GatewayCode) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if got := r.num(t, "error_code"); got != int64(code) {
		t.Fatalf("error_code %d, want %d: %s", got, code, r.Body)
	}
	if got := r.str("error_msg"); got != code.Message() {
		t.Fatalf("error_msg %q, want %q", got, code.Message())
	}
	if _, has := r.Fields["errno"]; has {
		t.Fatalf("gateway answer carries an errno: %s", r.Body)
	}
}

// wantOAuth checks an OAuth error: HTTP 400 with error and error_description.
func wantOAuth(t testing.TB, r reply, name, description string) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
	}
	if got := r.str("error"); got != name {
		t.Fatalf("error %q, want %q: %s", got, name, r.Body)
	}
	if description != "" && r.str("error_description") != description {
		t.Fatalf("error_description %q, want %q", r.str("error_description"), description)
	}
	if _, has := r.Fields["access_token"]; has {
		t.Fatalf("error answer carries a token: %s", r.Body)
	}
}

const (
	tokenPath     = "/oauth/2.0/token"
	sendPath      = "/rest/2.0/smartapp/template/message/subscribe/send"
	checkTextPath = "/rest/2.0/smartapp/riskDetection/v2/syncCheckText"
)

func tokenQuery(grantType, appID, secret, scope string) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"grant_type": grantType, "client_id": appID, "client_secret": secret, "scope": scope} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// token fetches a token the way the official Go SDK does (GET, query).
func (m *mock) token(appID, secret string) string {
	m.t.Helper()
	r := m.form(http.MethodGet, tokenPath+"?"+tokenQuery("client_credentials", appID, secret, "smartapp_snsapi_base").Encode(), nil)
	if r.Status != http.StatusOK || r.str("access_token") == "" {
		m.t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return r.str("access_token")
}

func (m *mock) advance(d time.Duration) {
	m.t.Helper()
	if _, err := m.Control.Advance(m.ctx, d); err != nil {
		m.t.Fatalf("advance clock: %v", err)
	}
}

func withToken(path, tok string) string { return path + "?access_token=" + url.QueryEscape(tok) }

// sendForm is a complete, valid send of tmplA.
func sendForm(user, subscribeID string) url.Values {
	return url.Values{
		"template_id": {tmplA}, "touser_openId": {user}, "subscribe_id": {subscribeID},
		"data": {`{"thing1":{"value":"肯德基"},"number2":{"value":2}}`}, "page": {"pages/order/detail?id=7"},
	}
}

func (m *mock) send(tok string, f url.Values) reply {
	m.t.Helper()
	return m.form(http.MethodPost, withToken(sendPath, tok), f)
}

func (m *mock) checkText(tok string, body any) reply {
	m.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			m.t.Fatalf("marshal: %v", err)
		}
	}
	return m.raw(http.MethodPost, withToken(checkTextPath, tok), "application/json", bytes.NewReader(b))
}

// use probes a token with a clean syncCheckText: 0 when the token works,
// else the gateway's error_code.
func (m *mock) use(tok string) int64 {
	m.t.Helper()
	r := m.checkText(tok, map[string]any{"content": "你好"})
	if _, gw := r.Fields["error_code"]; gw {
		return r.num(m.t, "error_code")
	}
	return r.num(m.t, "errno")
}

func (m *mock) messages() []mockapi.Message {
	m.t.Helper()
	ms, err := m.Control.Messages(m.ctx, mockclient.MessageFilter{Platform: mockapi.PlatformBaidu})
	if err != nil {
		m.t.Fatalf("read inbox: %v", err)
	}
	return ms.Messages
}

func (m *mock) remaining(user, tmpl string) int {
	m.t.Helper()
	gs, err := m.Control.Grants(m.ctx, mockapi.PlatformBaidu, appA, user)
	if err != nil {
		m.t.Fatalf("read grants: %v", err)
	}
	for _, g := range gs {
		if g.TemplateID == tmpl {
			return g.Remaining
		}
	}
	return 0
}

func (m *mock) addFault(f mockapi.Fault) string {
	m.t.Helper()
	f.Platform = mockapi.PlatformBaidu
	id, err := m.Control.AddFault(m.ctx, f)
	if err != nil {
		m.t.Fatalf("add fault: %v", err)
	}
	return id
}

func (m *mock) setQuota(endpoint string, limit int, per string) {
	m.t.Helper()
	if err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformBaidu, AppID: appA,
		Endpoint: endpoint, Limit: limit, Per: per}); err != nil {
		m.t.Fatalf("set quota: %v", err)
	}
}

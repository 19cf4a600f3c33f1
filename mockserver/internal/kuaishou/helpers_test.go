package kuaishou_test

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
	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The world every test starts from: two Kuaishou apps. Secrets are long and
// distinctive so a leak into any answer is caught by do.
const (
	appA    = "ks707065143182458884"
	secretA = "KS-SECRET-A-9VfzaT7Jf1bBHvveFZfg0000"
	appB    = "ks700000000000000002"
	secretB = "KS-SECRET-B-aaaabbbbccccddddeeee1111"

	userA     = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e6f" // user of app A, one-time grants
	userA2    = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e70" // user of app A without grants
	userLong  = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e71" // user of app A with a long-term grant
	userB     = "b0000000000000000000000000000001" // user of app B only
	tmplA     = "tmpl-a-member-card"               // app A: thing01 thing02 date01 amount01 number01
	tmplB     = "tmpl-b"                           // app B: thing01
	grantsOfA = 2
)

var secrets = []string{secretA, secretB}

func baseSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{
		{
			Platform: mockapi.PlatformKuaishou, AppID: appA, Secret: secretA,
			Users: []string{userA, userA2, userLong},
			Templates: []mockapi.Template{{TemplateID: tmplA, Title: "会员卡通知",
				Keywords: []string{"thing01", "thing02", "date01", "amount01", "number01"}}},
			Grants: []mockapi.Grant{
				{OpenID: userA, TemplateID: tmplA, Count: grantsOfA},
				{OpenID: userLong, TemplateID: tmplA, LongTerm: true},
			},
		},
		{
			Platform: mockapi.PlatformKuaishou, AppID: appB, Secret: secretB,
			Users:     []string{userB},
			Templates: []mockapi.Template{{TemplateID: tmplB, Title: "B", Keywords: []string{"thing01"}}},
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

// reply is one platform answer; Fields is the JSON object (UseNumber).
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	Fields map[string]any
}

// do calls the mock with a form body (nil: none) and fails the test when
// the answer leaks a secret or, with status 200, is not a JSON object.
func (m *mock) do(method, path string, form url.Values) reply {
	m.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	return m.raw(method, path, "application/x-www-form-urlencoded", body)
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
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if resp.StatusCode == http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.Fields); err != nil {
			m.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

func (r reply) result(t testing.TB) int64 {
	t.Helper()
	n, ok := r.Fields["result"].(json.Number)
	if !ok {
		t.Fatalf("result is missing or not a number: %s", r.Body)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("result %q is not an integer: %s", n, r.Body)
	}
	return i
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

func (r reply) str(key string) string {
	s, _ := r.Fields[key].(string)
	return s
}

// wantResult checks a Kuaishou answer: HTTP 200, the result, and for an
// error the error/error_msg pair.
func wantResult(t testing.TB, r reply, code kuaishou.Result) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if got := r.result(t); got != int64(code) {
		t.Fatalf("result %d, want %d: %s", got, code, r.Body)
	}
	if code == kuaishou.ResultOK {
		return
	}
	if !strings.HasPrefix(r.str("error_msg"), code.Message()) {
		t.Fatalf("error_msg %q does not start with %q", r.str("error_msg"), code.Message())
	}
	if r.str("error") == "" {
		t.Fatalf("error answer without an error name: %s", r.Body)
	}
	if _, has := r.Fields["access_token"]; has {
		t.Fatalf("error answer carries a token: %s", r.Body)
	}
}

// wantDetail checks an error answer and that its error_msg mentions detail.
func wantDetail(t testing.TB, r reply, code kuaishou.Result, detail string) {
	t.Helper()
	wantResult(t, r, code)
	if !strings.Contains(r.str("error_msg"), detail) {
		t.Fatalf("error_msg %q does not mention %q", r.str("error_msg"), detail)
	}
}

func tokenForm(grantType, appID, secret string) url.Values {
	f := url.Values{}
	for k, v := range map[string]string{"grant_type": grantType, "app_id": appID, "app_secret": secret} {
		if v != "" {
			f.Set(k, v)
		}
	}
	return f
}

const tokenPath = "/oauth2/access_token"
const sendPath = "/openapi/mp/developer/message/template/send"

// token fetches a token by POST form, failing the test if it cannot.
func (m *mock) token(appID, secret string) string {
	m.t.Helper()
	r := m.do(http.MethodPost, tokenPath, tokenForm("client_credentials", appID, secret))
	wantResult(m.t, r, kuaishou.ResultOK)
	tok := r.str("access_token")
	if tok == "" {
		m.t.Fatalf("no access_token: %s", r.Body)
	}
	return tok
}

func (m *mock) advance(d time.Duration) {
	m.t.Helper()
	if _, err := m.Control.Advance(m.ctx, d); err != nil {
		m.t.Fatalf("advance clock: %v", err)
	}
}

// goodData is valid data for tmplA, as the JSON string the API takes.
func goodData() map[string]any {
	return map[string]any{
		"thing01":  map[string]any{"value": "会员卡"},
		"thing02":  map[string]any{"value": "这是一张会员卡"},
		"date01":   map[string]any{"value": "2020年02月25号"},
		"amount01": map[string]any{"value": "99.50"},
		"number01": map[string]any{"value": 3},
	}
}

func dataString(t testing.TB, d map[string]any) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("marshal data: %v", err)
	}
	return string(b)
}

// sendForm is a complete, valid send of tmplA to user with tok.
func sendForm(t testing.TB, tok, user string) url.Values {
	return url.Values{
		"app_id": {appA}, "access_token": {tok}, "template_id": {tmplA}, "to_user": {user},
		"page": {"pages/card/detail?id=1"}, "data": {dataString(t, goodData())},
	}
}

func (m *mock) send(form url.Values) reply {
	m.t.Helper()
	return m.do(http.MethodPost, sendPath, form)
}

// use probes a token: the result of a valid send to the long-term user.
func (m *mock) use(tok string) int64 {
	m.t.Helper()
	return m.send(sendForm(m.t, tok, userLong)).result(m.t)
}

func (m *mock) messages() []mockapi.Message {
	m.t.Helper()
	ms, err := m.Control.Messages(m.ctx, mockclient.MessageFilter{Platform: mockapi.PlatformKuaishou})
	if err != nil {
		m.t.Fatalf("read inbox: %v", err)
	}
	return ms.Messages
}

func (m *mock) remaining(appID, user, tmpl string) int {
	m.t.Helper()
	gs, err := m.Control.Grants(m.ctx, mockapi.PlatformKuaishou, appID, user)
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
	f.Platform = mockapi.PlatformKuaishou
	id, err := m.Control.AddFault(m.ctx, f)
	if err != nil {
		m.t.Fatalf("add fault: %v", err)
	}
	return id
}

package douyin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The world every test starts from: two Douyin apps. Secrets are long and
// distinctive so a leak into any answer is caught by do.
const (
	appA    = "tt8b4f85f3a794e77a"
	secretA = "SECRET-DY-A-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	appB    = "tt1111111111111111"
	secretB = "SECRET-DY-B-aaaabbbbccccddddeeeeffff00001111"

	userA       = "_000QadFMhmWJ0000000000000000001" // app A: 5 one-time tmplA, long-term tmplLong
	userA2      = "_000QadFMhmWJ0000000000000000002" // app A: 1 one-time tmplA
	userNoGrant = "_000QadFMhmWJ0000000000000000003" // app A: no grant
	userB       = "_000BBBBBBBBBB000000000000000001" // app B only

	// tmplA's data keys: 物品名称 (thing1), 购买金额 (amount2), number3 (no name).
	tmplA    = "MSG38489d04608c5f0fdeb565fc5114afff6410a1"
	tmplLong = "MSG38489d04608c5f0fdeb565fc5114afff6410a2"
	tmplB    = "MSGBBBB9d04608c5f0fdeb565fc5114afff6410b1"

	pathToken        = "/api/apps/v2/token"
	pathClientToken  = "/oauth/client_token/"
	pathStableClient = "/oauth/stable_client_token/"
	pathStableToken  = "/mgplatform/api/apps/stable_token"
	pathNotifyV1     = "/api/apps/subscribe_notification/developer/v1/notify"
	pathNotifyV2     = "/api/notification/v2/subscription/notify_user/"
	pathAntidirt     = "/api/v2/tags/text/antidirt"
	pathCensor       = "/api/apps/v1/censor/text/"

	// riskyText is one of the default content rules' official test strings.
	riskyText = "特3456书yuuo莞6543李zxcz蒜7782法fgnv级"
)

var secrets = []string{secretA, secretB}

func baseSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{
		{
			Platform: mockapi.PlatformDouyin, AppID: appA, Secret: secretA,
			Users: []string{userA, userA2, userNoGrant},
			Templates: []mockapi.Template{
				{TemplateID: tmplA, Title: "购买成功通知", Keywords: []string{"thing1", "amount2", "number3"},
					KeywordNames: map[string]string{"thing1": "物品名称", "amount2": "购买金额"}},
				{TemplateID: tmplLong, Title: "预约提醒", Type: mockapi.TemplateLongTerm, Keywords: []string{"thing1"},
					KeywordNames: map[string]string{"thing1": "预约项目"}},
			},
			Grants: []mockapi.Grant{
				{OpenID: userA, TemplateID: tmplA, Count: 5},
				{OpenID: userA2, TemplateID: tmplA, Count: 1},
				{OpenID: userA, TemplateID: tmplLong, LongTerm: true},
			},
		},
		{
			Platform: mockapi.PlatformDouyin, AppID: appB, Secret: secretB,
			Users:     []string{userB},
			Templates: []mockapi.Template{{TemplateID: tmplB, Title: "B", Keywords: []string{"thing1"}}},
			Grants:    []mockapi.Grant{{OpenID: userB, TemplateID: tmplB, Count: 5}},
		},
	}}
}

// goodData is a valid data map for tmplA.
func goodData() map[string]any {
	return map[string]any{"物品名称": "机械键盘", "购买金额": "199.00", "number3": 3}
}

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

// reply is one answer, its JSON decoded with UseNumber.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	Fields map[string]any
}

// do calls the mock. body is sent as is when it is a string, else as JSON;
// nil sends no body. header is pairs of name, value. It fails the test when
// the answer leaks a secret or is not a JSON object.
func (m *mock) do(method, path string, body any, header ...string) reply {
	m.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
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
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := m.Control.HTTP.Do(req)
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
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		m.t.Fatalf("%s %s: Content-Type %q, want JSON: %s", method, path, ct, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.Fields); err != nil {
		m.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
	}
	return r
}

func (m *mock) post(path string, body any, header ...string) reply {
	m.t.Helper()
	return m.do(http.MethodPost, path, body, header...)
}

// get follows a dotted path ("data.error_code") through the answer.
func (r reply) get(path string) (any, bool) {
	var cur any = r.Fields
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func (r reply) num(t testing.TB, path string) int64 {
	t.Helper()
	v, ok := r.get(path)
	if !ok {
		t.Fatalf("%s missing: %s", path, r.Body)
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%s is %T, not a number: %s", path, v, r.Body)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s %q is not an integer: %s", path, n, r.Body)
	}
	return i
}

func (r reply) str(t testing.TB, path string) string {
	t.Helper()
	v, ok := r.get(path)
	if !ok {
		t.Fatalf("%s missing: %s", path, r.Body)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s is %T, not a string: %s", path, v, r.Body)
	}
	return s
}

// wantErrNo checks an err_no answer: HTTP 200 and the code.
func wantErrNo(t testing.TB, r reply, code int64) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if got := r.num(t, "err_no"); got != code {
		t.Fatalf("err_no %d, want %d: %s", got, code, r.Body)
	}
}

// token fetches a getAccessToken token.
func (m *mock) token(appID, secret string) string {
	m.t.Helper()
	r := m.post(pathToken, map[string]string{"appid": appID, "secret": secret, "grant_type": "client_credential"})
	wantErrNo(m.t, r, 0)
	return r.str(m.t, "data.access_token")
}

// clientToken fetches a client_token.
func (m *mock) clientToken(appID, secret string) string {
	m.t.Helper()
	r := m.post(pathClientToken, map[string]string{"client_key": appID, "client_secret": secret, "grant_type": "client_credential"})
	if r.Status != http.StatusOK || r.num(m.t, "data.error_code") != 0 {
		m.t.Fatalf("client_token failed: %s", r.Body)
	}
	return r.str(m.t, "data.access_token")
}

// notifyV1 sends a v1 message.
func (m *mock) notifyV1(tok, appID, tpl, openID string, data map[string]any, page string) reply {
	m.t.Helper()
	return m.post(pathNotifyV1, map[string]any{"access_token": tok, "app_id": appID, "tpl_id": tpl,
		"open_id": openID, "data": data, "page": page})
}

// notifyV2 sends a notify_user message.
func (m *mock) notifyV2(tok, msgID, openID string, data map[string]any) reply {
	m.t.Helper()
	return m.post(pathNotifyV2, map[string]any{"msg_id": msgID, "open_id": openID, "data": data},
		"access-token", tok)
}

func (m *mock) advance(d time.Duration) {
	m.t.Helper()
	if _, err := m.Control.Advance(m.ctx, d); err != nil {
		m.t.Fatalf("advance clock: %v", err)
	}
}

func (m *mock) setQuota(endpoint string, limit int, per string) {
	m.t.Helper()
	if err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformDouyin, AppID: appA,
		Endpoint: endpoint, Limit: limit, Per: per}); err != nil {
		m.t.Fatalf("set quota: %v", err)
	}
}

// remaining is a user's one-time credits for a template of app A.
func (m *mock) remaining(openID, tpl string) int {
	m.t.Helper()
	gs, err := m.Control.Grants(m.ctx, mockapi.PlatformDouyin, appA, openID)
	if err != nil {
		m.t.Fatalf("grants: %v", err)
	}
	for _, g := range gs {
		if g.TemplateID == tpl {
			return g.Remaining
		}
	}
	return 0
}

func (m *mock) messages() []mockapi.Message {
	m.t.Helper()
	ms, err := m.Control.Messages(m.ctx, mockclient.MessageFilter{Platform: mockapi.PlatformDouyin})
	if err != nil {
		m.t.Fatalf("messages: %v", err)
	}
	return ms.Messages
}

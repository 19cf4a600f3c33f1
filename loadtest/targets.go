package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/senderclient"
)

// record is one request: what was sent and what came back.
type record struct {
	n      uint64
	kind   scenario.Kind
	marker string
	to     []string // recipients: one, or a broadcast's fan-out

	// Filled from the answer.
	ok         bool     // the answer is the expected one
	accepted   bool     // the target took the message(s) for delivery
	unanswered bool     // transport error or timeout: the outcome is unknown
	codes      []string // business codes: API rules, platform errcodes, "transport"
	detail     string   // an unexpected answer, described for the report's examples
}

// target is one system under test: it builds request bodies, judges
// answers and gathers what reconciliation compares.
type target interface {
	request(r *record, t *vegeta.Target) error
	classify(r *record, res *vegeta.Result)
	reconcileInput(ctx context.Context, e *env, recs []*record, began time.Time) (reconcile.Input, drainInfo, error)
}

// drainInfo tells how the wait for the sender's queue went.
type drainInfo struct {
	waited     time.Duration
	timedOut   bool
	pending    int // messages not final when the drain timed out
	notes      []string
	finalCodes map[string]int // the sender's final platform codes, as business codes
}

func (e *env) newTarget() target {
	if e.cfg.Target == TargetMock {
		return newMockTarget(e)
	}
	return newSenderTarget(e)
}

// recipients picks request n's recipients: granted users round-robin (a
// broadcast takes fanout consecutive ones), or an ungranted user.
func (e *env) recipients(kind scenario.Kind, n uint64) []string {
	if e.cfg.Platform == mockapi.PlatformBaidu && kind != scenario.NoGrant {
		// Baidu takes one send per user and template (its subscribe_id is
		// spent): every request gets its own block of fanout users.
		out := make([]string, 1, e.cfg.Fanout)
		if kind == scenario.Broadcast {
			out = out[:e.cfg.Fanout]
		}
		for i := range out {
			out[i] = e.users[(n*uint64(e.cfg.Fanout)+uint64(i))%uint64(len(e.users))]
		}
		return out
	}
	switch kind {
	case scenario.NoGrant:
		return []string{e.noGrant[n%uint64(len(e.noGrant))]}
	case scenario.Broadcast:
		out := make([]string, e.cfg.Fanout)
		for i := range out {
			out[i] = e.users[(n*uint64(e.cfg.Fanout)+uint64(i))%uint64(len(e.users))]
		}
		return out
	}
	return []string{e.users[n%uint64(len(e.users))]}
}

// senderTarget drives the sender's API: requests are built by the
// sender's client (senderclient), and sent by vegeta's attacker, which
// paces them.
type senderTarget struct {
	e    *env
	rule map[scenario.Kind]string // expected 422 rule per refused kind
}

func newSenderTarget(e *env) *senderTarget {
	return &senderTarget{e: e,
		rule: map[scenario.Kind]string{
			scenario.Content: "content:" + e.cfg.ContentRule,
			// One character over a thing keyword's limit: the sender's
			// rule name for keyword.ReasonTooLong.
			scenario.BadKeyword: "keyword_exceeds_limit",
		}}
}

func (s *senderTarget) request(r *record, t *vegeta.Target) error {
	cfg := s.e.cfg
	r.to = s.e.recipients(r.kind, r.n)
	data := scenario.DataFor(cfg.Platform, r.kind, r.marker, cfg.ContentWord)
	var (
		req *http.Request
		err error
	)
	if r.kind == scenario.Broadcast {
		req, err = s.e.sender.BroadcastRequest(context.Background(), senderclient.BroadcastRequest{App: cfg.App, To: r.to,
			TemplateID: cfg.TemplateID, Data: data})
	} else {
		// The marker doubles as idempotency key: unique per request, and
		// the sender's deduplication is exercised on every message.
		req, err = s.e.sender.SendRequest(context.Background(), senderclient.MessageRequest{App: cfg.App, To: r.to[0],
			TemplateID: cfg.TemplateID, Data: data, IdempotencyKey: r.marker})
	}
	if err != nil {
		return err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	t.Method, t.URL, t.Header, t.Body = req.Method, req.URL.String(), req.Header, body
	if k := uint64(len(s.e.senderBases)); k > 1 {
		// Several instances: round robin, as a load balancer would.
		t.URL = s.e.senderBases[r.n%k] + req.URL.RequestURI()
	}
	return nil
}

// senderAnswer covers the 202 answers and the 422 problems.
type senderAnswer struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Recipients int    `json:"recipients"`
	Problems   []struct {
		Rule string `json:"rule"`
	} `json:"problems"`
}

func (s *senderTarget) classify(r *record, res *vegeta.Result) {
	defer func() { r.detail = detail(r, res) }()
	if res.Code == 0 {
		r.codes, r.unanswered = []string{"transport"}, true
		return
	}
	var a senderAnswer
	_ = json.Unmarshal(res.Body, &a) // a body that is not JSON leaves a zero answer: judged below
	switch res.Code {
	case http.StatusAccepted:
		r.accepted = a.ID != ""
		want := 1
		if r.kind == scenario.Broadcast {
			want = len(r.to)
			r.accepted = r.accepted && a.Recipients == want
		}
		r.ok = r.accepted && (r.kind == scenario.Valid || r.kind == scenario.NoGrant || r.kind == scenario.Broadcast)
	case http.StatusUnprocessableEntity:
		for _, p := range a.Problems {
			r.codes = append(r.codes, p.Rule)
		}
		want, refused := s.rule[r.kind]
		r.ok = refused && slices.Contains(r.codes, want)
	default:
		r.codes = []string{"http_" + strconv.Itoa(int(res.Code))}
	}
}

// accessToken matches a token in a URL (the mock target's send URL holds
// one): it must not reach a report.
var accessToken = regexp.MustCompile(`access_token=[^&#"\s]*`)

// detail describes an answer that was not the expected one: the transport
// error, or the status and the start of the body. Tokens are scrubbed.
func detail(r *record, res *vegeta.Result) string {
	if r.ok {
		return ""
	}
	var d string
	switch {
	case res.Code == 0:
		d = res.Error
	default:
		body := strings.Join(strings.Fields(string(res.Body)), " ")
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		d = fmt.Sprintf("HTTP %d %s", res.Code, body)
	}
	return string(r.kind) + ": " + accessToken.ReplaceAllString(d, "access_token=[redacted]")
}

// mockTarget drives the platform's send API on the mock directly
// (WeChat's POST /cgi-bin/message/subscribe/send).
type mockTarget struct {
	e      *env
	url    string // with the access token; set by prepare
	header http.Header
	want   map[scenario.Kind]int // expected errcode per kind
}

// WeChat errcodes the mock answers for each kind.
const (
	wechatOK          = 0
	wechatUserRefused = 43101 // no subscription for the template
	wechatSensitive   = 45168 // send content hit a sensitive word: the mock's reading, UNCONFIRMED on the live platform (docs/mock-wechat.md)
	wechatArgInvalid  = 47003 // data breaks a keyword rule
)

func newMockTarget(e *env) *mockTarget {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &mockTarget{e: e, header: h, url: e.mockBase + "/cgi-bin/message/subscribe/send?access_token=" + e.token,
		want: map[scenario.Kind]int{scenario.Valid: wechatOK, scenario.Content: wechatSensitive,
			scenario.BadKeyword: wechatArgInvalid, scenario.NoGrant: wechatUserRefused}}
}

type wechatValue struct {
	Value string `json:"value"`
}

type wechatSend struct {
	ToUser     string                 `json:"touser"`
	TemplateID string                 `json:"template_id"`
	Data       map[string]wechatValue `json:"data"`
}

func (m *mockTarget) request(r *record, t *vegeta.Target) error {
	r.to = m.e.recipients(r.kind, r.n)
	data := map[string]wechatValue{}
	for k, v := range scenario.Data(r.kind, r.marker, m.e.cfg.ContentWord) {
		data[k] = wechatValue{Value: v}
	}
	body, err := json.Marshal(wechatSend{ToUser: r.to[0], TemplateID: m.e.cfg.TemplateID, Data: data})
	t.Method, t.URL, t.Body, t.Header = http.MethodPost, m.url, body, m.header
	return err
}

func (m *mockTarget) classify(r *record, res *vegeta.Result) {
	defer func() { r.detail = detail(r, res) }()
	if res.Code == 0 {
		r.codes, r.unanswered = []string{"transport"}, true
		return
	}
	if res.Code != http.StatusOK {
		r.codes = []string{"http_" + strconv.Itoa(int(res.Code))}
		return
	}
	var a struct {
		ErrCode *int `json:"errcode"`
	}
	if json.Unmarshal(res.Body, &a) != nil || a.ErrCode == nil {
		r.codes = []string{"malformed"}
		return
	}
	r.codes = []string{strconv.Itoa(*a.ErrCode)}
	r.accepted = *a.ErrCode == wechatOK
	r.ok = *a.ErrCode == m.want[r.kind]
}

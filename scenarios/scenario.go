package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/scenarios/internal/direct"
	"github.com/minipush/minipush/sender/senderclient"
)

// patience bounds every wait for something to happen (a delivery, a
// status): generous, for a busy machine and the race detector; a scenario
// that passes never waits that long.
const patience = 30 * time.Second

// grace is how long "exactly once" and "nothing" wait for a stray extra
// message before counting.
const grace = 400 * time.Millisecond

// page is the page every message opens.
const page = "pages/index/index"

// templateID is every app's template.
const templateID = "tmpl-order-shipped"

// scenario is the state of one running scenario. godog creates one per
// scenario (Suite.InitializeScenario), so scenarios share nothing but the
// world, and in it only what they register under their own app ids.
type scenario struct {
	suite  *Suite
	w      *world
	own    bool // w is this scenario's (@isolated)
	no     int64
	ctx    context.Context
	cancel context.CancelFunc
	http   *http.Client

	apps  []*app // apps[0] is "the app"
	named map[string]*app

	// Messages handed to the sender, in order; batch is the latest "to
	// each of them"; lastTo is the last message each user was sent.
	msgs       []*sent
	batch      []*sent
	batchStart time.Time
	cohort     []string
	lastTo     map[string]*sent
	marks      int

	// The last answer of the sender's API (for refusals and idempotency):
	// its status, what it said, and the error when it refused.
	lastStatus int
	lastAnswer string
	// csv is the report of the last CSV audience; sched the last
	// schedule made.
	csv     *senderclient.AudienceReport
	sched   *senderclient.Schedule
	lastErr *senderclient.Error
	lastID  string // the message id of the last send's answer
	// hookKey: the scenario calls the sender with the world's webhook key
	// (its messages' outcomes are POSTed to the world's receiver).
	hookKey    bool
	firstID    string
	concurrent []answer

	// Direct calls.
	answer  direct.Answer
	answers []direct.Answer
	reply   direct.AlipayReply
	stable  []string
	verdict direct.Verdict
	// added is the template made through the platform's own template API.
	added   *addedTemplate
	risky   bool   // the platform's last image verdict
	mediaID string // the last temporary image uploaded

	bc *broadcast
}

// app is a mini-program a scenario registered on the mock (and, when it
// is served by the sender, leased from the world's pool).
type app struct {
	spec       *platformSpec
	label      string
	appID      string
	secret     string
	slot       *slot // nil: not served by the sender
	keys       []string
	names      map[string]string
	markerKey  string
	users      map[string]string
	lastDirect map[string]time.Time
	faults     []string
	// Pushes (features/consent*.feature): the ids of the pushes the
	// scenario's user actions made, when the last popup was answered, the
	// faults spoiling pushes and the first push they spoil.
	pushes     []string
	lastPopup  time.Time
	pushFaults []string
	spoiled    int
	token      string
	prevToken  string
	direct     direct.App
}

// sent is one message handed to the sender.
type sent struct {
	app    *app
	user   string
	marker string
	id     string
	status int
	// req is what was sent (a resend sends it again).
	req    senderclient.MessageRequest
	sendAt time.Time
}

type broadcast struct {
	app        *app
	id         string
	marker     string
	recipients int
}

type answer struct {
	status int
	id     string
}

// message is the sender's view of a message (GET /v1/messages/{id}).
type message struct{ senderclient.Message }

func (m message) String() string {
	codes := make([]string, len(m.Attempts))
	for i, a := range m.Attempts {
		codes[i] = a.Code
		if a.Kind == senderclient.KindTokenRefresh {
			codes[i] = "token:" + a.Code
		}
	}
	return fmt.Sprintf("%s status %s, last code %q (%s), retries %d, attempts %v", m.ID, m.Status, m.LastCode,
		m.LastError, m.Retries, codes)
}

func (s *scenario) before(ctx context.Context, sc *godog.Scenario) (context.Context, error) {
	s.no = s.suite.scenarios.Add(1)
	s.ctx, s.cancel = context.WithTimeout(context.Background(), 4*time.Minute)
	s.http = &http.Client{Timeout: 60 * time.Second, Transport: s.suite.contract.Transport(nil)}
	s.named = map[string]*app{}
	s.lastTo = map[string]*sent{}
	s.w = s.suite.shared
	for _, t := range sc.Tags {
		if t.Name == tagIsolated {
			w, err := s.suite.isolatedWorld(s.ctx, fmt.Sprintf("scenario-%d", s.no))
			if err != nil {
				return ctx, fmt.Errorf("a world of its own: %w", err)
			}
			s.w, s.own = w, true
		}
	}
	return ctx, nil
}

func (s *scenario) after(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
	s.cancel()
	if s.own {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if cerr := s.w.close(cctx); cerr != nil && err == nil {
			return ctx, fmt.Errorf("close the scenario's world: %w", cerr)
		}
	}
	return ctx, nil
}

// the app: the first one registered.
func (s *scenario) app() (*app, error) {
	if len(s.apps) == 0 {
		return nil, errors.New("the scenario has no mini-program yet")
	}
	return s.apps[0], nil
}

func (s *scenario) mock() *mockclient.Client { return s.w.mock }

// addApp registers a mini-program on the mock — leased from the world's
// pool when the sender serves it, with an id of its own otherwise.
func (s *scenario) addApp(platform, label string, keys []string, viaSender bool, prof profile) (*app, error) {
	spec, ok := platforms[platform]
	if !ok {
		return nil, fmt.Errorf("unknown platform %q", platform)
	}
	a := &app{spec: spec, label: label, users: map[string]string{}, lastDirect: map[string]time.Time{},
		keys: spec.keywords, names: spec.names}
	if keys != nil {
		a.keys, a.names = keys, nil
	}
	if viaSender {
		sl, err := s.w.pool.lease(platform, prof)
		if err != nil {
			return nil, err
		}
		a.slot, a.appID, a.secret = sl, sl.appID, sl.secret
		if _, err := s.w.senderURL(s.ctx); err != nil {
			return nil, err
		}
	} else {
		n := int(s.w.seq.Add(1))
		a.appID, a.secret = spec.appID(s.w.no, 1_000_000+n), fmt.Sprintf("direct-secret-%d", n)
	}
	reg := mockapi.App{Platform: platform, AppID: a.appID, Secret: a.secret,
		Templates: []mockapi.Template{spec.template(templateID, keys)}}
	a.direct = direct.App{Platform: platform, AppID: a.appID, Secret: a.secret}
	if platform == "alipay" {
		k := s.suite.keys
		reg.Secret = ""
		reg.AppPublicKey, reg.AlipayPrivateKey = publicPEM(&k.app.PublicKey), privatePEM(k.platform)
		a.direct.AlipayAppKey, a.direct.AlipayPublicKey = k.app, &k.platform.PublicKey
	}
	if _, err := s.mock().AddApp(s.ctx, reg); err != nil {
		return nil, fmt.Errorf("register the %s app on the mock: %w", platform, err)
	}
	s.apps = append(s.apps, a)
	if label != "" {
		s.named[label] = a
	}
	return a, nil
}

// userID is the platform id of one of the scenario's users of a.
func (a *app) userID(name string) string {
	if id, ok := a.users[name]; ok {
		return id
	}
	id := a.spec.userID(name, len(a.users)+1)
	a.users[name] = id
	return id
}

// marker makes each message of the scenario recognisable in the inbox.
func (s *scenario) marker() string {
	s.marks++
	return "#" + strconv.FormatInt(s.no, 36) + "." + strconv.FormatInt(int64(s.marks), 36)
}

// data is a message's data for a: the marker (after text, if any) in the
// first thing keyword; set replaces values by wire key.
func (s *scenario) data(a *app, text, marker string, set map[string]string) map[string]string {
	d, key := a.spec.data(a.keys, a.names, text, marker)
	a.markerKey = key
	for k, v := range set {
		d[k] = v
	}
	return d
}

// key is the API key the scenario calls the sender with.
func (s *scenario) key() string {
	if s.hookKey {
		return hookAPIKey
	}
	return apiKey
}

// client is a client of the world's sender (its address can change when a
// container restarts). It does not retry: scenarios judge each answer.
func (s *scenario) client() (*senderclient.Client, error) {
	base, err := s.w.senderURL(s.ctx)
	if err != nil {
		return nil, err
	}
	return senderclient.New(base, senderclient.WithAPIKey(s.key()), senderclient.WithHTTPClient(s.http),
		senderclient.WithRetry(senderclient.NoRetry))
}

// record keeps a call's answer for the steps that judge it: the status
// (okStatus when the call succeeded) and, for a refusal, the error. It
// returns err unless the sender answered it (a transport failure).
func (s *scenario) record(okStatus int, answer any, err error) error {
	s.lastErr = nil
	var apiErr *senderclient.Error
	switch {
	case err == nil:
		s.lastStatus, s.lastAnswer = okStatus, fmt.Sprintf("%+v", answer)
	case errors.As(err, &apiErr):
		s.lastStatus, s.lastAnswer, s.lastErr = apiErr.StatusCode, apiErr.Error(), apiErr
	default:
		return err
	}
	return nil
}

// api is one raw call with the world's key, for the one step about the
// protocol itself (an Idempotency-Key header contradicting the body's key),
// which the client never sends. body is JSON-encoded unless it is []byte;
// hdr holds name, value pairs.
func (s *scenario) api(method, path string, body any, hdr ...string) (int, []byte, error) {
	base, err := s.w.senderURL(s.ctx)
	if err != nil {
		return 0, nil, err
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.key())
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// sendVia hands a message to the sender; the answer is recorded, not
// judged (refusals are what some scenarios want). mod (may be nil) changes
// the request before it is sent.
func (s *scenario) sendVia(a *app, user, text string, set map[string]string, mod func(*senderclient.MessageRequest)) (*sent, error) {
	if a.slot == nil {
		return nil, fmt.Errorf("the %s mini-program is not served by the sender", a.spec.name)
	}
	m := &sent{app: a, user: user, marker: s.marker()}
	m.req = senderclient.MessageRequest{App: a.slot.name, To: a.userID(user), TemplateID: templateID,
		Data: s.data(a, text, m.marker, set), Page: page}
	if a.spec.name == "baidu" {
		m.req.Data["subscribe_id"] = subscribeID(m.marker)
	}
	if mod != nil {
		mod(&m.req)
	}
	if err := s.sendRecorded(m); err != nil {
		return nil, err
	}
	s.msgs = append(s.msgs, m)
	s.lastTo[user] = m
	return m, nil
}

// sendRecorded sends m.req through the client and records the answer in m
// and in the scenario.
func (s *scenario) sendRecorded(m *sent) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	acc, err := c.Send(s.ctx, m.req)
	status := http.StatusAccepted
	if acc.Duplicate {
		status = http.StatusOK
	}
	if err := s.record(status, acc, err); err != nil {
		return err
	}
	m.status, m.id, s.lastID = s.lastStatus, acc.ID, acc.ID
	return nil
}

// sendAccepted is sendVia that wants the message accepted (202).
func (s *scenario) sendAccepted(a *app, user, text string, set map[string]string, mod func(*senderclient.MessageRequest)) (*sent, error) {
	m, err := s.sendVia(a, user, text, set, mod)
	if err != nil {
		return nil, err
	}
	if m.status != http.StatusAccepted || m.id == "" {
		return nil, fmt.Errorf("the sender answered %d %s, want 202 with an id", m.status, s.lastAnswer)
	}
	return m, nil
}

func (s *scenario) lastSent() (*sent, error) {
	if len(s.msgs) == 0 {
		return nil, errors.New("no message was sent through the sender yet")
	}
	return s.msgs[len(s.msgs)-1], nil
}

// get reads a message's status.
func (s *scenario) get(id string) (message, error) {
	c, err := s.client()
	if err != nil {
		return message{}, err
	}
	m, err := c.Message(s.ctx, id)
	return message{m}, err
}

// waitMessage polls a message until ok holds. A message that settles
// (delivered, failed, rejected) without ok holding fails at once: nothing
// more will happen to it on its own.
func (s *scenario) waitMessage(id, want string, ok func(message) bool) (message, error) {
	var m message
	err := s.eventually(want, func() (bool, string, error) {
		var err error
		if m, err = s.get(id); err != nil {
			return false, "", err
		}
		if ok(m) {
			return true, "", nil
		}
		if final(m.Status) {
			return false, "", fmt.Errorf("want %s, but the message settled: %v", want, m)
		}
		return false, m.String(), nil
	})
	return m, err
}

func final(status string) bool {
	return status == "delivered" || status == "failed" || status == "rejected"
}

// eventually polls check until it holds, patience runs out or the
// scenario's context ends; the error says what was last seen.
func (s *scenario) eventually(want string, check func() (bool, string, error)) error {
	deadline := time.Now().Add(patience)
	last := ""
	for {
		ok, seen, err := check()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		last = seen
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s; last seen: %s", patience, want, last)
		}
		select {
		case <-s.ctx.Done():
			return fmt.Errorf("waiting for %s: %w; last seen: %s", want, s.ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// inbox is what the mock delivered to a user of a (every user: openID "").
func (s *scenario) inbox(a *app, openID string) ([]mockapi.Message, error) {
	r, err := s.mock().Messages(s.ctx, mockclient.MessageFilter{Platform: a.spec.name, AppID: a.appID, OpenID: openID,
		Limit: 10000})
	return r.Messages, err
}

func countMarker(msgs []mockapi.Message, key, marker string) int {
	n := 0
	for _, m := range msgs {
		if strings.HasSuffix(m.Data[key], marker) {
			n++
		}
	}
	return n
}

// receivesExactly waits until user has n messages with marker (all
// messages when marker is ""), then a grace period for a stray extra one.
func (s *scenario) receivesExactly(a *app, user, marker string, n int) error {
	id := a.userID(user)
	count := func() (int, error) {
		msgs, err := s.inbox(a, id)
		if err != nil {
			return 0, err
		}
		if marker == "" {
			return len(msgs), nil
		}
		return countMarker(msgs, a.markerKey, marker), nil
	}
	what := fmt.Sprintf("%s to receive %d message(s)", user, n)
	if marker != "" {
		what += " marked " + marker
	}
	if n > 0 {
		err := s.eventually(what, func() (bool, string, error) {
			c, err := count()
			return c >= n, fmt.Sprintf("%d received", c), err
		})
		if err != nil {
			return err
		}
	}
	time.Sleep(grace)
	c, err := count()
	if err != nil {
		return err
	}
	if c != n {
		return fmt.Errorf("%s received %d message(s), want exactly %d", user, c, n)
	}
	return nil
}

// requests counts the mock's journal entries of a's calls to endpoint
// (with errcode, when not nil).
func (s *scenario) requests(a *app, endpoint string, errcode *int) (int, error) {
	r, err := s.mock().Requests(s.ctx, mockclient.RequestFilter{Platform: a.spec.name, Endpoint: endpoint, AppID: a.appID,
		ErrCode: errcode, Limit: 1})
	return r.Total, err
}

// list reads the sender's messages (the first page) that f selects.
func (s *scenario) list(f senderclient.MessageFilter) ([]message, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	p, err := c.Messages(s.ctx, f)
	out := make([]message, len(p.Items))
	for i, m := range p.Items {
		out[i] = message{m}
	}
	return out, err
}

// users parses "alice", "alice and bob", "alice, bob and carol".
func users(list string) []string {
	list = strings.ReplaceAll(list, " and ", ", ")
	var out []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// parallel runs fn n times at once.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

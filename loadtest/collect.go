package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/senderclient"
)

// provision prepares a running mock for the run. Against the mock
// directly, without an app of the caller's, it registers a fresh app
// (template, users, grants) so the run disturbs nothing else. Otherwise the
// app already exists there — the sender's, whose secret the sender holds,
// or the caller's -app-id — and the template, users and grants are added
// to it.
func (e *env) provision(ctx context.Context) error {
	cfg := e.cfg
	tmpl := mockapi.Template{Platform: cfg.Platform, TemplateID: cfg.TemplateID, Title: "订单发货通知",
		Keywords: scenario.Keywords, Type: mockapi.TemplateLongTerm}
	e.appID, e.appSecret = cfg.AppID, cfg.AppSecret
	if cfg.Target == TargetMock && (e.appID == "" || e.appSecret == "") {
		e.appID, e.appSecret = "wx"+e.runID, newRunID()+newRunID()
		app := mockapi.App{Platform: cfg.Platform, AppID: e.appID, Secret: e.appSecret,
			Users: append(slices.Clone(e.users), e.noGrant...), Templates: []mockapi.Template{tmpl}}
		for _, u := range e.users {
			app.Grants = append(app.Grants, mockapi.Grant{OpenID: u, TemplateID: cfg.TemplateID, LongTerm: true})
		}
		if _, err := e.control.AddApp(ctx, app); err != nil {
			return fmt.Errorf("register app %s in the mock: %w", e.appID, err)
		}
		cfg.Log.Info("registered app in the mock", "app_id", e.appID, "users", len(e.users), "no_grant", len(e.noGrant))
	} else {
		if e.appID == "" {
			e.appID = DefaultAppID
		}
		if err := e.provisionExisting(ctx, tmpl); err != nil {
			return err
		}
	}
	if cfg.Target == TargetMock {
		if err := e.ensureRiskyWord(ctx); err != nil {
			return err
		}
		return e.fetchToken(ctx)
	}
	return nil
}

// provisionExisting adds the run's template, granted users and ungranted
// users to an app the mock already has.
func (e *env) provisionExisting(ctx context.Context, tmpl mockapi.Template) error {
	cfg := e.cfg
	apps, err := e.control.Apps(ctx)
	if err != nil {
		return fmt.Errorf("list the mock's apps: %w", err)
	}
	if !slices.ContainsFunc(apps, func(a mockapi.AppInfo) bool { return a.Platform == cfg.Platform && a.AppID == e.appID }) {
		if cfg.Target == TargetMock {
			return fmt.Errorf("app %s is not registered in the mock at %s: drop -app-id/-app-secret to have a fresh app registered", e.appID, e.mockBase)
		}
		return fmt.Errorf("app %s is not registered in the mock at %s: give -app-id the app id the sender's app %q uses", e.appID, e.mockBase, cfg.App)
	}
	tmpls, err := e.control.Templates(ctx, cfg.Platform, e.appID)
	if err != nil {
		return fmt.Errorf("list templates of %s: %w", e.appID, err)
	}
	if !slices.ContainsFunc(tmpls, func(t mockapi.Template) bool { return t.TemplateID == cfg.TemplateID }) {
		tmpl.AppID = e.appID
		if err := e.control.AddTemplate(ctx, tmpl); err != nil {
			return fmt.Errorf("add template %s: %w", cfg.TemplateID, err)
		}
	}
	// Users and grants, a few calls at a time.
	jobs := make(chan func() error)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for job := range jobs {
				if err := job(); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	for _, u := range e.users {
		jobs <- func() error {
			_, err := e.control.Grant(ctx, mockapi.Grant{Platform: cfg.Platform, AppID: e.appID, OpenID: u, TemplateID: cfg.TemplateID, LongTerm: true})
			return err
		}
	}
	for _, u := range e.noGrant {
		jobs <- func() error {
			if err := e.control.AddUser(ctx, mockapi.User{Platform: cfg.Platform, AppID: e.appID, OpenID: u}); err != nil {
				return err
			}
			// An ungranted user may hold a grant from an earlier run with
			// other settings: revoke it, or nogrant sends would be
			// delivered. (No grant to revoke answers an error: ignored.)
			_ = e.control.Revoke(ctx, cfg.Platform, e.appID, u, cfg.TemplateID)
			return nil
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return fmt.Errorf("provision users of %s: %w", e.appID, err)
	default:
	}
	cfg.Log.Info("provisioned users in the mock", "app_id", e.appID, "users", len(e.users), "no_grant", len(e.noGrant))
	return nil
}

// ensureRiskyWord makes the content scenario's word risky on a running
// mock (the mock-direct content scenario needs it), restoring the rules
// after the run.
func (e *env) ensureRiskyWord(ctx context.Context) error {
	if e.cfg.Mix.Weight(scenario.Content) == 0 {
		return nil
	}
	rules, err := e.control.ContentRules(ctx)
	if err != nil {
		return fmt.Errorf("read the mock's content rules: %w", err)
	}
	word := strings.ToLower(e.cfg.ContentWord)
	for _, w := range rules.Risky {
		if w.Word != "" && strings.Contains(word, strings.ToLower(w.Word)) {
			return nil
		}
	}
	orig := rules
	rules.Risky = append(slices.Clone(rules.Risky), mockapi.ContentWord{Word: e.cfg.ContentWord})
	if err := e.control.SetContentRules(ctx, rules); err != nil {
		return fmt.Errorf("add %q to the mock's risky words: %w", e.cfg.ContentWord, err)
	}
	e.cleanup = append(e.cleanup, func(ctx context.Context) error { return e.control.SetContentRules(ctx, orig) })
	return nil
}

// fetchToken gets an access token for the mock-direct target.
func (e *env) fetchToken(ctx context.Context) error {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {e.appID}, "secret": {e.appSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.mockBase+"/cgi-bin/token?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		// The URL holds the secret: say where without it.
		return fmt.Errorf("fetch access token from %s/cgi-bin/token: %w", e.mockBase, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	var a struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil || a.AccessToken == "" {
		return fmt.Errorf("fetch access token for %s: errcode %d %s (HTTP %d)", e.appID, a.ErrCode, a.ErrMsg, resp.StatusCode)
	}
	e.token = a.AccessToken
	return nil
}

// readInbox returns the keys of every inbox message of this run.
func (e *env) readInbox(ctx context.Context) (keys []reconcile.Key, dropped uint64, err error) {
	prefix := scenario.MarkerPrefix(e.runID)
	_, markerKey := scenario.Keys(e.cfg.Platform)
	const page = 5000
	for offset := 0; ; offset += page {
		msgs, err := e.control.Messages(ctx, mockclient.MessageFilter{Platform: e.cfg.Platform, AppID: e.appID,
			TemplateID: e.cfg.TemplateID, Offset: offset, Limit: page})
		if err != nil {
			return nil, 0, fmt.Errorf("read the mock's inbox: %w", err)
		}
		dropped = msgs.Dropped
		for _, m := range msgs.Messages {
			mk := m.Data[markerKey]
			if mk == "" {
				// Alipay's inbox keeps the template's own keyword names.
				mk = m.Data[scenario.KeyMarker]
			}
			if strings.HasPrefix(mk, prefix) {
				keys = append(keys, reconcile.Key{Marker: mk, OpenID: m.OpenID})
			}
		}
		if len(msgs.Messages) < page {
			return keys, dropped, nil
		}
	}
}

func (m *mockTarget) reconcileInput(ctx context.Context, e *env, recs []*record, _ time.Time) (reconcile.Input, drainInfo, error) {
	in := reconcile.Input{}
	for _, r := range recs {
		switch {
		case r.kind == scenario.Valid && r.accepted:
			in.Accepted = append(in.Accepted, reconcile.Message{Key: reconcile.Key{Marker: r.marker, OpenID: r.to[0]}, Deliver: true})
		case r.kind == scenario.Valid && r.unanswered:
			in.Unanswered = append(in.Unanswered, reconcile.Key{Marker: r.marker, OpenID: r.to[0]})
		case r.unanswered:
			// No answer: an error already; whether it was refused is unknown.
		case r.kind != scenario.Valid:
			in.Refusals = append(in.Refusals, reconcile.Refusal{WantRule: strconv.Itoa(m.want[r.kind]), GotRules: r.codes, Accepted: r.accepted})
		}
	}
	keys, dropped, err := e.readInbox(ctx)
	if err != nil {
		return in, drainInfo{}, err
	}
	var d drainInfo
	if dropped > 0 {
		d.notes = append(d.notes, fmt.Sprintf("the mock's inbox dropped %d messages (it is bounded): the inbox cannot be reconciled; raise the mock's -inbox-limit", dropped))
	} else {
		in.Inbox, in.InboxChecked = keys, true
	}
	return in, d, nil
}

// drainTellEvery is how often a drain that takes long says so (a quarter
// of a short timeout, at least a second).
func drainTellEvery(timeout time.Duration) time.Duration {
	return min(10*time.Second, max(timeout/4, time.Second))
}

// reconcileInput waits for the sender's queue to drain, reads the final
// status of every message of the run and the mock's inbox.
func (s *senderTarget) reconcileInput(ctx context.Context, e *env, recs []*record, began time.Time) (reconcile.Input, drainInfo, error) {
	in := reconcile.Input{}
	want := map[reconcile.Key]bool{}
	for _, r := range recs {
		switch r.kind {
		case scenario.Valid, scenario.Broadcast, scenario.NoGrant:
			if r.unanswered && r.kind != scenario.NoGrant {
				for _, to := range r.to {
					in.Unanswered = append(in.Unanswered, reconcile.Key{Marker: r.marker, OpenID: to})
				}
			}
			if !r.accepted {
				continue // an error, counted as such; nothing to deliver
			}
			for _, to := range r.to {
				m := reconcile.Message{Key: reconcile.Key{Marker: r.marker, OpenID: to}, Deliver: true, WantStatus: "delivered"}
				if r.kind == scenario.NoGrant {
					m.Deliver, m.WantStatus, m.WantCode = false, "failed", strconv.Itoa(wechatUserRefused)
				}
				in.Accepted = append(in.Accepted, m)
				want[m.Key] = true
			}
		default:
			if r.unanswered {
				continue // an error already; whether it was refused is unknown
			}
			in.Refusals = append(in.Refusals, reconcile.Refusal{WantRule: s.rule[r.kind], GotRules: r.codes, Accepted: r.accepted})
		}
	}

	d := drainInfo{finalCodes: map[string]int{}}
	start := time.Now()
	deadline := start.Add(e.cfg.DrainTimeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	lastSaid := start
	tell := func(pending int, of string) {
		if now := time.Now(); now.Sub(lastSaid) >= drainTellEvery(e.cfg.DrainTimeout) {
			// A long drain is not a hang: say what it waits for.
			e.say("draining: %d %s after %.0f s (timeout %s)", pending, of, now.Sub(start).Seconds(), e.cfg.DrainTimeout)
			lastSaid = now
		}
	}
	depthErr := e.waitQueueEmpty(dctx, func(depth int) { tell(depth, "messages queued, sending or retrying") })
	if depthErr != nil && ctx.Err() == nil && dctx.Err() == nil {
		// No /metrics: fall back on polling the statuses below.
		d.notes = append(d.notes, "queue depth unavailable ("+depthErr.Error()+"): polled message statuses instead")
	}
	var statuses map[reconcile.Key]reconcile.Status
	for {
		var err error
		statuses, err = e.listStatuses(ctx, began, want)
		if err != nil {
			return in, d, err
		}
		pending := 0
		for k := range want {
			if st, ok := statuses[k]; !ok || !st.Final() {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			d.timedOut, d.pending = true, pending
			d.notes = append(d.notes, fmt.Sprintf("%d messages not final when the drain timeout (%s) ended: "+
				"a paused or throttled app (GET /v1/messages?status=retrying shows their last code) or a stopped sender", pending, e.cfg.DrainTimeout))
			break
		}
		tell(pending, fmt.Sprintf("of %d messages not final", len(want)))
		select {
		case <-ctx.Done():
			return in, d, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	d.waited = time.Since(start)
	in.Statuses, in.StatusesChecked = statuses, true
	for k, st := range statuses {
		if want[k] && st.Final() && st.Code != "" && st.Status != "delivered" {
			d.finalCodes[e.cfg.Platform+":"+st.Code]++
		}
	}

	keys, dropped, err := e.readInbox(ctx)
	if err != nil {
		return in, d, err
	}
	if dropped > 0 {
		d.notes = append(d.notes, fmt.Sprintf("the mock's inbox dropped %d messages (it is bounded): delivery judged from the sender's statuses; duplicates unchecked", dropped))
	} else {
		in.Inbox, in.InboxChecked = keys, true
	}
	return in, d, nil
}

// readSender reads through the first instance that answers: with several
// instances one may be down (a test kills one).
func (e *env) readSender(read func(*senderclient.Client) error) error {
	var errs []error
	for _, c := range e.senders {
		err := read(c)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitQueueEmpty polls the sender's /metrics until no message is queued,
// sending or retrying; tell hears each depth seen.
func (e *env) waitQueueEmpty(ctx context.Context, tell func(depth int)) error {
	for {
		depth, err := e.queueDepth(ctx)
		if err != nil {
			return err
		}
		if depth == 0 {
			return nil
		}
		tell(depth)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// queueDepth sums minipush_queue_depth over the unfinished statuses.
func (e *env) queueDepth(ctx context.Context) (int, error) {
	var text string
	err := e.readSender(func(c *senderclient.Client) (err error) {
		text, err = c.Metrics(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	return parseQueueDepth(strings.NewReader(text))
}

// senderCounters reads the sender's token fetches
// (minipush_token_fetches_total, every app and result) and its retried
// attempts by outcome (minipush_send_retries_total: retryable, throttled,
// token).
func (e *env) senderCounters(ctx context.Context) (fetches int, retries map[string]int, err error) {
	var text string
	err = e.readSender(func(c *senderclient.Client) (err error) {
		text, err = c.Metrics(ctx)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	retries = map[string]int{}
	for line := range strings.SplitSeq(text, "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "minipush_token_fetches_total":
			fetches += int(v)
		case "minipush_send_retries_total":
			if _, o, ok := strings.Cut(labels, `outcome="`); ok {
				o, _, _ = strings.Cut(o, `"`)
				retries[o] += int(v)
			}
		}
	}
	return fetches, retries, nil
}

// parseQueueDepth reads the Prometheus text format for
// minipush_queue_depth{status="queued|sending|retrying"}.
func parseQueueDepth(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found, total := false, 0
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "minipush_queue_depth{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		found = true
		for _, s := range []string{"queued", "sending", "retrying"} {
			if strings.Contains(labels, `status="`+s+`"`) {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return 0, fmt.Errorf("minipush_queue_depth: bad value %q", value)
				}
				total += int(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !found {
		return 0, errors.New("no minipush_queue_depth in /metrics")
	}
	return total, nil
}

// listStatuses pages through the app's messages, newest first, until every
// wanted key is found or the listing reaches messages older than the run.
func (e *env) listStatuses(ctx context.Context, began time.Time, want map[reconcile.Key]bool) (map[reconcile.Key]reconcile.Status, error) {
	prefix := scenario.MarkerPrefix(e.runID)
	_, markerKey := scenario.Keys(e.cfg.Platform)
	out := make(map[reconcile.Key]reconcile.Status, len(want))
	found := 0
	// Clocks of this process and the sender may differ a little.
	horizon := began.Add(-time.Minute)
	f := senderclient.MessageFilter{App: e.cfg.App, Limit: 1000}
	for {
		var page senderclient.MessagePage
		err := e.readSender(func(c *senderclient.Client) (err error) {
			page, err = c.Messages(ctx, f)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the sender's messages: %w", err)
		}
		older := false
		for _, m := range page.Items {
			if m.CreatedAt.Before(horizon) {
				older = true
			}
			mk := m.Data[markerKey]
			if !strings.HasPrefix(mk, prefix) {
				continue
			}
			k := reconcile.Key{Marker: mk, OpenID: m.To}
			if _, dup := out[k]; !dup && want[k] {
				found++
			}
			out[k] = reconcile.Status{Status: m.Status, Code: m.LastCode}
		}
		if found == len(want) || older || page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

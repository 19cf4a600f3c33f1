package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/senderclient"
)

// Messages handed to the sender, and what became of them.

func (s *scenario) send(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.sendAccepted(a, user, "", nil, nil)
	return err
}

func (s *scenario) sendN(user string, n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	s.batch, s.batchStart = nil, time.Now()
	for range n {
		m, err := s.sendAccepted(a, user, "", nil, nil)
		if err != nil {
			return err
		}
		s.batch = append(s.batch, m)
	}
	return nil
}

// sendSaying puts text before the marker in the first thing keyword; the
// answer may be a refusal.
func (s *scenario) sendSaying(user, text string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.sendVia(a, user, text, nil, nil)
	return err
}

func (s *scenario) sendWith(user, key, value string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.sendVia(a, user, "", map[string]string{key: value}, nil)
	return err
}

func (s *scenario) sendToEach() error { return s.sendToCohort(nil) }

// sendToEachAtOnce sends the cohort's messages with one send_at a few
// seconds ahead: they fall due together and go out as one burst however
// slowly a loaded machine accepts them one by one (six sends spread over
// the POSTs' 1–2 s at load 16 never passed a quota of 2 a second).
func (s *scenario) sendToEachAtOnce() error {
	at := time.Now().Add(3 * time.Second).Truncate(time.Second)
	return s.sendToCohort(func(r *senderclient.MessageRequest) { r.SendAt = &at })
}

func (s *scenario) sendToCohort(edit func(*senderclient.MessageRequest)) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if len(s.cohort) == 0 {
		return errors.New("no users to send to: give some users subscriptions first")
	}
	s.batch, s.batchStart = nil, time.Now()
	for _, u := range s.cohort {
		m, err := s.sendAccepted(a, u, "", nil, edit)
		if err != nil {
			return err
		}
		s.batch = append(s.batch, m)
	}
	return nil
}

func (s *scenario) sendWithKey(user, key string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	m, err := s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) { r.IdempotencyKey = key })
	if err != nil {
		return err
	}
	s.firstID = m.id
	return nil
}

func (s *scenario) sendThroughWithKey(user, label, key string) error {
	a, ok := s.named[label]
	if !ok {
		return fmt.Errorf("no mini-program %q in this scenario", label)
	}
	_, err := s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) { r.IdempotencyKey = key })
	return err
}

// sendAgain repeats the last request.
func (s *scenario) sendAgain() error {
	m, err := s.lastSent()
	if err != nil {
		return err
	}
	again := *m
	return s.sendRecorded(&again)
}

func (s *scenario) answersFirstID() error {
	if s.lastStatus != http.StatusOK || s.lastID != s.firstID {
		return fmt.Errorf("the sender answered %d %s, want 200 with id %s", s.lastStatus, s.lastAnswer, s.firstID)
	}
	return nil
}

func (s *scenario) identicalAtOnce(n int, user, key string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	m := &sent{app: a, user: user, marker: s.marker()}
	m.req = senderclient.MessageRequest{App: a.slot.name, To: a.userID(user), TemplateID: templateID,
		Data: s.data(a, "", m.marker, nil), Page: page, IdempotencyKey: key}
	s.concurrent = make([]answer, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		acc, err := c.Send(s.ctx, m.req)
		status := http.StatusAccepted
		if acc.Duplicate {
			status = http.StatusOK
		}
		if code := senderclient.StatusCode(err); code != 0 {
			status, err = code, nil
		}
		s.concurrent[i], errs[i] = answer{status: status, id: acc.ID}, err
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, c := range s.concurrent {
		if c.status == http.StatusAccepted {
			m.id, m.status = c.id, c.status
		}
	}
	s.msgs = append(s.msgs, m)
	s.lastTo[user] = m
	return nil
}

func (s *scenario) oneAccepted(others int) error {
	accepted, repeats := 0, 0
	ids := map[string]bool{}
	for _, c := range s.concurrent {
		ids[c.id] = true
		switch c.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusOK:
			repeats++
		}
	}
	if accepted != 1 || repeats != others || len(ids) != 1 {
		return fmt.Errorf("answers %+v: want one 202 and %d 200, all with one id", s.concurrent, others)
	}
	return nil
}

// sendConflictingKeys sends an Idempotency-Key header that contradicts
// the body's idempotency_key: a raw request, as no client sends one.
func (s *scenario) sendConflictingKeys(user, header, body string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	m := &sent{app: a, user: user, marker: s.marker()}
	m.req = senderclient.MessageRequest{App: a.slot.name, To: a.userID(user), TemplateID: templateID,
		Data: s.data(a, "", m.marker, nil), Page: page, IdempotencyKey: body}
	status, out, err := s.api(http.MethodPost, "/v1/messages", m.req, "Idempotency-Key", header)
	if err != nil {
		return err
	}
	var refusal struct {
		Error    string                 `json:"error"`
		Problems []senderclient.Problem `json:"problems"`
	}
	_ = json.Unmarshal(out, &refusal)
	s.lastStatus, s.lastAnswer, s.lastErr = status, string(out), nil
	if status >= 400 {
		s.lastErr = &senderclient.Error{StatusCode: status, Message: refusal.Error, Problems: refusal.Problems,
			Method: http.MethodPost, Path: "/v1/messages"}
	}
	m.status = status
	s.msgs = append(s.msgs, m)
	s.lastTo[user] = m
	return nil
}

func (s *scenario) sendScheduled(user string, secs int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	at := time.Now().Add(time.Duration(secs) * time.Second)
	m, err := s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) { r.SendAt = &at })
	if err != nil {
		return err
	}
	m.sendAt = at
	return nil
}

func (s *scenario) redrive() error {
	m, err := s.lastSent()
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	acc, err := c.Retry(s.ctx, m.id)
	if err := s.record(http.StatusAccepted, acc, err); err != nil {
		return err
	}
	if s.lastStatus >= 500 {
		return fmt.Errorf("redrive: %s", s.lastAnswer)
	}
	return nil
}

func (s *scenario) senderAnswers(code int) error {
	if s.lastStatus != code {
		return fmt.Errorf("the sender answered %d %s, want %d", s.lastStatus, s.lastAnswer, code)
	}
	return nil
}

func (s *scenario) refused(field, rule string) error {
	if s.lastStatus != http.StatusUnprocessableEntity || s.lastErr == nil {
		return fmt.Errorf("the sender answered %d %s, want 422", s.lastStatus, s.lastAnswer)
	}
	for _, p := range s.lastErr.Problems {
		if p.Field == field && p.Rule == rule && p.Message != "" {
			return nil
		}
	}
	return fmt.Errorf("problems %+v: want one naming field %q and rule %q", s.lastErr.Problems, field, rule)
}

// Outcomes of the last message.

func (s *scenario) lastMessage(want string, ok func(message) bool) (message, error) {
	m, err := s.lastSent()
	if err != nil {
		return message{}, err
	}
	if m.id == "" {
		return message{}, fmt.Errorf("the last message was not accepted: %d %s", m.status, s.lastAnswer)
	}
	return s.waitMessage(m.id, want, ok)
}

func isStatus(st string) func(message) bool { return func(m message) bool { return m.Status == st } }

func (s *scenario) delivered() error {
	_, err := s.lastMessage("the message to be delivered", isStatus("delivered"))
	return err
}

func (s *scenario) deliveredAfter(n int) error {
	m, err := s.lastMessage("the message to be delivered", isStatus("delivered"))
	if err != nil {
		return err
	}
	// Attempts of the sends: the token refreshes they needed are listed
	// too (kind token_refresh), and are not what a feature counts.
	if len(m.Sends()) != n {
		return fmt.Errorf("delivered after %d attempts, want %d: %v", len(m.Sends()), n, m)
	}
	return nil
}

func (s *scenario) failsWith(code string) error {
	m, err := s.lastMessage("the message to fail", isStatus("failed"))
	if err != nil {
		return err
	}
	if m.LastCode != code {
		return fmt.Errorf("failed with code %q, want %q: %v", m.LastCode, code, m)
	}
	return nil
}

func (s *scenario) failsAfter(code string, n int) error {
	m, err := s.lastMessage("the message to fail", isStatus("failed"))
	if err != nil {
		return err
	}
	if m.LastCode != code || len(m.Sends()) != n {
		return fmt.Errorf("failed with code %q after %d attempts, want %q after %d: %v", m.LastCode, len(m.Sends()), code, n, m)
	}
	return nil
}

// appUnhealthy reads /readyz: the sender stays ready, and lists the app
// whose credentials the platform refused as unhealthy, with the reason.
func (s *scenario) appUnhealthy(reason string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	status, b, err := s.api(http.MethodGet, "/readyz", nil)
	if err != nil {
		return err
	}
	var rd struct {
		Apps map[string]struct {
			Healthy bool   `json:"healthy"`
			Reason  string `json:"reason"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(b, &rd); err != nil {
		return fmt.Errorf("/readyz: %w: %s", err, b)
	}
	h, ok := rd.Apps[a.slot.name]
	if status != http.StatusOK || !ok || h.Healthy || !strings.Contains(h.Reason, reason) {
		return fmt.Errorf("/readyz answered %d %s: want ready, %s unhealthy naming %q", status, b, a.slot.name, reason)
	}
	return nil
}

func (s *scenario) rejectedWithLabel(label string) error {
	m, err := s.lastMessage("the message to be rejected", isStatus("rejected"))
	if err != nil {
		return err
	}
	if m.LastCode != "risky:"+label {
		return fmt.Errorf("rejected with code %q, want risky:%s: %v", m.LastCode, label, m)
	}
	return nil
}

func (s *scenario) waitsForRetry(code string) error {
	m, err := s.lastMessage("an attempt answered "+code, func(m message) bool { return m.LastCode != "" })
	if err != nil {
		return err
	}
	if m.Status != "retrying" || m.LastCode != code {
		return fmt.Errorf("%v: want retrying after code %s", m, code)
	}
	return nil
}

func (s *scenario) current() (message, error) {
	m, err := s.lastSent()
	if err != nil {
		return message{}, err
	}
	return s.get(m.id)
}

func (s *scenario) nextAttemptAfterMidnight() error {
	m, err := s.current()
	if err != nil {
		return err
	}
	if midnight := nextBeijingMidnight(time.Now()); m.NextAttemptAt.Before(midnight) {
		return fmt.Errorf("next attempt at %s, before the next Beijing midnight %s", m.NextAttemptAt, midnight)
	}
	return nil
}

func (s *scenario) retryBudgetUntouched() error {
	m, err := s.current()
	if err != nil {
		return err
	}
	if m.Retries != 0 {
		return fmt.Errorf("%v: want no retry spent", m)
	}
	return nil
}

func (s *scenario) firstAttemptsFailed(n int, code string) error {
	m, err := s.current()
	if err != nil {
		return err
	}
	sends := m.Sends()
	if len(sends) < n {
		return fmt.Errorf("%v: want at least %d attempts", m, n)
	}
	for i := range n {
		if a := sends[i]; a.Code != code || a.Outcome == "delivered" {
			return fmt.Errorf("attempt %d: %s %q (%s), want a failure with code %q", i+1, a.Outcome, a.Code, a.Message, code)
		}
	}
	return nil
}

func (s *scenario) carriesMsgID(string) error {
	last, err := s.lastSent()
	if err != nil {
		return err
	}
	m, err := s.waitMessage(last.id, "the message to be delivered", isStatus("delivered"))
	if err != nil {
		return err
	}
	msgs, err := s.inbox(last.app, last.app.userID(last.user))
	if err != nil {
		return err
	}
	for _, in := range msgs {
		if strings.HasSuffix(in.Data[last.app.markerKey], last.marker) {
			if m.PlatformMsgID != in.MsgID {
				return fmt.Errorf("platform_msgid %q, the platform's id %q", m.PlatformMsgID, in.MsgID)
			}
			return nil
		}
	}
	return fmt.Errorf("the message %s is not in the inbox", last.marker)
}

func (s *scenario) heldWithoutSending() error {
	time.Sleep(time.Second)
	m, err := s.current()
	if err != nil {
		return err
	}
	if len(m.Attempts) != 0 || (m.Status != "queued" && m.Status != "retrying") {
		return fmt.Errorf("%v: want it held, never sent", m)
	}
	return nil
}

func (s *scenario) deliveredOnTime() error {
	last, err := s.lastSent()
	if err != nil {
		return err
	}
	m, err := s.waitMessage(last.id, "the message to be delivered", isStatus("delivered"))
	if err != nil {
		return err
	}
	at := m.Attempts[len(m.Attempts)-1].At
	if at.Before(last.sendAt.Truncate(time.Millisecond)) {
		return fmt.Errorf("sent at %s, before its time %s", at, last.sendAt)
	}
	return nil
}

func (s *scenario) notDelivered(code string) error {
	m, err := s.lastMessage("an attempt answered "+code, func(m message) bool { return m.LastCode != "" })
	if err != nil {
		return err
	}
	if m.Status == "delivered" || m.LastCode != code {
		return fmt.Errorf("%v: want it not delivered, with last code %s", m, code)
	}
	return nil
}

func (s *scenario) listedAsFailed() error {
	last, err := s.lastSent()
	if err != nil {
		return err
	}
	msgs, err := s.list(senderclient.MessageFilter{App: last.app.slot.name, Status: senderclient.StatusFailed})
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.ID == last.id {
			return nil
		}
	}
	return fmt.Errorf("the failed messages of %s are %v, without %s", last.app.slot.name, msgs, last.id)
}

func (s *scenario) noneFailed() error {
	for _, a := range s.apps {
		if a.slot == nil {
			continue
		}
		for _, st := range []string{"failed", "rejected"} {
			msgs, err := s.list(senderclient.MessageFilter{App: a.slot.name, Status: st})
			if err != nil {
				return err
			}
			if len(msgs) > 0 {
				return fmt.Errorf("%d %s message(s) of %s: %v", len(msgs), st, a.slot.name, msgs[0])
			}
		}
	}
	return nil
}

// batchMessages waits until every message of the batch satisfies ok.
func (s *scenario) batchMessages(want string, ok func(message) bool) ([]message, error) {
	if len(s.batch) == 0 {
		return nil, errors.New("no batch of messages was sent")
	}
	out := make([]message, len(s.batch))
	for i, b := range s.batch {
		m, err := s.waitMessage(b.id, want, ok)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

func (s *scenario) allDelivered() error {
	_, err := s.batchMessages("every message to be delivered", isStatus("delivered"))
	return err
}

func (s *scenario) noneSpentRetries() error {
	ms, err := s.batchMessages("every message to be delivered", isStatus("delivered"))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Retries != 0 {
			return fmt.Errorf("%v spent retries", m)
		}
	}
	return nil
}

func (s *scenario) allAttempted() error {
	_, err := s.batchMessages("every message to be attempted", func(m message) bool { return m.LastCode != "" || len(m.Attempts) > 0 })
	return err
}

func (s *scenario) someDelivered() error {
	if len(s.batch) == 0 {
		return errors.New("no batch of messages was sent")
	}
	return s.eventually("some messages to be delivered", func() (bool, string, error) {
		n := 0
		for _, b := range s.batch {
			m, err := s.get(b.id)
			if err != nil {
				return false, "", err
			}
			if m.Status == "delivered" {
				n++
			}
		}
		if n == len(s.batch) {
			return false, "", fmt.Errorf("all %d messages were delivered before the restart: the scenario proves nothing", n)
		}
		return n > 0, fmt.Sprintf("%d delivered", n), nil
	})
}

func (s *scenario) restart() error { return s.w.restartSender(s.ctx, false) }

func (s *scenario) restartContainer() error { return s.w.restartSender(s.ctx, true) }

func (s *scenario) tookAtLeast(secs int) error {
	ms, err := s.batchMessages("every message to be delivered", isStatus("delivered"))
	if err != nil {
		return err
	}
	var last time.Time
	for _, m := range ms {
		if at := m.Attempts[len(m.Attempts)-1].At; at.After(last) {
			last = at
		}
	}
	if d := last.Sub(s.batchStart); d < time.Duration(secs)*time.Second {
		return fmt.Errorf("all delivered %s after the first was handed over, want at least %ds", d, secs)
	}
	return nil
}

func (s *scenario) differentIDs() error {
	if len(s.msgs) < 2 || s.msgs[len(s.msgs)-1].id == s.msgs[len(s.msgs)-2].id {
		return errors.New("the last two messages share an id")
	}
	return nil
}

func (s *scenario) bothDelivered() error {
	for _, m := range s.msgs[len(s.msgs)-2:] {
		if _, err := s.waitMessage(m.id, "the message to be delivered", isStatus("delivered")); err != nil {
			return err
		}
		if err := s.receivesExactly(m.app, m.user, m.marker, 1); err != nil {
			return err
		}
	}
	return nil
}

// What reached the platform, from the mock's journal.

func (s *scenario) noSends() error {
	a, err := s.app()
	if err != nil {
		return err
	}
	time.Sleep(grace)
	n, err := s.requests(a, a.spec.sendEndpoint, nil)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("the platform received %d send(s) for the app, want none", n)
	}
	return nil
}

// noMoreSends: nothing new reaches the platform for a while, and every
// send it did receive is one the sender recorded as an attempt.
func (s *scenario) noMoreSends(secs int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	before, err := s.requests(a, a.spec.sendEndpoint, nil)
	if err != nil {
		return err
	}
	time.Sleep(time.Duration(secs) * time.Second)
	after, err := s.requests(a, a.spec.sendEndpoint, nil)
	if err != nil {
		return err
	}
	attempts := 0
	for _, m := range s.msgs {
		if m.app != a || m.id == "" {
			continue
		}
		v, err := s.get(m.id)
		if err != nil {
			return err
		}
		attempts += len(v.Sends())
	}
	if after != before || after != attempts {
		return fmt.Errorf("the platform received %d sends, then %d; the sender recorded %d attempts: want no more", before, after, attempts)
	}
	return nil
}

func (s *scenario) journalCode(code string) (int, error) {
	a, err := s.app()
	if err != nil {
		return 0, err
	}
	c, err := strconv.Atoi(code)
	if err != nil {
		return 0, fmt.Errorf("code %q: the journal records numbers", code)
	}
	return s.requests(a, a.spec.sendEndpoint, &c)
}

func (s *scenario) answeredAtLeastOnce(code string) error {
	n, err := s.journalCode(code)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the platform never answered %s", code)
	}
	return nil
}

func (s *scenario) neverAnswered(code string) error {
	n, err := s.journalCode(code)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("the platform answered %s %d time(s)", code, n)
	}
	return nil
}

func (s *scenario) tokenRequests(n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if a.spec.tokenEndpoint == "" {
		return fmt.Errorf("%s has no access token", a.spec.name)
	}
	got, err := s.requests(a, a.spec.tokenEndpoint, nil)
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("the sender asked for an access token %d time(s), want %d", got, n)
	}
	return nil
}

// Groups and broadcasts.

func (s *scenario) group(name, list string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	var members []string
	for _, u := range users(list) {
		members = append(members, a.userID(u))
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	_, err = c.PutGroup(s.ctx, a.slot.name, name, members)
	return err
}

// broadcastTo broadcasts to the recipients target sets (To or Group).
func (s *scenario) broadcastTo(target func(*senderclient.BroadcastRequest)) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	bc := &broadcast{app: a, marker: s.marker()}
	req := senderclient.BroadcastRequest{App: a.slot.name, TemplateID: templateID, Data: s.data(a, "", bc.marker, nil), Page: page}
	target(&req)
	acc, err := c.Broadcast(s.ctx, req)
	if err := s.record(http.StatusAccepted, acc, err); err != nil || s.lastStatus != http.StatusAccepted {
		return err
	}
	bc.id, bc.recipients = acc.ID, acc.Recipients
	s.bc = bc
	return nil
}

func (s *scenario) broadcastGroup(name string) error {
	return s.broadcastTo(func(r *senderclient.BroadcastRequest) { r.Group = name })
}

func (s *scenario) broadcastList(list string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	var to []string
	for _, u := range users(list) {
		to = append(to, a.userID(u))
	}
	return s.broadcastTo(func(r *senderclient.BroadcastRequest) { r.To = to })
}

func (s *scenario) broadcastRecipients(n int) error {
	if s.bc == nil {
		return fmt.Errorf("no broadcast was accepted: %d %s", s.lastStatus, s.lastAnswer)
	}
	if s.bc.recipients != n {
		return fmt.Errorf("the broadcast has %d recipients, want %d", s.bc.recipients, n)
	}
	return nil
}

func (s *scenario) broadcastCounts(delivered, failed int) error {
	if s.bc == nil {
		return fmt.Errorf("no broadcast was accepted: %d %s", s.lastStatus, s.lastAnswer)
	}
	return s.eventually(fmt.Sprintf("%d delivered and %d failed", delivered, failed), func() (bool, string, error) {
		c, err := s.client()
		if err != nil {
			return false, "", err
		}
		got, err := c.BroadcastState(s.ctx, s.bc.id)
		if err != nil {
			return false, "", err
		}
		return got.Counts["delivered"] == delivered && got.Counts["failed"] == failed, fmt.Sprintf("%v", got.Counts), nil
	})
}

func (s *scenario) broadcastDelivered(n int) error { return s.broadcastCounts(n, 0) }

func (s *scenario) broadcastFailed(user, code string) error {
	msgs, err := s.list(senderclient.MessageFilter{Broadcast: s.bc.id, Status: senderclient.StatusFailed})
	if err != nil {
		return err
	}
	if len(msgs) != 1 || msgs[0].To != s.bc.app.userID(user) || msgs[0].LastCode != code {
		return fmt.Errorf("failed messages of the broadcast %v: want one, to %s, with code %s", msgs, user, code)
	}
	return nil
}

func (s *scenario) eachReceivesBroadcast(list string) error {
	if s.bc == nil {
		return errors.New("no broadcast was accepted")
	}
	var ms []*sent
	for _, u := range users(list) {
		ms = append(ms, &sent{app: s.bc.app, user: u, marker: s.bc.marker})
	}
	return s.receiveEachOnce(ms)
}

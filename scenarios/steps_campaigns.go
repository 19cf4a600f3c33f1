package scenarios

import (
	"errors"
	"fmt"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/sender/senderclient"
)

// Campaign rules (features/campaigns.feature, docs/campaigns.md): the
// campaign apps' rules are campaignRules (pool.go); the scenarios move the
// sender's clock, which only the in-process sender takes (@sender-clock).
func (s *scenario) registerCampaigns(sc *godog.ScenarioContext) {
	sc.Step(`^a wechat mini-program served by the sender with campaign rules$`, s.campaignApp)
	sc.Step(`^the sender's clock is at (\d\d:\d\d) in Shanghai$`, s.senderClockAt)
	sc.Step(`^the sender's clock moves on to (\d\d:\d\d) in Shanghai$`, s.senderClockOn)
	sc.Step(`^I send (\w+) a message about order "([^"]*)" through the sender$`, s.sendAboutOrder)
	sc.Step(`^I send (\w+) (\d+) messages about different orders through the sender$`, s.sendOrders)
	sc.Step(`^I send (\w+) an urgent message through the sender$`, s.sendUrgent)
	sc.Step(`^the message is rejected as a duplicate of the first$`, s.rejectedDuplicate)
	sc.Step(`^the message is rejected for the frequency cap$`, s.rejectedCap)
	sc.Step(`^every message is held for quiet hours until (\d\d:\d\d) in Shanghai, within the (\d+)-minute ramp$`, s.heldQuiet)
	sc.Step(`^the held messages are still waiting, none sent$`, s.heldStillWaiting)
	sc.Step(`^(\w+) has received (\d+) messages? in all$`, s.receivedInAll)
	// At a group's fan-out and in a schedule's runs (docs/campaigns.md,
	// "Where it applies").
	sc.Step(`^I broadcast a message about order "([^"]*)" to the group "([^"]+)" through the sender$`, s.broadcastGroupAboutOrder)
	sc.Step(`^the broadcast counts (\d+) delivered and (\d+) rejected$`, s.broadcastRejected)
	sc.Step(`^(\w+)'s message of the broadcast is rejected as a duplicate of (?:her|his) first message$`, s.broadcastDuplicate)
	sc.Step(`^(\w+)'s message of the broadcast is rejected for the frequency cap$`, s.broadcastCapped)
	sc.Step(`^the broadcast's messages are held for quiet hours until (\d\d:\d\d) in Shanghai, within the (\d+)-minute ramp$`, s.broadcastHeldQuiet)
	sc.Step(`^I schedule the urgent message for `+usersRE+` with cron "([^"]+)" in (\S+)$`, s.scheduleUrgent)
}

func (s *scenario) broadcastGroupAboutOrder(order, group string) error {
	return s.broadcastTo(func(r *senderclient.BroadcastRequest) {
		r.Group, r.Dedup = group, &senderclient.Dedup{Key: order}
	})
}

// broadcastRejected waits for the broadcast's counts.
func (s *scenario) broadcastRejected(delivered, rejected int) error {
	if s.bc == nil {
		return fmt.Errorf("no broadcast was accepted: %d %s", s.lastStatus, s.lastAnswer)
	}
	return s.eventually(fmt.Sprintf("%d delivered and %d rejected", delivered, rejected), func() (bool, string, error) {
		c, err := s.client()
		if err != nil {
			return false, "", err
		}
		got, err := c.BroadcastState(s.ctx, s.bc.id)
		if err != nil {
			return false, "", err
		}
		return got.Counts["delivered"] == delivered && got.Counts["rejected"] == rejected, fmt.Sprintf("%v", got.Counts), nil
	})
}

// broadcastMessageOf is user's message of the broadcast (there must be
// one).
func (s *scenario) broadcastMessageOf(user string) (message, error) {
	if s.bc == nil {
		return message{}, errors.New("no broadcast was accepted")
	}
	ms, err := s.list(senderclient.MessageFilter{Broadcast: s.bc.id, Limit: 1000})
	if err != nil {
		return message{}, err
	}
	var out []message
	for _, m := range ms {
		if m.To == s.bc.app.userID(user) {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		return message{}, fmt.Errorf("the broadcast has %d messages to %s, want 1: %v", len(out), user, ms)
	}
	return out[0], nil
}

func (s *scenario) broadcastDuplicate(user string) error {
	var first string
	for _, m := range s.msgs {
		if m.user == user {
			first = m.id
			break
		}
	}
	if first == "" {
		return fmt.Errorf("%s was sent no message before the broadcast", user)
	}
	m, err := s.broadcastMessageOf(user)
	if err != nil {
		return err
	}
	if m.Status != senderclient.StatusRejected || m.Reason != senderclient.ReasonDuplicate || m.DuplicateOf != first || len(m.Attempts) != 0 {
		return fmt.Errorf("%v: reason %q, duplicate_of %q; want rejected, a duplicate of %s, never sent", m, m.Reason, m.DuplicateOf, first)
	}
	return nil
}

func (s *scenario) broadcastCapped(user string) error {
	m, err := s.broadcastMessageOf(user)
	if err != nil {
		return err
	}
	if m.Status != senderclient.StatusRejected || m.Reason != senderclient.ReasonFrequencyCap || len(m.Attempts) != 0 {
		return fmt.Errorf("%v: reason %q; want rejected for the frequency cap, never sent", m, m.Reason)
	}
	return nil
}

// broadcastHeldQuiet checks the broadcast's messages as heldQuiet checks a
// batch.
func (s *scenario) broadcastHeldQuiet(hhmm string, ramp int) error {
	if s.bc == nil {
		return errors.New("no broadcast was made")
	}
	ms, err := s.list(senderclient.MessageFilter{Broadcast: s.bc.id, Limit: 1000})
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return fmt.Errorf("broadcast %s has no messages", s.bc.id)
	}
	s.batch = nil
	for _, m := range ms {
		s.batch = append(s.batch, &sent{app: s.bc.app, id: m.ID, marker: s.bc.marker})
	}
	return s.heldQuiet(hhmm, ramp)
}

// scheduleUrgent schedules the message as scheduleMessage does, marked
// urgent: its runs pass quiet hours.
func (s *scenario) scheduleUrgent(list, cron, zone string) error {
	return s.scheduleWith(list, cron, zone, func(r *senderclient.ScheduleRequest) { r.Urgent = true })
}

func (s *scenario) campaignApp() error {
	_, err := s.addApp("wechat", "", nil, true, profileCampaign)
	return err
}

// clock is the world's sender clock; containers have none.
func (s *scenario) clock() (*senderClock, error) {
	b, ok := s.w.backend.(interface{ senderClock() *senderClock })
	if !ok {
		return nil, errors.New("the sender's clock can only be moved in-process: the sender binary reads the host's clock (tag the scenario " + tagSenderClock + ")")
	}
	if !s.w.isolated {
		return nil, errors.New("moving the sender's clock needs a world of the scenario's own: tag it " + tagIsolated)
	}
	return b.senderClock(), nil
}

func shanghaiZone() (*time.Location, error) { return time.LoadLocation("Asia/Shanghai") }

// senderClockAt sets the sender's clock to hh:mm in Shanghai, tomorrow.
func (s *scenario) senderClockAt(hhmm string) error {
	c, err := s.clock()
	if err != nil {
		return err
	}
	loc, err := shanghaiZone()
	if err != nil {
		return err
	}
	hm, err := time.Parse("15:04", hhmm)
	if err != nil {
		return err
	}
	d := time.Now().In(loc).AddDate(0, 0, 1)
	c.Set(time.Date(d.Year(), d.Month(), d.Day(), hm.Hour(), hm.Minute(), 0, 0, loc))
	return nil
}

// senderClockOn moves the sender's clock forward to the next hh:mm in
// Shanghai.
func (s *scenario) senderClockOn(hhmm string) error {
	c, err := s.clock()
	if err != nil {
		return err
	}
	loc, err := shanghaiZone()
	if err != nil {
		return err
	}
	hm, err := time.Parse("15:04", hhmm)
	if err != nil {
		return err
	}
	now := c.Now().In(loc)
	t := time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	if !t.After(now) {
		t = time.Date(now.Year(), now.Month(), now.Day()+1, hm.Hour(), hm.Minute(), 0, 0, loc)
	}
	c.Set(t)
	return nil
}

func (s *scenario) sendAboutOrder(user, order string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) { r.Dedup = &senderclient.Dedup{Key: order} })
	return err
}

func (s *scenario) sendOrders(user string, n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	s.batch, s.batchStart = nil, time.Now()
	for i := range n {
		m, err := s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) {
			r.Dedup = &senderclient.Dedup{Key: fmt.Sprintf("order-%d-%d", s.no, i)}
		})
		if err != nil {
			return err
		}
		s.batch = append(s.batch, m)
	}
	return nil
}

func (s *scenario) sendUrgent(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) {
		r.Urgent = true
		r.Dedup = &senderclient.Dedup{Key: "urgent-" + s.marker()}
	})
	return err
}

func (s *scenario) rejectedDuplicate() error {
	if len(s.msgs) < 2 {
		return errors.New("a duplicate needs two messages")
	}
	first := s.msgs[0].id
	m, err := s.lastMessage("the message to be rejected", isStatus(senderclient.StatusRejected))
	if err != nil {
		return err
	}
	if m.Reason != senderclient.ReasonDuplicate || m.DuplicateOf != first || len(m.Attempts) != 0 {
		return fmt.Errorf("%v: reason %q, duplicate_of %q, want duplicate of %s, never sent", m, m.Reason, m.DuplicateOf, first)
	}
	return nil
}

func (s *scenario) rejectedCap() error {
	m, err := s.lastMessage("the message to be rejected", isStatus(senderclient.StatusRejected))
	if err != nil {
		return err
	}
	if m.Reason != senderclient.ReasonFrequencyCap || len(m.Attempts) != 0 {
		return fmt.Errorf("%v: reason %q, want frequency_cap, never sent", m, m.Reason)
	}
	return nil
}

// heldQuiet checks the batch: queued, held for quiet hours, due within
// the ramp after hh:mm (the next one on the sender's clock).
func (s *scenario) heldQuiet(hhmm string, ramp int) error {
	if len(s.batch) == 0 {
		return errors.New("no batch of messages was sent")
	}
	c, err := s.clock()
	if err != nil {
		return err
	}
	loc, err := shanghaiZone()
	if err != nil {
		return err
	}
	hm, err := time.Parse("15:04", hhmm)
	if err != nil {
		return err
	}
	now := c.Now().In(loc)
	end := time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	if !end.After(now) {
		end = end.AddDate(0, 0, 1)
	}
	for _, b := range s.batch {
		m, err := s.get(b.id)
		if err != nil {
			return err
		}
		if m.Status != senderclient.StatusQueued || m.HeldReason != senderclient.HeldQuietHours ||
			m.NextAttemptAt.Before(end) || !m.NextAttemptAt.Before(end.Add(time.Duration(ramp)*time.Minute)) {
			return fmt.Errorf("%v: held_reason %q, next_attempt_at %s; want queued, quiet_hours, within %d minutes after %s",
				m, m.HeldReason, m.NextAttemptAt, ramp, end.UTC())
		}
	}
	return nil
}

// heldStillWaiting: the batch is queued, never attempted (checked after
// an urgent message went: the dispatcher has run since).
func (s *scenario) heldStillWaiting() error {
	for _, b := range s.batch {
		m, err := s.get(b.id)
		if err != nil {
			return err
		}
		if m.Status != senderclient.StatusQueued || len(m.Attempts) != 0 {
			return fmt.Errorf("%v: want it still held, never sent", m)
		}
	}
	return nil
}

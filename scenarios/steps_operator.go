package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/sender/senderclient"
)

// The keys of every world besides apiKey (send and read): an operator's,
// which may also act on apps and in bulk, and a dashboard's, which may
// only read.
const (
	adminKey = "bdd-scenarios-admin-key-0001"
	readKey  = "bdd-scenarios-read-key-00001"
)

// registerOperator binds the steps of operator control (paused apps,
// resume) and of the checks before the 202.
func (s *scenario) registerOperator(sc *godog.ScenarioContext) {
	sc.Step(`^the sender shows the app paused until the next midnight in Beijing with the reason "([^"]*)" and the code "([^"]*)"$`, s.shownPaused)
	sc.Step(`^the app's queue counts (\d+) queued and (\d+) retrying$`, s.queueCounts)
	sc.Step(`^a caller whose key may only read asks the sender to resume the app$`, func() error { return s.resume(readKey) })
	sc.Step(`^an operator resumes the app$`, s.operatorResumes)
	sc.Step(`^the app is still paused$`, func() error { return s.paused(true) })
	sc.Step(`^the app is not paused$`, func() error { return s.paused(false) })
	sc.Step(`^every message sent through the sender is delivered$`, s.everyDelivered)
	sc.Step(`^the sender has delivered a message of the app to (\w+)$`, s.firstDelivered)
	sc.Step(`^I send (\w+) a message without the keyword (\S+) through the sender$`, s.sendWithout)
	sc.Step(`^the sender refuses it naming "([^"]*)" and the rule "([^"]*)" with the reason "([^"]*)"$`, s.refusedBecause)
	sc.Step(`^the platform received no send for the app after the first$`, s.onlyTheFirstSend)
}

// clientWith is a client of the world's sender with key.
func (s *scenario) clientWith(key string) (*senderclient.Client, error) {
	base, err := s.w.senderURL(s.ctx)
	if err != nil {
		return nil, err
	}
	return senderclient.New(base, senderclient.WithAPIKey(key), senderclient.WithHTTPClient(s.http),
		senderclient.WithRetry(senderclient.NoRetry))
}

// senderApp reads the scenario's app as GET /v1/apps/{name} shows it.
func (s *scenario) senderApp() (senderclient.App, error) {
	a, err := s.app()
	if err != nil {
		return senderclient.App{}, err
	}
	if a.slot == nil {
		return senderclient.App{}, errors.New("the mini-program is not served by the sender")
	}
	c, err := s.clientWith(readKey)
	if err != nil {
		return senderclient.App{}, err
	}
	return c.App(s.ctx, a.slot.name)
}

func (s *scenario) shownPaused(why, code string) error {
	v, err := s.senderApp()
	if err != nil {
		return err
	}
	midnight := nextBeijingMidnight(time.Now())
	switch {
	case v.PausedUntil == nil:
		return fmt.Errorf("app %s is not shown paused: %+v", v.Name, v)
	case v.PausedUntil.Before(midnight.Add(-time.Minute)) || v.PausedUntil.After(midnight.Add(time.Hour)):
		return fmt.Errorf("paused until %s, want the next Beijing midnight %s", v.PausedUntil, midnight)
	case v.PauseReason == nil || *v.PauseReason != why:
		return fmt.Errorf("pause reason %v, want %s", v.PauseReason, why)
	case v.PauseCode != code:
		return fmt.Errorf("pause code %q, want %q", v.PauseCode, code)
	}
	return nil
}

func (s *scenario) queueCounts(queued, retrying int) error {
	v, err := s.senderApp()
	if err != nil {
		return err
	}
	if v.Queue["queued"] != queued || v.Queue["retrying"] != retrying {
		return fmt.Errorf("queue %v, want %d queued and %d retrying", v.Queue, queued, retrying)
	}
	return nil
}

// resume asks POST /v1/apps/{name}/resume with key and records the answer.
func (s *scenario) resume(key string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.clientWith(key)
	if err != nil {
		return err
	}
	v, err := c.ResumeApp(s.ctx, a.slot.name)
	return s.record(http.StatusOK, v, err)
}

func (s *scenario) operatorResumes() error {
	if err := s.resume(adminKey); err != nil {
		return err
	}
	if s.lastStatus != http.StatusOK {
		return fmt.Errorf("resume: the sender answered %d %s", s.lastStatus, s.lastAnswer)
	}
	return nil
}

func (s *scenario) paused(want bool) error {
	v, err := s.senderApp()
	if err != nil {
		return err
	}
	if v.Paused() != want {
		return fmt.Errorf("app paused %v (until %v), want %v", v.Paused(), v.PausedUntil, want)
	}
	return nil
}

func (s *scenario) everyDelivered() error {
	if len(s.msgs) == 0 {
		return errors.New("no message was sent")
	}
	for _, m := range s.msgs {
		if m.id == "" {
			continue
		}
		if _, err := s.waitMessage(m.id, "message "+m.id+" to be delivered", isStatus("delivered")); err != nil {
			return err
		}
	}
	return nil
}

// firstDelivered: the app's first send fetches its access token, with
// which the sender then reads the platform's template list (in the
// background: the step waits until the app shows it).
func (s *scenario) firstDelivered(user string) error {
	if err := s.send(user); err != nil {
		return err
	}
	if err := s.delivered(); err != nil {
		return err
	}
	var last senderclient.App
	return s.eventually("the sender to list the app's templates", func() (bool, string, error) {
		v, err := s.senderApp()
		if err != nil {
			return false, "", err
		}
		last = v
		return v.Templates.Source == "platform", fmt.Sprintf("templates %+v", last.Templates), nil
	})
}

func (s *scenario) sendWithout(user, key string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	m, err := s.sendVia(a, user, "", nil, func(r *senderclient.MessageRequest) {
		if _, ok := r.Data[key]; !ok {
			err = fmt.Errorf("the message has no keyword %q to leave out: %v", key, r.Data)
		}
		delete(r.Data, key)
	})
	_ = m
	return err
}

func (s *scenario) refusedBecause(field, rule, why string) error {
	if err := s.refused(field, rule); err != nil {
		return err
	}
	if s.lastErr.Reason != why {
		return fmt.Errorf("reason %q, want %q (%s)", s.lastErr.Reason, why, s.lastAnswer)
	}
	return nil
}

func (s *scenario) onlyTheFirstSend() error {
	a, err := s.app()
	if err != nil {
		return err
	}
	time.Sleep(grace)
	n, err := s.requests(a, a.spec.sendEndpoint, nil)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("the platform received %d sends for the app, want only the first", n)
	}
	return nil
}

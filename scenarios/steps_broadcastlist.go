package scenarios

import (
	"errors"
	"fmt"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/sender/senderclient"
)

// The list of broadcasts (GET /v1/broadcasts, docs/campaigns.md "In the
// API and the console"): what operations staff read to follow their
// broadcasts and their schedules' runs.

func (s *scenario) registerBroadcastList(sc *godog.ScenarioContext) {
	sc.Step(`^the sender lists the schedule's broadcast, done with every message delivered$`, s.scheduleBroadcastListed)
}

// scheduleBroadcastListed: GET /v1/broadcasts?schedule=<id> lists exactly
// the broadcast the schedule's run made (scheduleMade keeps its id), in
// state done with every recipient delivered; its own answer
// (GET /v1/broadcasts/{id}) names the schedule.
func (s *scenario) scheduleBroadcastListed() error {
	if s.sched == nil || s.bc == nil || s.bc.id == "" {
		return errors.New("no schedule has made a broadcast")
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.eventually("the schedule's broadcast listed as done", func() (bool, string, error) {
		l, err := c.Broadcasts(s.ctx, senderclient.BroadcastFilter{Schedule: s.sched.ID})
		if err != nil {
			return false, "", err
		}
		seen := fmt.Sprintf("%+v", l.Items)
		if len(l.Items) != 1 || l.NextCursor != "" {
			if len(l.Items) > 1 {
				return false, "", fmt.Errorf("schedule %s lists %d broadcasts, want 1: %s", s.sched.ID, len(l.Items), seen)
			}
			return false, seen, nil
		}
		it := l.Items[0]
		if it.ID != s.bc.id || it.Schedule != s.sched.ID {
			return false, "", fmt.Errorf("schedule %s lists broadcast %s (schedule %q), want %s", s.sched.ID, it.ID, it.Schedule, s.bc.id)
		}
		if it.State != senderclient.BroadcastDone || it.Counts[senderclient.StatusDelivered] != it.Recipients {
			return false, seen, nil
		}
		one, err := c.BroadcastState(s.ctx, it.ID)
		if err != nil {
			return false, "", err
		}
		if one.Schedule != s.sched.ID || one.State != senderclient.BroadcastDone {
			return false, "", fmt.Errorf("GET /v1/broadcasts/%s says schedule %q, state %s", it.ID, one.Schedule, one.State)
		}
		return true, seen, nil
	})
}

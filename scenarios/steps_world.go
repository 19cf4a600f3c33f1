package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Mini-programs, users and what the platform does: the Given steps.

func (s *scenario) appOnPlatform(platform string) error {
	_, err := s.addApp(platform, "", nil, false, "")
	return err
}

func (s *scenario) appOnPlatformWithKeywords(platform, keys string) error {
	_, err := s.addApp(platform, "", strings.Fields(keys), false, "")
	return err
}

func (s *scenario) appOnSender(platform string) error {
	_, err := s.addApp(platform, "", nil, true, profilePlain)
	return err
}

func (s *scenario) appOnSenderWithKeywords(platform, keys string) error {
	_, err := s.addApp(platform, "", strings.Fields(keys), true, profilePlain)
	return err
}

func (s *scenario) appOnSenderChecked(platform string) error {
	_, err := s.addApp(platform, "", nil, true, profileChecked)
	return err
}

func (s *scenario) appOnSenderShaped(platform string, rate int) error {
	if rate != shapedRate {
		return fmt.Errorf("the pool's shaped apps send at most %d messages a second, not %d (scenarios/pool.go)", shapedRate, rate)
	}
	_, err := s.addApp(platform, "", nil, true, profileShaped)
	return err
}

func (s *scenario) alipayWrongAppKey() error {
	_, err := s.addApp("alipay", "", nil, true, profileWrongAppKey)
	return err
}

func (s *scenario) alipayWrongAlipayKey() error {
	_, err := s.addApp("alipay", "", nil, true, profileWrongAlipayKey)
	return err
}

func (s *scenario) anotherAppOnSender(platform, label string) error {
	_, err := s.addApp(platform, label, nil, true, profilePlain)
	return err
}

// grant gives a user of a the template: once, or for the long term.
func (s *scenario) grant(a *app, user, how string) error {
	g := mockapi.Grant{Platform: a.spec.name, AppID: a.appID, OpenID: a.userID(user), TemplateID: templateID}
	if how == "once" {
		g.Count = 1
	} else {
		g.LongTerm = true
	}
	_, err := s.mock().Grant(s.ctx, g)
	return err
}

func (s *scenario) subscribed(list, how string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	for _, u := range users(list) {
		if err := s.grant(a, u, how); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) subscribedTo(user, label, how string) error {
	a, ok := s.named[label]
	if !ok {
		return fmt.Errorf("no mini-program %q in this scenario", label)
	}
	return s.grant(a, user, how)
}

func (s *scenario) cohortSubscribed(n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	s.cohort = nil
	for i := range n {
		u := fmt.Sprintf("user%d", i+1)
		if err := s.grant(a, u, "for the long term"); err != nil {
			return err
		}
		s.cohort = append(s.cohort, u)
	}
	return nil
}

func (s *scenario) neverSubscribed(list string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	for _, u := range users(list) {
		if err := s.mock().AddUser(s.ctx, mockapi.User{Platform: a.spec.name, AppID: a.appID, OpenID: a.userID(u)}); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) subscribesOnce(user string) error { return s.subscribed(user, "once") }

// fault parses "errcode -1", "HTTP 502" or "a dropped connection" into a
// fault on the app's send endpoint.
func (s *scenario) fault(spec string, times int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	f := mockapi.Fault{Platform: a.spec.name, Endpoint: a.spec.sendEndpoint, AppID: a.appID, Times: times}
	switch {
	case strings.HasPrefix(spec, "errcode "):
		n, err := strconv.Atoi(strings.TrimPrefix(spec, "errcode "))
		if err != nil {
			return fmt.Errorf("fault %q: %w", spec, err)
		}
		f.ErrCode = &n
	case strings.HasPrefix(spec, "HTTP "):
		n, err := strconv.Atoi(strings.TrimPrefix(spec, "HTTP "))
		if err != nil {
			return fmt.Errorf("fault %q: %w", spec, err)
		}
		f.HTTPStatus = n
	case spec == "a dropped connection":
		f.Drop = true
	default:
		return fmt.Errorf("unknown fault %q: want errcode N, HTTP N or a dropped connection", spec)
	}
	id, err := s.mock().AddFault(s.ctx, f)
	if err != nil {
		return err
	}
	a.faults = append(a.faults, id)
	return nil
}

func (s *scenario) failNext(n int, spec string) error { return s.fault(spec, n) }

func (s *scenario) failEvery(spec string) error { return s.fault(spec, 0) }

// recovers removes the faults this scenario injected (only its own: the
// mock may be shared).
func (s *scenario) recovers() error {
	for _, a := range s.apps {
		for _, id := range a.faults {
			if err := s.mock().DeleteFault(s.ctx, id); err != nil {
				return err
			}
		}
		a.faults = nil
	}
	return nil
}

func (s *scenario) allows(n int, per string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	return s.mock().SetQuota(s.ctx, mockapi.Quota{Platform: a.spec.name, AppID: a.appID, Endpoint: a.spec.sendEndpoint,
		Limit: n, Per: per})
}

// The mock's clock is one for all its apps: only a world of the
// scenario's own may move it.
func (s *scenario) clockForward(d string) error {
	dur, err := time.ParseDuration(d)
	if err != nil {
		return err
	}
	if !s.w.isolated {
		return errors.New("moving the platform's clock needs a world of the scenario's own: tag it @isolated")
	}
	_, err = s.mock().Advance(s.ctx, dur)
	return err
}

// beijing is the time zone of the platforms' quota days.
var beijing = time.FixedZone("CST", 8*60*60)

func nextBeijingMidnight(t time.Time) time.Time {
	b := t.In(beijing)
	return time.Date(b.Year(), b.Month(), b.Day()+1, 0, 0, 0, 0, beijing)
}

func (s *scenario) clockNextDay() error {
	if !s.w.isolated {
		return errors.New("moving the platform's clock needs a world of the scenario's own: tag it @isolated")
	}
	now, err := s.mock().Now(s.ctx)
	if err != nil {
		return err
	}
	_, err = s.mock().Advance(s.ctx, nextBeijingMidnight(now).Add(time.Minute).Sub(now))
	return err
}

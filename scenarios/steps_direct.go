package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

// Calls straight to the platform (the mock), as a backend without the
// sender would make them.

func (s *scenario) directClient() *direct.Client { return direct.New(s.w.mockURL) }

// token returns the app's access token, fetching one the first time.
func (s *scenario) token(a *app) (string, error) {
	if a.token != "" || a.spec.name == "alipay" {
		return a.token, nil
	}
	t, ans, err := s.directClient().Token(s.ctx, a.direct)
	if err != nil {
		return "", err
	}
	if !ans.OK {
		return "", fmt.Errorf("the %s token endpoint answered %v", a.spec.name, ans)
	}
	a.token = t
	return t, nil
}

// pace keeps Douyin's documented rule of one message per user per second,
// as a well-behaved backend does; the sender shapes the same way.
func pace(a *app, to string) {
	if a.spec.name != "douyin" {
		return
	}
	if last, ok := a.lastDirect[to]; ok {
		if d := time.Until(last.Add(1100 * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
	}
	a.lastDirect[to] = time.Now()
}

// directMessage builds a message to user and remembers it as the last one
// they were sent.
func (s *scenario) directMessage(a *app, user string, set map[string]string) direct.Message {
	m := &sent{app: a, user: user, marker: s.marker()}
	s.lastTo[user] = m
	return direct.Message{To: a.userID(user), TemplateID: templateID, Data: s.data(a, "", m.marker, set), Page: page,
		SubscribeID: subscribeID(m.marker)}
}

func (s *scenario) directSendMessage(a *app, token string, m direct.Message) error {
	pace(a, m.To)
	var ans direct.Answer
	var err error
	if a.spec.name == "alipay" {
		// The answer's own signature matters too.
		ans, s.reply, err = s.directClient().AlipaySend(s.ctx, a.direct, m, nil)
	} else {
		ans, err = s.directClient().Send(s.ctx, a.direct, token, m)
	}
	if err != nil {
		return err
	}
	s.answer = ans
	s.answers = append(s.answers, ans)
	return nil
}

func (s *scenario) directSendTo(user string, set map[string]string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	t, err := s.token(a)
	if err != nil {
		return err
	}
	return s.directSendMessage(a, t, s.directMessage(a, user, set))
}

func (s *scenario) directSend(user string) error { return s.directSendTo(user, nil) }

func (s *scenario) directSendStranger() error { return s.directSendTo("stranger", nil) }

func (s *scenario) directSendN(user string, n int) error {
	s.answers = nil
	for range n {
		if err := s.directSendTo(user, nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) directSendWith(user, key, value string) error {
	return s.directSendTo(user, map[string]string{key: value})
}

func (s *scenario) alipayDirect(user string, o *direct.AlipayOptions) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if a.spec.name != "alipay" {
		return errors.New("signatures are Alipay's: the app is on " + a.spec.name)
	}
	ans, reply, err := s.directClient().AlipaySend(s.ctx, a.direct, s.directMessage(a, user, nil), o)
	if err != nil {
		return err
	}
	s.answer, s.reply = ans, reply
	return nil
}

func (s *scenario) alipaySignedWithAnotherKey(user string) error {
	return s.alipayDirect(user, &direct.AlipayOptions{SignWith: s.suite.keys.stranger})
}

func (s *scenario) alipayTampered(user string) error {
	// One second later than the signed timestamp: a replay with a fresher
	// timestamp, or a proxy rewriting the request.
	ts := time.Now().Add(time.Second).Format("2006-01-02 15:04:05")
	return s.alipayDirect(user, &direct.AlipayOptions{Tamper: map[string]string{"timestamp": ts}})
}

func (s *scenario) alipayUnsigned(user string) error {
	return s.alipayDirect(user, &direct.AlipayOptions{Unsigned: true})
}

func (s *scenario) wechatApp() (*app, error) {
	a, err := s.app()
	if err != nil {
		return nil, err
	}
	if a.spec.name != "wechat" {
		return nil, errors.New("this step is about WeChat's token API: the app is on " + a.spec.name)
	}
	return a, nil
}

func (s *scenario) fetchToken() error {
	a, err := s.wechatApp()
	if err != nil {
		return err
	}
	a.token = ""
	_, err = s.token(a)
	return err
}

// subscribeID is a Baidu subscribe_id of its own for each message: Baidu
// lets one authorization under one id carry one message, so mini-programs
// that send more than one use per-order ids (the sender takes it from
// data.subscribe_id).
func subscribeID(marker string) string {
	return "sub" + strings.NewReplacer("#", "", ".", "x").Replace(marker)
}

func (s *scenario) fetchNewToken() error {
	a, err := s.wechatApp()
	if err != nil {
		return err
	}
	prev := a.token
	if err := s.fetchToken(); err != nil {
		return err
	}
	if a.token == prev {
		return errors.New("the refetch answered the same token")
	}
	a.prevToken = prev
	return nil
}

func (s *scenario) directSendWithToken(user, which string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	t := a.token
	if which == "the previous" {
		t = a.prevToken
	}
	if t == "" {
		return fmt.Errorf("no %s token was fetched", which)
	}
	return s.directSendMessage(a, t, s.directMessage(a, user, nil))
}

func (s *scenario) stableToken(force bool) error {
	a, err := s.wechatApp()
	if err != nil {
		return err
	}
	t, ans, err := s.directClient().StableToken(s.ctx, a.direct, force)
	if err != nil {
		return err
	}
	if !ans.OK || t == "" {
		return fmt.Errorf("stable_token answered %v", ans)
	}
	s.stable = append(s.stable, t)
	return nil
}

func (s *scenario) stableTwice() error {
	if err := s.stableToken(false); err != nil {
		return err
	}
	return s.stableToken(false)
}

func (s *scenario) stableSame() error {
	if n := len(s.stable); n < 2 || s.stable[n-1] != s.stable[n-2] {
		return fmt.Errorf("stable tokens %v: want the last two equal", redactTokens(s.stable))
	}
	return nil
}

func (s *scenario) stableForce() error { return s.stableToken(true) }

func (s *scenario) stableDifferent() error {
	if n := len(s.stable); n < 2 || s.stable[n-1] == s.stable[n-2] {
		return fmt.Errorf("stable tokens %v: want the forced one different", redactTokens(s.stable))
	}
	return nil
}

func (s *scenario) stablePreviousWorks(user string) error {
	a, err := s.wechatApp()
	if err != nil {
		return err
	}
	if len(s.stable) < 2 {
		return errors.New("no previous stable token")
	}
	if err := s.directSendMessage(a, s.stable[len(s.stable)-2], s.directMessage(a, user, nil)); err != nil {
		return err
	}
	return s.accepts()
}

// redactTokens shortens tokens for messages: enough to compare.
func redactTokens(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		if len(t) > 8 {
			t = t[:4] + "…" + t[len(t)-4:]
		}
		out[i] = t
	}
	return out
}

func (s *scenario) contentSecurity(text, user string) error {
	a, err := s.wechatApp()
	if err != nil {
		return err
	}
	t, err := s.token(a)
	if err != nil {
		return err
	}
	v, ans, err := s.directClient().MsgSecCheck(s.ctx, t, a.userID(user), text)
	if err != nil {
		return err
	}
	if !ans.OK {
		return fmt.Errorf("msg_sec_check answered %v", ans)
	}
	s.verdict = v
	return nil
}

func (s *scenario) judged(suggest, label string) error {
	if s.verdict.Suggest != suggest || s.verdict.Label != label {
		return fmt.Errorf("verdict %+v, want %s with label %s", s.verdict, suggest, label)
	}
	return nil
}

func (s *scenario) accepts() error {
	if len(s.answers) == 0 {
		return errors.New("nothing was sent to the platform")
	}
	for _, a := range s.answers {
		if !a.OK {
			return fmt.Errorf("the platform answered %v, want acceptance: %s", a, a.Body)
		}
	}
	s.answers = nil
	return nil
}

func (s *scenario) platformAnswers(code string) error {
	s.answers = nil
	if s.answer.OK || s.answer.Code != code {
		return fmt.Errorf("the platform answered %v, want code %s: %s", s.answer, code, s.answer.Body)
	}
	return nil
}

func (s *scenario) answersSaying(code, text string) error {
	if err := s.platformAnswers(code); err != nil {
		return err
	}
	if !strings.Contains(s.answer.Message, text) {
		return fmt.Errorf("the platform said %q, want it to mention %q", s.answer.Message, text)
	}
	return nil
}

func (s *scenario) quotesSignedString() error {
	if s.reply.SignedContent == "" || !strings.HasSuffix(s.reply.SubMsg, s.reply.SignedContent) {
		return fmt.Errorf("sub_msg %q does not quote the signed string %q", s.reply.SubMsg, s.reply.SignedContent)
	}
	return nil
}

func (s *scenario) answerSignatureVerifies() error {
	if !s.reply.Signed || !s.reply.Verified {
		return fmt.Errorf("answer signed %v, verified %v: want a sign that verifies", s.reply.Signed, s.reply.Verified)
	}
	return nil
}

func (s *scenario) subscriptionsLeft(user string, n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	gs, err := s.mock().Grants(s.ctx, a.spec.name, a.appID, a.userID(user))
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.TemplateID == templateID {
			if g.LongTerm || g.Remaining != n {
				return fmt.Errorf("%s holds %+v, want %d one-time subscriptions left", user, g, n)
			}
			return nil
		}
	}
	if n == 0 {
		return nil // a spent grant may be gone altogether
	}
	return fmt.Errorf("%s holds no subscription to the template, want %d left", user, n)
}

func (s *scenario) longTermIntact(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	gs, err := s.mock().Grants(s.ctx, a.spec.name, a.appID, a.userID(user))
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.TemplateID == templateID && g.LongTerm {
			return nil
		}
	}
	return fmt.Errorf("%s holds %+v, want a long-term subscription", user, gs)
}

// What users receive.

func (s *scenario) receivesOnce(user string) error {
	m, ok := s.lastTo[user]
	if !ok {
		return fmt.Errorf("%s was sent nothing", user)
	}
	return s.receivesExactly(m.app, user, m.marker, 1)
}

func (s *scenario) receivedInAll(user string, n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	return s.receivesExactly(a, user, "", n)
}

func (s *scenario) nobodyReceives() error {
	time.Sleep(grace)
	for _, a := range s.apps {
		msgs, err := s.inbox(a, "")
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			return fmt.Errorf("the inbox of the %s app holds %d message(s), want none: %+v", a.spec.name, len(msgs), msgs[0])
		}
	}
	return nil
}

func (s *scenario) eachReceivesOnce() error {
	if len(s.batch) == 0 {
		return errors.New("no batch of messages was sent")
	}
	return s.receiveEachOnce(s.batch)
}

// receiveEachOnce is receivesExactly(…, 1) for many messages at once: one
// wait, one grace period.
func (s *scenario) receiveEachOnce(ms []*sent) error {
	count := func() ([]int, error) {
		inboxes := map[*app][]mockapi.Message{}
		out := make([]int, len(ms))
		for i, m := range ms {
			in, ok := inboxes[m.app]
			if !ok {
				var err error
				if in, err = s.inbox(m.app, ""); err != nil {
					return nil, err
				}
				inboxes[m.app] = in
			}
			to := m.app.userID(m.user)
			for _, x := range in {
				if x.OpenID == to && strings.HasSuffix(x.Data[m.app.markerKey], m.marker) {
					out[i]++
				}
			}
		}
		return out, nil
	}
	err := s.eventually("every user to receive their message", func() (bool, string, error) {
		c, err := count()
		if err != nil {
			return false, "", err
		}
		missing := 0
		for _, n := range c {
			if n == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d not received", missing, len(c)), nil
	})
	if err != nil {
		return err
	}
	time.Sleep(grace)
	c, err := count()
	if err != nil {
		return err
	}
	for i, n := range c {
		if n != 1 {
			return fmt.Errorf("%s received message %s %d times, want once", ms[i].user, ms[i].marker, n)
		}
	}
	return nil
}

package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/senderclient"
)

// The consent lifecycle (features/consent*.feature, issue 10): the mock
// pushes what the platform pushes — popup answers, settings changes,
// delivery results — to the sender's /v1/platform-events/{app}; the
// sender keeps its consent ledger from them and holds back, without a
// platform call, what the user did not allow.

func (s *scenario) registerConsent(sc *godog.ScenarioContext) {
	sc.Step(`^an? (wechat|douyin) mini-program served by the sender that enforces consent(?:, pushing (xml|json) in (plain|compatible|safe) mode)?$`, s.consentApp)
	sc.Step(`^(\w+) accepts the template in (\d+) popups?$`, s.acceptsInPopups)
	sc.Step(`^(\w+) rejects the template in a popup$`, s.rejectsInPopup)
	sc.Step(`^(\w+) switches the template off in the settings$`, s.switchesOff)
	sc.Step(`^the sender's ledger shows (\w+) with (\d+) one-time credits?$`, s.ledgerCredits)
	sc.Step(`^the sender's ledger shows (\w+) rejected the template$`, s.ledgerRejected)
	sc.Step(`^I send (\w+) (\d+) messages through the sender one after another$`, s.sendOneAfterAnother)
	sc.Step(`^I send (\w+) (\d+) messages scheduled (\d+) seconds from now through the sender$`, s.sendNScheduled)
	sc.Step(`^the first (\d+) are delivered and the last is rejected as not subscribed$`, s.firstDeliveredLastHeld)
	sc.Step(`^they are all rejected as not subscribed$`, s.allHeld)
	sc.Step(`^the message is rejected as not subscribed$`, s.lastHeld)
	sc.Step(`^the platform accepted (\d+) sends? for (\w+)$`, s.acceptedFor)
	sc.Step(`^the platform never answered a send for (\w+) with its not-subscribed code$`, s.neverNotSubscribed)
	sc.Step(`^each delivered message carries the platform's delivery receipt$`, s.receiptsDelivered)
	sc.Step(`^the platform will report the next delivery as failed with code (\d+)$`, s.failNextReceipt)
	sc.Step(`^the message's receipt says (delivered|failed) with code "(\d+)"$`, s.receiptSays)
	sc.Step(`^the platform spoils its pushes to the app with (?:a wrong|an old) (signature|msg_signature|timestamp|encryption|appid)$`, s.spoilPushes)
	sc.Step(`^the sender refuses every attempt of the push until the platform gives up$`, s.pushRefused)
}

// consentApp leases an app that enforces consent and gives it push
// settings on the mock that point at the sender — whose URL check must
// pass, as on the console.
func (s *scenario) consentApp(platform, format, mode string) error {
	prof := profileConsent
	if mode == "compatible" || mode == "safe" {
		prof = profileConsentAES
	}
	a, err := s.addApp(platform, "", nil, true, prof)
	if err != nil {
		return err
	}
	sp, err := s.w.ensureSender(s.ctx)
	if err != nil {
		return err
	}
	pc := &mockapi.PushConfig{URL: s.w.backend.senderURLForMock(sp) + "/v1/platform-events/" + a.slot.name}
	if platform == "wechat" {
		pc.Token, pc.Format, pc.Mode = pushToken, format, mode
		if prof == profileConsentAES {
			pc.EncodingAESKey = pushAESKey
		}
	}
	res, err := s.mock().SetPush(s.ctx, platform, a.appID, pc)
	if err != nil {
		return fmt.Errorf("push settings: %w", err)
	}
	if res.Verify == nil || !res.Verify.Passed {
		return fmt.Errorf("the platform's URL check of the sender failed: %+v", res.Verify)
	}
	return nil
}

// popupEvent is the push a popup answer makes on the app's platform.
func popupEvent(a *app) string {
	if a.spec.name == "douyin" {
		return "user_subscribe_action"
	}
	return "subscribe_msg_popup_event"
}

// acceptsInPopups answers n popups. Each waits for the next second: the
// platform advises receivers to de-duplicate events by user and
// CreateTime, so two identical answers within one second are one push.
func (s *scenario) acceptsInPopups(user string, n int) error {
	return s.popups(user, n, true)
}

func (s *scenario) rejectsInPopup(user string) error { return s.popups(user, 1, false) }

func (s *scenario) popups(user string, n int, accept bool) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	p := mockapi.Popup{Platform: a.spec.name, AppID: a.appID, OpenID: a.userID(user)}
	if accept {
		p.Accept = []string{templateID}
	} else {
		p.Reject = []string{templateID}
	}
	for i := range n {
		if i > 0 || !a.lastPopup.IsZero() {
			waitNextSecond(a.lastPopup)
		}
		res, err := s.mock().AnswerPopup(s.ctx, p)
		if err != nil {
			return fmt.Errorf("popup %d: %w", i+1, err)
		}
		a.lastPopup = time.Now()
		if len(res.Pushes) == 0 {
			return fmt.Errorf("popup %d pushed nothing: the app has no push settings", i+1)
		}
		a.pushes = append(a.pushes, res.Pushes...)
	}
	return nil
}

// waitNextSecond sleeps until the wall clock's second after last.
func waitNextSecond(last time.Time) {
	next := last.Truncate(time.Second).Add(time.Second + 20*time.Millisecond)
	if d := time.Until(next); d > 0 {
		time.Sleep(d)
	}
}

func (s *scenario) switchesOff(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	return s.mock().Revoke(s.ctx, a.spec.name, a.appID, a.userID(user), templateID)
}

// ledger reads a user's entries of GET /v1/consents.
func (s *scenario) ledger(a *app, user string) ([]senderclient.Consent, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	l, err := c.Consents(s.ctx, senderclient.ConsentFilter{App: a.slot.name, User: a.userID(user)})
	return l.Items, err
}

func (s *scenario) waitLedger(user, want string, ok func(senderclient.Consent) bool) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if a.slot == nil {
		return errors.New("the app is not served by the sender")
	}
	return s.eventually("the ledger to show "+user+" "+want, func() (bool, string, error) {
		es, err := s.ledger(a, user)
		if err != nil {
			return false, "", err
		}
		for _, e := range es {
			if e.TemplateID == templateID && ok(e) {
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("%+v", es), nil
	})
}

func (s *scenario) ledgerCredits(user string, n int) error {
	return s.waitLedger(user, fmt.Sprintf("with %d credits", n), func(e senderclient.Consent) bool { return e.Credits == n && !e.Rejected })
}

func (s *scenario) ledgerRejected(user string) error {
	return s.waitLedger(user, "rejected", func(e senderclient.Consent) bool { return e.Rejected && e.Credits == 0 })
}

// sendOneAfterAnother sends n messages, each once the one before settled.
func (s *scenario) sendOneAfterAnother(user string, n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	s.batch = nil
	for range n {
		m, err := s.sendAccepted(a, user, "", nil, nil)
		if err != nil {
			return err
		}
		s.batch = append(s.batch, m)
		if _, err := s.waitMessage(m.id, "the message to settle", func(m message) bool { return final(m.Status) }); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) sendNScheduled(user string, n, secs int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	at := time.Now().Add(time.Duration(secs) * time.Second)
	s.batch = nil
	for range n {
		m, err := s.sendAccepted(a, user, "", nil, func(r *senderclient.MessageRequest) { r.SendAt = &at })
		if err != nil {
			return err
		}
		m.sendAt = at
		s.batch = append(s.batch, m)
	}
	return nil
}

// heldBack checks a message ended rejected with reason not_subscribed,
// its one attempt saying so.
func (s *scenario) heldBack(id string) error {
	m, err := s.waitMessage(id, "the message to be rejected as not subscribed", isStatus("rejected"))
	if err != nil {
		return err
	}
	if m.Reason != "not_subscribed" || m.LastCode != "not_subscribed" || len(m.Attempts) != 1 || m.Attempts[0].Outcome != "rejected" {
		return fmt.Errorf("%v (reason %q): want rejected with reason not_subscribed and no send", m, m.Reason)
	}
	return nil
}

func (s *scenario) firstDeliveredLastHeld(n int) error {
	if len(s.batch) != n+1 {
		return fmt.Errorf("%d messages were sent, want %d", len(s.batch), n+1)
	}
	for i, b := range s.batch[:n] {
		if _, err := s.waitMessage(b.id, fmt.Sprintf("message %d to be delivered", i+1), isStatus("delivered")); err != nil {
			return err
		}
	}
	return s.heldBack(s.batch[n].id)
}

func (s *scenario) allHeld() error {
	for _, b := range s.batch {
		if err := s.heldBack(b.id); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) lastHeld() error {
	m, err := s.lastSent()
	if err != nil {
		return err
	}
	return s.heldBack(m.id)
}

// notSubscribedCode is the code each pushing platform answers a send to a
// user without a subscription with.
var notSubscribedCode = map[string]int{"wechat": 43101, "douyin": 28014043}

// sendCalls counts the platform's send calls for a user (the mock's
// journal) that it answered with code.
func (s *scenario) sendCalls(user string, code int) (int, error) {
	a, err := s.app()
	if err != nil {
		return 0, err
	}
	time.Sleep(grace)
	r, err := s.mock().Requests(s.ctx, mockclient.RequestFilter{Platform: a.spec.name, Endpoint: a.spec.sendEndpoint,
		AppID: a.appID, OpenID: a.userID(user), ErrCode: &code, Limit: 1})
	return r.Total, err
}

// acceptedFor: the platform accepted exactly n sends for user (calls it
// throttled or refused for a while do not count).
func (s *scenario) acceptedFor(n int, user string) error {
	got, err := s.sendCalls(user, 0)
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("the platform accepted %d send(s) for %s, want %d", got, user, n)
	}
	return nil
}

// neverNotSubscribed: a message the sender held back never reached the
// platform — had it, the platform would have answered its not-subscribed
// code, as it does to every send beyond the user's subscription.
func (s *scenario) neverNotSubscribed(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	code, ok := notSubscribedCode[a.spec.name]
	if !ok {
		return fmt.Errorf("no not-subscribed code known for %s", a.spec.name)
	}
	got, err := s.sendCalls(user, code)
	if err != nil {
		return err
	}
	if got != 0 {
		return fmt.Errorf("the platform answered %d send(s) for %s with %d: the sender called it for a user without a subscription", got, user, code)
	}
	return nil
}

func (s *scenario) receiptsDelivered() error {
	n := 0
	for _, b := range s.batch {
		m, err := s.get(b.id)
		if err != nil {
			return err
		}
		if m.Status != "delivered" {
			continue
		}
		n++
		if _, err := s.waitMessage(b.id, "the platform's receipt", func(m message) bool {
			return m.Receipt != nil && m.Receipt.Status == "delivered" && m.Receipt.ErrorCode == "0"
		}); err != nil {
			return err
		}
	}
	if n == 0 {
		return errors.New("no message was delivered")
	}
	return nil
}

func (s *scenario) failNextReceipt(code int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.mock().AddFault(s.ctx, mockapi.Fault{Platform: a.spec.name, Endpoint: "push_sent_event", AppID: a.appID,
		ErrCode: &code, Times: 1})
	return err
}

func (s *scenario) receiptSays(status, code string) error {
	last, err := s.lastSent()
	if err != nil {
		return err
	}
	// waitMessage gives up on a settled message that does not match:
	// the receipt follows the delivery, so poll the delivered message.
	return s.eventually("the message's receipt "+status+" "+code, func() (bool, string, error) {
		m, err := s.get(last.id)
		if err != nil {
			return false, "", err
		}
		if m.Receipt != nil && m.Receipt.Status == status && m.Receipt.ErrorCode == code {
			return true, "", nil
		}
		return false, fmt.Sprintf("%v, receipt %+v", m, m.Receipt), nil
	})
}

// spoilPushes makes the mock spoil every push of the app on purpose.
func (s *scenario) spoilPushes(how string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	id, err := s.mock().AddFault(s.ctx, mockapi.Fault{Platform: a.spec.name, Endpoint: "push", AppID: a.appID, Corrupt: how})
	if err != nil {
		return err
	}
	a.pushFaults = append(a.pushFaults, id)
	a.spoiled = len(a.pushes)
	return nil
}

// pushRefused waits until the spoiled push (the first since the fault)
// failed for good, checks the sender refused every attempt, and lifts
// the fault.
func (s *scenario) pushRefused() error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if len(a.pushes) <= a.spoiled {
		return errors.New("no push was made since the pushes were spoiled")
	}
	id := a.pushes[a.spoiled]
	r, err := s.mock().Pushes(s.ctx, mockclient.PushFilter{Platform: a.spec.name, AppID: a.appID, ID: id,
		Outcome: mockapi.PushFailed, Wait: patience})
	if err != nil {
		return err
	}
	if r.Total == 0 {
		return fmt.Errorf("push %s did not fail within %s", id, patience)
	}
	all, err := s.mock().Pushes(s.ctx, mockclient.PushFilter{Platform: a.spec.name, AppID: a.appID, ID: id})
	if err != nil {
		return err
	}
	for _, p := range all.Pushes {
		if p.Status != http.StatusUnauthorized && p.Status != http.StatusBadRequest {
			return fmt.Errorf("attempt %d of the spoiled push was answered %d %q, want 400 or 401", p.Attempt, p.Status, p.Answer)
		}
	}
	for _, f := range a.pushFaults {
		if err := s.mock().DeleteFault(s.ctx, f); err != nil {
			return err
		}
	}
	a.pushFaults = nil
	return nil
}

package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// Steps of features/customer_service.feature: a WeChat backend answers a
// user through the customer-service API inside the window the user's
// action opened, with text and with an uploaded image.

func (s *scenario) registerKefu(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) opens the mini-program's customer-service session$`, func(u string) error {
		return s.userActs(u, mockapi.KefuTriggerEnter)
	})
	sc.Step(`^(\w+) writes to the mini-program's customer service$`, func(u string) error {
		return s.userActs(u, mockapi.KefuTriggerMessage)
	})
	sc.Step(`^I answer (\w+) "([^"]*)" through customer service$`, func(u, text string) error { return s.kefuAnswer(u, text, 1) })
	sc.Step(`^I answer (\w+) "([^"]*)" through customer service (\d+) times$`, s.kefuAnswer)
	sc.Step(`^I upload an image to the platform$`, s.uploadImage)
	sc.Step(`^I answer (\w+) with the uploaded image through customer service$`, s.kefuAnswerImage)
	sc.Step(`^(\w+) has received (\d+) customer-service messages?$`, s.kefuReceived)
	sc.Step(`^(\w+) has received the uploaded image from customer service$`, s.kefuReceivedImage)
}

// kefuApp is the scenario's app, which must be on WeChat, and a fresh
// token: a scenario may move the clock past the last one's life.
func (s *scenario) kefuApp() (*app, string, error) {
	a, err := s.app()
	if err != nil {
		return nil, "", err
	}
	if a.spec.name != "wechat" {
		return nil, "", fmt.Errorf("customer-service messages are WeChat's: the app is on %s", a.spec.name)
	}
	tok, ans, err := s.directClient().Token(s.ctx, a.direct)
	if err != nil {
		return nil, "", err
	}
	if !ans.OK {
		return nil, "", fmt.Errorf("the token endpoint answered %v", ans)
	}
	a.prevToken, a.token = a.token, tok
	return a, tok, nil
}

// userActs opens the user's customer-service window as the platform does
// when the user writes or enters the session.
func (s *scenario) userActs(user, trigger string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	_, err = s.mock().OpenKefuSession(s.ctx, mockapi.KefuSession{Platform: a.spec.name, AppID: a.appID,
		OpenID: a.userID(user), Trigger: trigger})
	return err
}

func (s *scenario) kefuAnswer(user, text string, times int) error {
	a, tok, err := s.kefuApp()
	if err != nil {
		return err
	}
	for range times {
		ans, err := s.directClient().KefuText(s.ctx, tok, a.userID(user), text)
		if err != nil {
			return err
		}
		s.answer = ans
		s.answers = append(s.answers, ans)
	}
	return nil
}

// testImage is a small PNG, different for every scenario.
func (s *scenario) testImage() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(0, 0, color.RGBA{R: uint8(s.no), G: uint8(s.no >> 8), B: uint8(s.no >> 16), A: 255})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func (s *scenario) uploadImage() error {
	_, tok, err := s.kefuApp()
	if err != nil {
		return err
	}
	id, ans, err := s.directClient().UploadImage(s.ctx, tok, "waybill.png", s.testImage())
	if err != nil {
		return err
	}
	if !ans.OK || id == "" {
		return fmt.Errorf("media/upload answered %v: %s", ans, ans.Body)
	}
	s.mediaID = id
	return nil
}

func (s *scenario) kefuAnswerImage(user string) error {
	if s.mediaID == "" {
		return errors.New("no image was uploaded")
	}
	a, tok, err := s.kefuApp()
	if err != nil {
		return err
	}
	ans, err := s.directClient().KefuImage(s.ctx, tok, a.userID(user), s.mediaID)
	if err != nil {
		return err
	}
	s.answer = ans
	s.answers = append(s.answers, ans)
	return nil
}

// kefuInbox waits until the user's customer-service messages number at
// least n (or the patience runs out), then for a stray extra one.
func (s *scenario) kefuInbox(user string, n int) ([]mockapi.Message, error) {
	a, err := s.app()
	if err != nil {
		return nil, err
	}
	f := mockclient.MessageFilter{Platform: a.spec.name, AppID: a.appID, OpenID: a.userID(user), Kind: mockapi.KindCustomerService}
	if n > 0 {
		ctx, cancel := context.WithTimeout(s.ctx, patience+5*time.Second)
		defer cancel()
		f.Wait, f.Min = patience, n
		if _, err := s.mock().Messages(ctx, f); err != nil {
			return nil, err
		}
		f.Wait, f.Min = 0, 0
	}
	time.Sleep(grace)
	got, err := s.mock().Messages(s.ctx, f)
	return got.Messages, err
}

func (s *scenario) kefuReceived(user string, n int) error {
	msgs, err := s.kefuInbox(user, n)
	if err != nil {
		return err
	}
	if len(msgs) != n {
		return fmt.Errorf("%s has %d customer-service messages, want %d", user, len(msgs), n)
	}
	return nil
}

func (s *scenario) kefuReceivedImage(user string) error {
	msgs, err := s.kefuInbox(user, 1)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.MsgType == "image" && m.Data["media_id"] == s.mediaID {
			return nil
		}
	}
	return fmt.Errorf("%s has no image message with media_id %s among %+v", user, s.mediaID, msgs)
}

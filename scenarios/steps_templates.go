package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

// Steps of features/template_management.feature: a backend manages its
// templates through the platform's own API (Douyin add_app_tpl, Baidu
// templateadd), checks a user's subscription (Douyin query_user_subscribe)
// and an image (Douyin censor/image), and sends with a JSON body
// (Kuaishou).

// addedTemplate is a template the scenario made through the platform's
// API: its id and its data keys in order.
type addedTemplate struct {
	id   string
	keys []string
}

func (s *scenario) registerTemplates(sc *godog.ScenarioContext) {
	sc.Step(`^I add the public template (\d+) with the keywords "([^"]*)" through the platform's template API$`, s.douyinAddTemplate)
	sc.Step(`^I add the library title "([^"]+)" with the keywords (\d+(?: and \d+)*) through the platform's template API$`, s.baiduAddTemplate)
	sc.Step(`^the mock lists the new template among the app's templates$`, s.mockListsAdded)
	sc.Step(`^(\w+) subscribes to the new template once$`, s.subscribesToAdded)
	sc.Step(`^the platform reports (\w+) (subscribed once|not subscribed) to the new template$`, s.reportsSubscription)
	sc.Step(`^I send (\w+) a message with the new template directly to the platform$`, s.sendWithAdded)
	sc.Step(`^I send (\w+) a message with a JSON body directly to the platform$`, s.sendJSON)
	sc.Step(`^the platform's content rules hold the image "([^"]+)" as risky$`, s.riskyImage)
	sc.Step(`^I ask the platform's image check about "([^"]+)"$`, s.checkImage)
	sc.Step(`^the platform judges the image (risky|clean)$`, s.imageJudged)
}

// tokenOn returns the app's token, checking the app is on platform.
func (s *scenario) tokenOn(platform string) (*app, string, error) {
	a, err := s.app()
	if err != nil {
		return nil, "", err
	}
	if a.spec.name != platform {
		return nil, "", fmt.Errorf("this step is about %s's API: the app is on %s", platform, a.spec.name)
	}
	t, err := s.token(a)
	return a, t, err
}

func (s *scenario) douyinAddTemplate(id int64, keywords string) error {
	_, tok, err := s.tokenOn("douyin")
	if err != nil {
		return err
	}
	keys := strings.Fields(keywords)
	msgID, ans, err := s.directClient().DouyinAddAppTemplate(s.ctx, tok, id, keys)
	if err != nil {
		return err
	}
	if !ans.OK {
		return fmt.Errorf("add_app_tpl answered %v: %s", ans, ans.Body)
	}
	s.added = &addedTemplate{id: msgID, keys: keys}
	return nil
}

func (s *scenario) baiduAddTemplate(id, list string) error {
	_, tok, err := s.tokenOn("baidu")
	if err != nil {
		return err
	}
	var kids []int
	var keys []string
	for i, f := range strings.Split(list, " and ") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return err
		}
		kids = append(kids, n)
		keys = append(keys, "keyword"+strconv.Itoa(i+1)) // Baidu keys a template's keywords by position
	}
	tid, ans, err := s.directClient().BaiduAddTemplate(s.ctx, tok, id, kids)
	if err != nil {
		return err
	}
	if !ans.OK {
		return fmt.Errorf("templateadd answered %v: %s", ans, ans.Body)
	}
	s.added = &addedTemplate{id: tid, keys: keys}
	return nil
}

func (s *scenario) addedOrErr() (*addedTemplate, error) {
	if s.added == nil {
		return nil, errors.New("no template was added through the platform's API")
	}
	return s.added, nil
}

func (s *scenario) mockListsAdded() error {
	a, err := s.app()
	if err != nil {
		return err
	}
	t, err := s.addedOrErr()
	if err != nil {
		return err
	}
	tmpls, err := s.mock().Templates(s.ctx, a.spec.name, a.appID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(tmpls, func(m mockapi.Template) bool { return m.TemplateID == t.id })
	if i < 0 {
		return fmt.Errorf("GET /_mock/templates does not list %s", t.id)
	}
	if !slices.Equal(tmpls[i].Keywords, t.keys) {
		return fmt.Errorf("the mock lists %s with the keywords %v, want %v", t.id, tmpls[i].Keywords, t.keys)
	}
	return nil
}

func (s *scenario) subscribesToAdded(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	t, err := s.addedOrErr()
	if err != nil {
		return err
	}
	_, err = s.mock().Grant(s.ctx, mockapi.Grant{Platform: a.spec.name, AppID: a.appID, OpenID: a.userID(user), TemplateID: t.id, Count: 1})
	return err
}

func (s *scenario) reportsSubscription(user, how string) error {
	a, tok, err := s.tokenOn("douyin")
	if err != nil {
		return err
	}
	t, err := s.addedOrErr()
	if err != nil {
		return err
	}
	status, ans, err := s.directClient().DouyinSubscription(s.ctx, tok, t.id, a.userID(user))
	if err != nil {
		return err
	}
	want := map[string]int{"subscribed once": 1, "not subscribed": 0}[how]
	if !ans.OK || status != want {
		return fmt.Errorf("query_user_subscribe answered %v with subscribe_status %d, want %d: %s", ans, status, want, ans.Body)
	}
	return nil
}

// sendWithAdded sends with the added template: the marker in its first
// keyword, a sample value in the others.
func (s *scenario) sendWithAdded(user string) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	t, err := s.addedOrErr()
	if err != nil {
		return err
	}
	tok, err := s.token(a)
	if err != nil {
		return err
	}
	m := &sent{app: a, user: user, marker: s.marker()}
	s.lastTo[user] = m
	data := map[string]string{}
	for i, k := range t.keys {
		data[k] = "样例" + strconv.Itoa(i)
	}
	data[t.keys[0]] = "order " + m.marker
	a.markerKey = t.keys[0]
	return s.directSendMessage(a, tok, direct.Message{To: a.userID(user), TemplateID: t.id, Data: data, Page: page,
		SubscribeID: subscribeID(m.marker)})
}

func (s *scenario) sendJSON(user string) error {
	a, tok, err := s.tokenOn("kuaishou")
	if err != nil {
		return err
	}
	ans, err := s.directClient().KuaishouSendJSON(s.ctx, a.direct, tok, s.directMessage(a, user, nil))
	if err != nil {
		return err
	}
	s.answer = ans
	s.answers = append(s.answers, ans)
	return nil
}

// riskyImage checks the world's content rules hold the image: the world
// sets them once (world.go), since a scenario changing them would change
// them for every scenario sharing the mock.
func (s *scenario) riskyImage(link string) error {
	rules, err := s.mock().ContentRules(s.ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(rules.RiskyImages, link) {
		return fmt.Errorf("the mock's content rules do not hold %s among the risky images (%v)", link, rules.RiskyImages)
	}
	return nil
}

func (s *scenario) checkImage(link string) error {
	a, tok, err := s.tokenOn("douyin")
	if err != nil {
		return err
	}
	risky, ans, err := s.directClient().DouyinImageRisky(s.ctx, a.direct, tok, link)
	if err != nil {
		return err
	}
	if !ans.OK {
		return fmt.Errorf("censor/image answered %v: %s", ans, ans.Body)
	}
	s.risky = risky
	return nil
}

func (s *scenario) imageJudged(verdict string) error {
	if s.risky != (verdict == "risky") {
		return fmt.Errorf("the platform judged the image risky=%v, want %s", s.risky, verdict)
	}
	return nil
}

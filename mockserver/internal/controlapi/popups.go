package controlapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Popup rules of wx.requestSubscribeMessage and tt.requestSubscribeMessage
// ("最多支持传入三个 tmplId"; "一次性模板 id 和永久模板 id 不可同时使用"),
// applied on every platform (Alipay's my.requestSubscribeMessage takes up
// to 3 as well).
const (
	maxPopupTemplates = 3
	maxPopupTimes     = 100
)

// AnswerPopup is a user answering a subscribe popup: each accepted one-time
// template gives one send credit, an accepted long-term template a
// long-term grant, a rejected template ends the grant (sends answer the
// not-subscribed code until the user accepts again). WeChat then pushes
// subscribe_msg_popup_event and Douyin user_subscribe_action to the app's
// push URL; the other platforms push nothing. Times repeats the answer.
func (a *API) AnswerPopup(req mockapi.Popup) (mockapi.UserActionResult, error) {
	out := mockapi.UserActionResult{Grants: []mockapi.GrantState{}, Pushes: []string{}}
	if _, err := a.platformApp(req.Platform, req.AppID); err != nil {
		return out, err
	}
	if strings.TrimSpace(req.OpenID) == "" {
		return out, bad("openid", "openid is required: the user who answered")
	}
	times := req.Times
	switch {
	case times == 0:
		times = 1
	case times < 0 || times > maxPopupTimes:
		return out, bad("times", "times must be between 1 and %d", maxPopupTimes)
	}
	answers, err := a.popupAnswers(req)
	if err != nil {
		return out, err
	}
	p, pushes := a.platforms[req.Platform].(Pusher)
	for range times {
		for _, ans := range answers {
			if ans.Accept {
				count := 1
				if ans.LongTerm {
					count = 0
				}
				if _, err := a.env.Store.Grant(req.Platform, req.AppID, req.OpenID, ans.TemplateID, count, ans.LongTerm); err != nil {
					return out, err
				}
			} else if _, err := a.env.Store.Reject(req.Platform, req.AppID, req.OpenID, ans.TemplateID); err != nil {
				return out, err
			}
		}
		if pushes {
			out.Pushes = append(out.Pushes, a.enqueue(p.PopupEvents(req.AppID, req.OpenID, answers))...)
		}
	}
	if g := a.env.Store.Grants(req.Platform, req.AppID, req.OpenID); g != nil {
		out.Grants = g
	}
	return out, nil
}

// popupAnswers checks the templates of a popup: known, each once, at most
// three, not one-time and long-term together.
func (a *API) popupAnswers(req mockapi.Popup) ([]push.Answer, error) {
	if len(req.Accept)+len(req.Reject) == 0 {
		return nil, bad("accept", "accept or reject must list the templates the user answered")
	}
	if n := len(req.Accept) + len(req.Reject); n > maxPopupTemplates {
		return nil, bad("accept", "a popup shows at most %d templates, got %d", maxPopupTemplates, n)
	}
	seen := map[string]string{}
	var answers []push.Answer
	kinds := map[bool]string{}
	add := func(list string, ids []string, accept bool) error {
		for i, id := range ids {
			field := fmt.Sprintf("%s[%d]", list, i)
			if prev, ok := seen[id]; ok {
				return bad(field, "template %q is already answered as %s", id, prev)
			}
			seen[id] = field
			t, ok := a.env.Store.Template(req.Platform, req.AppID, id)
			if !ok {
				return notFound(field, "template %q is not a template of %s app %s", id, req.Platform, req.AppID)
			}
			if other, ok := kinds[!t.LongTerm]; ok {
				return bad(field, "a popup cannot mix one-time and long-term templates (%s is the other kind)", other)
			}
			kinds[t.LongTerm] = field
			answers = append(answers, push.Answer{TemplateID: id, LongTerm: t.LongTerm, Accept: accept})
		}
		return nil
	}
	if err := add("accept", req.Accept, true); err != nil {
		return nil, err
	}
	if err := add("reject", req.Reject, false); err != nil {
		return nil, err
	}
	return answers, nil
}

// POST /_mock/popups {"platform","app_id","openid","accept":[…],"reject":[…],"times":N}
func (a *API) postPopup(w http.ResponseWriter, r *http.Request) {
	var req mockapi.Popup
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	out, err := a.AnswerPopup(req)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pushSettingsOff queues what the platform pushes when a user switches a
// template off in the settings.
func (a *API) pushSettingsOff(platformName, appID, openID, templateID string) []string {
	p, ok := a.platforms[platformName].(Pusher)
	if !ok {
		return nil
	}
	longTerm := false
	if t, ok := a.env.Store.Template(platformName, appID, templateID); ok {
		longTerm = t.LongTerm
	}
	return a.enqueue(p.SettingsEvents(appID, openID, templateID, longTerm))
}

// pushPopupReject queues the popup event of a single rejection.
func (a *API) pushPopupReject(platformName, appID, openID string, t *store.Template) []string {
	p, ok := a.platforms[platformName].(Pusher)
	if !ok {
		return nil
	}
	return a.enqueue(p.PopupEvents(appID, openID, []push.Answer{{TemplateID: t.ID, LongTerm: t.LongTerm}}))
}

package ui

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Subscription states as the page shows them.
const (
	stateOneTime  = "one-time"
	stateLongTerm = "long-term"
	stateRejected = "rejected"
	stateNone     = "not subscribed"
)

// subscription is one template of the app and where the user stands
// with it.
type subscription struct {
	Template  mockapi.Template
	LongTerm  bool // the template's type
	State     string
	Remaining int
	Keywords  []row // labels, for the popup
}

// Subscribed reports whether sends to the user can pass now.
func (s subscription) Subscribed() bool {
	return s.State == stateLongTerm || (s.State == stateOneTime && s.Remaining > 0)
}

type subscriptionsData struct {
	Subs []subscription
}

func (u *UI) subscriptionsPage(w http.ResponseWriter, r *http.Request) {
	u.renderSubscriptions(w, r, http.StatusOK, nil, nil)
}

func (u *UI) renderSubscriptions(w http.ResponseWriter, r *http.Request, status int, form url.Values, ferr *formError) {
	p := u.newPage(r, "Subscriptions", "subscriptions")
	p.Form, p.Error = form, ferr
	p.Sel = u.selection(selectionQuery(r, form))
	var d subscriptionsData
	if p.Sel.OpenID != "" {
		d.Subs = u.subscriptions(p.Sel.Platform, p.Sel.AppID, p.Sel.OpenID)
	}
	p.Data = d
	u.render(w, status, "subscriptions", p)
}

// subscriptions reads a user's state for every template of the app from
// the control API: the grants and the rejections of GET /_mock/grants.
func (u *UI) subscriptions(platformName, appID, openID string) []subscription {
	templates, err := u.ctl.Templates(platformName, appID)
	if err != nil {
		return nil
	}
	grants, rejected, _ := u.ctl.Grants(platformName, appID, openID)
	out := make([]subscription, 0, len(templates))
	for _, t := range templates {
		s := subscription{Template: t, LongTerm: t.Type == mockapi.TemplateLongTerm, State: stateNone}
		for _, k := range t.Keywords {
			s.Keywords = append(s.Keywords, row{Label: label(t.KeywordNames, k), Key: k})
		}
		if slices.ContainsFunc(rejected, func(x mockapi.Rejection) bool { return x.TemplateID == t.TemplateID }) {
			s.State = stateRejected
		}
		for _, g := range grants {
			if g.TemplateID != t.TemplateID {
				continue
			}
			s.Remaining = g.Remaining
			s.State = stateOneTime
			if g.LongTerm {
				s.State = stateLongTerm
			}
		}
		out = append(out, s)
	}
	return out
}

// postPopup is the user answering a subscribe popup
// (wx.requestSubscribeMessage and its equivalents): the control API's
// AnswerPopup, as POST /_mock/popups — each accepted template adds one
// one-time credit (or the long-term grant of a long-term template), each
// rejected one ends the subscription until the next accept, and where the
// platform pushes (WeChat subscribe_msg_popup_event, Douyin
// user_subscribe_action) the app's push URL gets the event. The popup's
// rules hold: at most three templates, not one-time and long-term together.
func (u *UI) postPopup(r *http.Request) (string, string, error) {
	f := r.PostForm
	sel := url.Values{"platform": {f.Get("platform")}, "app_id": {f.Get("app_id")}, "openid": {f.Get("openid")}}
	next := Prefix + "/" + returnPage(f) + "?" + sel.Encode()
	accept, reject := f["accept"], f["reject"]
	for key, vals := range f { // the popup's radio groups: answer.<template>=accept|reject
		id, ok := strings.CutPrefix(key, "answer.")
		if !ok || len(vals) == 0 {
			continue
		}
		switch vals[0] {
		case "accept":
			accept = append(accept, id)
		case "reject":
			reject = append(reject, id)
		default:
			return "", "", &fieldErr{field: "answer", msg: "answer for " + id + " must be accept or reject"}
		}
	}
	sort.Strings(accept) // map order: keep the answer's order stable
	sort.Strings(reject)
	if len(accept) == 0 && len(reject) == 0 {
		return "", "", &fieldErr{field: "answer", msg: "the popup needs an answer: accept or reject at least one template"}
	}
	res, err := u.ctl.AnswerPopup(mockapi.Popup{Platform: f.Get("platform"), AppID: f.Get("app_id"), OpenID: f.Get("openid"),
		Accept: accept, Reject: reject})
	if err != nil {
		return "", "", err
	}
	notice := "answered"
	switch {
	case len(reject) == 0:
		notice = "accepted"
	case len(accept) == 0:
		notice = "rejected"
	}
	if len(res.Pushes) > 0 {
		notice += "-pushed"
	}
	return next, notice, nil
}

// postSwitchOff is the user turning a template off in the mini-program's
// subscription settings: the control API's RevokeGrant, as DELETE
// /_mock/grants, which also pushes the platform's event where it has one
// (WeChat subscribe_msg_change_event).
func (u *UI) postSwitchOff(r *http.Request) (string, string, error) {
	f := r.PostForm
	if err := u.ctl.RevokeGrant(f.Get("platform"), f.Get("app_id"), f.Get("openid"), f.Get("template_id")); err != nil {
		return "", "", err
	}
	sel := url.Values{"platform": {f.Get("platform")}, "app_id": {f.Get("app_id")}, "openid": {f.Get("openid")}}
	return Prefix + "/" + returnPage(f) + "?" + sel.Encode(), "switched-off", nil
}

// returnPage is the page a form came from, among those that post.
func returnPage(f url.Values) string {
	switch p := f.Get("page"); p {
	case "phone", "journal", "control":
		return p
	}
	return "subscriptions"
}

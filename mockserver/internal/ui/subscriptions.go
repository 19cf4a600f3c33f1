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
// (wx.requestSubscribeMessage and its equivalents): each accepted template
// adds one one-time credit (or the long-term grant of a long-term
// template); each rejected one ends the subscription until the next
// accept. It changes the grants through the same control API functions
// POST and DELETE /_mock/grants use.
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
	sort.Strings(accept) // map order: keep the grants' order stable
	sort.Strings(reject)
	if len(accept) == 0 && len(reject) == 0 {
		return "", "", &fieldErr{field: "answer", msg: "the popup needs an answer: accept or reject at least one template"}
	}
	for _, id := range reject {
		if slices.Contains(accept, id) {
			return "", "", &fieldErr{field: "answer", msg: "template " + id + " is both accepted and rejected"}
		}
	}
	longTerm := map[string]bool{}
	if ts, err := u.ctl.Templates(f.Get("platform"), f.Get("app_id")); err == nil {
		for _, t := range ts {
			longTerm[t.TemplateID] = t.Type == mockapi.TemplateLongTerm
		}
	}
	for _, id := range accept {
		g := mockapi.Grant{Platform: f.Get("platform"), AppID: f.Get("app_id"), OpenID: f.Get("openid"), TemplateID: id, Count: 1}
		if longTerm[id] {
			g.Count, g.LongTerm = 0, true
		}
		if _, err := u.ctl.AddGrant(g); err != nil {
			return "", "", err
		}
	}
	for _, id := range reject {
		if err := u.ctl.RejectTemplate(f.Get("platform"), f.Get("app_id"), f.Get("openid"), id); err != nil {
			return "", "", err
		}
	}
	switch {
	case len(reject) == 0:
		return next, "accepted", nil
	case len(accept) == 0:
		return next, "rejected", nil
	}
	return next, "answered", nil
}

// postSwitchOff is the user turning a template off in the mini-program's
// subscription settings: DELETE /_mock/grants.
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

package ui

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// phoneMessages is how many of a user's newest messages the phone shows.
const phoneMessages = 50

// Phone views: the service-notification list, the customer-service
// conversation with the app, and the app's updatable messages.
const (
	viewNotifications = "notifications"
	viewKefu          = "kefu"
	viewActivities    = "activities"
)

// card is one delivered message as the user's phone shows it.
type card struct {
	ID       string
	Kind     string // mockapi.Kind…: a subscribe card, a customer-service bubble, or any other kind listed plainly
	MsgType  string // a customer-service message's type (text, image, link, miniprogrampage)
	Platform platformInfo
	AppID    string
	Title    string
	Template string
	Rows     []row
	Page     string
	State    string // 开发版 / 体验版 for messages sent to those versions
	Time     string // as the phone shows it
	Full     string // the exact time (tooltip)
}

type row struct{ Label, Key, Value string }

type phoneData struct {
	View       string
	Views      []phoneView
	Cards      []card
	Total      int
	Stream     string
	Kefu       []mockapi.KefuWindow // the user's customer-service window (kefu view)
	Activities []mockapi.Activity   // the app's updatable messages (activities view)
}

// phoneView is a tab of the phone: which conversation it shows.
type phoneView struct {
	Name, Label string
	Active      bool
}

func (u *UI) phonePage(w http.ResponseWriter, r *http.Request) {
	u.renderPhone(w, r, http.StatusOK, nil, nil)
}

func (u *UI) renderPhone(w http.ResponseWriter, r *http.Request, status int, form url.Values, ferr *formError) {
	p := u.newPage(r, "Phone", "phone")
	p.Form, p.Error = form, ferr
	p.Sel = u.selection(selectionQuery(r, form))
	d := phoneData{View: selectionQuery(r, form).Get("view")}
	_, kefuErr := u.ctl.KefuSessions(p.Sel.Platform, p.Sel.AppID, "")
	_, actErr := u.ctl.Activities(p.Sel.Platform, p.Sel.AppID)
	views := []phoneView{{Name: viewNotifications, Label: p.Sel.Info.Inbox}}
	if kefuErr == nil {
		views = append(views, phoneView{Name: viewKefu, Label: "客服消息"})
	}
	if actErr == nil {
		views = append(views, phoneView{Name: viewActivities, Label: "动态消息"})
	}
	if !slices.ContainsFunc(views, func(v phoneView) bool { return v.Name == d.View }) {
		d.View = viewNotifications
	}
	for _, v := range views {
		v.Active = v.Name == d.View
		d.Views = append(d.Views, v)
	}
	kind := mockapi.KindSubscribe
	switch d.View {
	case viewKefu:
		kind = mockapi.KindCustomerService
		d.Kefu, _ = u.ctl.KefuSessions(p.Sel.Platform, p.Sel.AppID, p.Sel.OpenID)
	case viewActivities:
		d.Activities, _ = u.ctl.Activities(p.Sel.Platform, p.Sel.AppID)
	}
	if p.Sel.OpenID != "" && d.View != viewActivities {
		f := controlapi.MessageFilter{Platform: p.Sel.Platform, AppID: p.Sel.AppID, OpenID: p.Sel.OpenID, Kind: kind}
		msgs, cur := u.env.Inbox.Tail(f.Match, phoneMessages)
		now := u.ctl.Clock().Now
		for i := range msgs {
			d.Cards = append(d.Cards, u.card(&msgs[i], now))
		}
		d.Total = len(msgs)
		d.Stream = Prefix + "/events/inbox?" + streamQuery(url.Values{
			"platform": {p.Sel.Platform}, "app_id": {p.Sel.AppID}, "openid": {p.Sel.OpenID}, "kind": {kind}}, cur)
	}
	p.Data = d
	u.render(w, status, "phone", p)
}

// selectionQuery is the selection a page shows: the query, or after a
// failed post the form's fields.
func selectionQuery(r *http.Request, form url.Values) url.Values {
	if form != nil {
		return form
	}
	return r.URL.Query()
}

// card builds the view of a message: the template's title and keyword
// labels in the template's order (keys the template does not know follow,
// sorted), the jump page and the time as the platform's app shows it.
func (u *UI) card(m *mockapi.Message, now time.Time) card {
	c := card{ID: m.ID, Kind: m.Kind, MsgType: m.MsgType, Platform: infoOf(m.Platform), AppID: m.AppID, Title: m.TemplateID,
		Template: m.TemplateID, Page: m.Page, Time: phoneTime(m.ReceivedAt, now), Full: m.ReceivedAt.In(beijing).Format(time.RFC3339)}
	if c.Kind == "" {
		c.Kind = mockapi.KindSubscribe
	}
	switch m.State {
	case "developer":
		c.State = "开发版"
	case "trial":
		c.State = "体验版"
	}
	var order []string
	names := map[string]string{}
	if c.Kind == mockapi.KindCustomerService {
		// The fields of each message type, in the order the chat shows them.
		order = []string{"content", "title", "description", "url", "pagepath", "media_id", "thumb_media_id", "thumb_url"}
	} else if ts, err := u.ctl.Templates(m.Platform, m.AppID); err == nil {
		for _, t := range ts {
			if t.TemplateID == m.TemplateID {
				c.Title = t.Title
				order, names = t.Keywords, t.KeywordNames
				break
			}
		}
	}
	seen := map[string]bool{}
	for _, k := range order {
		if v, ok := m.Data[k]; ok {
			c.Rows = append(c.Rows, row{Label: label(names, k), Key: k, Value: v})
			seen[k] = true
		}
	}
	var rest []string
	for k := range m.Data {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		c.Rows = append(c.Rows, row{Label: label(names, k), Key: k, Value: m.Data[k]})
	}
	return c
}

func label(names map[string]string, key string) string {
	if n := names[key]; n != "" {
		return n
	}
	return key
}

// phoneTime is a time as a phone's message list writes it: the time alone
// today, month and day this year, the full date before.
func phoneTime(t, now time.Time) string {
	t, now = t.In(beijing), now.In(beijing)
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("1月2日 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

// streamQuery adds the cursor a live stream starts from.
func streamQuery(q url.Values, c ring.Cursor) string {
	q.Set("since", formatCursor(c))
	return q.Encode()
}

// Field returns the value of a row (a customer-service message's field).
func (c card) Field(key string) string {
	for _, r := range c.Rows {
		if r.Key == key {
			return r.Value
		}
	}
	return ""
}

// postKefu is the user writing to the app's customer service, or entering
// the session (the control API's OpenKefuSession, as POST
// /_mock/kefu/sessions): the app may then reply, and with push settings
// the app's server gets the user's text or the session entry.
func (u *UI) postKefu(r *http.Request) (string, string, error) {
	f := r.PostForm
	if _, err := u.ctl.OpenKefuSession(mockapi.KefuSession{Platform: f.Get("platform"), AppID: f.Get("app_id"),
		OpenID: f.Get("openid"), Trigger: f.Get("trigger"), Text: f.Get("text")}); err != nil {
		return "", "", err
	}
	sel := url.Values{"platform": {f.Get("platform")}, "app_id": {f.Get("app_id")}, "openid": {f.Get("openid")}, "view": {viewKefu}}
	return Prefix + "/phone?" + sel.Encode(), "kefu-" + f.Get("trigger"), nil
}

func (u *UI) postClearInbox(r *http.Request) (string, string, error) {
	u.ctl.ClearMessages()
	return Prefix + "/phone?" + string(u.selection(r.PostForm).Query()), "inbox-cleared", nil
}

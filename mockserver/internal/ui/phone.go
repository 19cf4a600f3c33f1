package ui

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// phoneMessages is how many of a user's newest messages the phone shows.
const phoneMessages = 50

// card is one delivered message as the user's phone shows it.
type card struct {
	ID       string
	Kind     string // "subscribe" today; customer-service and other kinds render generically
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
	Cards  []card
	Total  int
	Stream string
}

func (u *UI) phonePage(w http.ResponseWriter, r *http.Request) {
	u.renderPhone(w, r, http.StatusOK, nil, nil)
}

func (u *UI) renderPhone(w http.ResponseWriter, r *http.Request, status int, form url.Values, ferr *formError) {
	p := u.newPage(r, "Phone", "phone")
	p.Form, p.Error = form, ferr
	p.Sel = u.selection(selectionQuery(r, form))
	d := phoneData{}
	if p.Sel.OpenID != "" {
		f := controlapi.MessageFilter{Platform: p.Sel.Platform, AppID: p.Sel.AppID, OpenID: p.Sel.OpenID}
		msgs, cur := u.env.Inbox.Tail(f.Match, phoneMessages)
		now := u.ctl.Clock().Now
		for i := range msgs {
			d.Cards = append(d.Cards, u.card(&msgs[i], now))
		}
		d.Total = len(msgs)
		d.Stream = Prefix + "/events/inbox?" + streamQuery(url.Values{
			"platform": {p.Sel.Platform}, "app_id": {p.Sel.AppID}, "openid": {p.Sel.OpenID}}, cur)
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
	c := card{ID: m.ID, Kind: "subscribe", Platform: infoOf(m.Platform), AppID: m.AppID, Title: m.TemplateID,
		Template: m.TemplateID, Page: m.Page, Time: phoneTime(m.ReceivedAt, now), Full: m.ReceivedAt.In(beijing).Format(time.RFC3339)}
	switch m.State {
	case "developer":
		c.State = "开发版"
	case "trial":
		c.State = "体验版"
	}
	var order []string
	names := map[string]string{}
	if ts, err := u.ctl.Templates(m.Platform, m.AppID); err == nil {
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

func (u *UI) postClearInbox(r *http.Request) (string, string, error) {
	u.ctl.ClearMessages()
	return Prefix + "/phone?" + string(u.selection(r.PostForm).Query()), "inbox-cleared", nil
}

package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// platformInfo is how the UI shows a platform: its name, and the words its
// app uses in the service-notification list.
type platformInfo struct {
	Name    string // control API name
	Label   string // as users know it
	English string
	Inbox   string // the conversation that holds service notifications
	Jump    string // the link at the foot of a card with a page
}

// platformInfos lists the platforms in the order users know them. The
// inbox titles and link words follow the apps' Chinese UIs; the mock draws
// look-alikes, not the platforms' pixels.
var platformInfos = []platformInfo{
	{"wechat", "微信", "WeChat", "服务通知", "进入小程序查看"},
	{"alipay", "支付宝", "Alipay", "服务提醒", "查看详情"},
	{"douyin", "抖音", "Douyin", "小程序通知", "查看详情"},
	{"kuaishou", "快手", "Kuaishou", "服务通知", "查看详情"},
	{"baidu", "百度", "Baidu", "服务通知", "查看详情"},
}

func infoOf(name string) platformInfo {
	for _, p := range platformInfos {
		if p.Name == name {
			return p
		}
	}
	return platformInfo{Name: name, Label: name, English: name, Inbox: "Notifications", Jump: "Open"}
}

// beijing is the time zone the platforms show times in (fixed UTC+8, so
// the binary needs no tzdata: the container image is FROM scratch).
var beijing = time.FixedZone("CST", 8*3600)

// page is what every page template gets.
type page struct {
	Title  string
	Nav    string
	CSRF   string
	Now    string
	Offset string
	Sel    selection
	Notice string
	Error  *formError
	Form   url.Values
	Data   any
}

// Value is the form value the user typed (after a failed post) or def.
func (p page) Value(name, def string) string {
	if p.Form != nil {
		if _, ok := p.Form[name]; ok {
			return p.Form.Get(name)
		}
	}
	return def
}

// Bad reports whether the error names field (to mark the input).
func (p page) Bad(field string) bool {
	return p.Error != nil && p.Error.Field != "" && (p.Error.Field == field || strings.HasPrefix(p.Error.Field, field+"["))
}

// notices are the texts a redirect may ask a page to show: fixed, so a
// link cannot make the UI say anything else.
var notices = map[string]string{
	"accepted":        "Done: the user accepted in the popup.",
	"rejected":        "Done: the user rejected in the popup; sends answer the not-subscribed code until they accept again.",
	"answered":        "Done: the user answered the popup.",
	"accepted-pushed": "Done: the user accepted in the popup; the platform's event was pushed to the app (GET /_mock/pushes).",
	"rejected-pushed": "Done: the user rejected in the popup (sends answer the not-subscribed code until they accept again); the platform's event was pushed to the app (GET /_mock/pushes).",
	"answered-pushed": "Done: the user answered the popup; the platform's event was pushed to the app (GET /_mock/pushes).",
	"switched-off":    "Done: the user switched the template off in settings.",
	"inbox-cleared":   "The inbox is empty.",
	"kefu-message":    "Done: the user wrote to customer service; the app may reply (WeChat: 5 replies within 48 hours).",
	"kefu-enter":      "Done: the user entered the customer-service session; the app may reply (WeChat: 2 replies within a minute).",
	"kefu-":           "Done: the user wrote to customer service; the app may reply.",
	"journal-clear":   "The journal is empty.",
	"fault-added":     "Fault added: matching calls misbehave from now on.",
	"fault-deleted":   "Fault deleted.",
	"faults-clear":    "Every fault is deleted.",
	"clock":           "The clock moved.",
	"rules":           "Content rules saved.",
	"quota":           "Quota saved.",
	"usage-clear":     "Usage cleared.",
	"reset":           "Everything is back to the seed.",
}

// selection is the platform → app → user the pages show, with the
// choices for the pickers.
type selection struct {
	Platform, AppID, OpenID string
	Platforms               []platformTab
	Apps                    []string
	Users                   []string
	Info                    platformInfo
}

type platformTab struct {
	platformInfo
	Apps   int
	Active bool
}

// Query is the selection as a query string for links between pages
// (template.URL: it is encoded here, by url.Values, and must not be
// encoded twice by the template).
func (s selection) Query() template.URL {
	q := url.Values{}
	if s.Platform != "" {
		q.Set("platform", s.Platform)
	}
	if s.AppID != "" {
		q.Set("app_id", s.AppID)
	}
	if s.OpenID != "" {
		q.Set("openid", s.OpenID)
	}
	return template.URL(q.Encode())
}

// PlatformQuery links to another platform, keeping nothing else.
func (s selection) PlatformQuery(name string) template.URL {
	return template.URL(url.Values{"platform": {name}}.Encode())
}

// select_ resolves what the query asks for against what exists: an unknown
// or missing platform, app or user falls back to the first there is, so
// every link lands somewhere sensible.
func (u *UI) selection(q url.Values) selection {
	apps := u.ctl.Apps()
	byPlatform := map[string][]string{}
	for _, a := range apps {
		byPlatform[a.Platform] = append(byPlatform[a.Platform], a.AppID)
	}
	var s selection
	names := u.ctl.Platforms()
	ordered := make([]string, 0, len(names))
	for _, p := range platformInfos {
		if slices.Contains(names, p.Name) {
			ordered = append(ordered, p.Name)
		}
	}
	for _, n := range names {
		if !slices.Contains(ordered, n) {
			ordered = append(ordered, n)
		}
	}
	s.Platform = q.Get("platform")
	if !slices.Contains(ordered, s.Platform) {
		s.Platform = ""
		for _, n := range ordered { // the first platform with an app
			if len(byPlatform[n]) > 0 {
				s.Platform = n
				break
			}
		}
		if s.Platform == "" && len(ordered) > 0 {
			s.Platform = ordered[0]
		}
	}
	for _, n := range ordered {
		s.Platforms = append(s.Platforms, platformTab{platformInfo: infoOf(n), Apps: len(byPlatform[n]), Active: n == s.Platform})
	}
	s.Info = infoOf(s.Platform)
	s.Apps = byPlatform[s.Platform]
	s.AppID = q.Get("app_id")
	if !slices.Contains(s.Apps, s.AppID) {
		s.AppID = ""
		if len(s.Apps) > 0 {
			s.AppID = s.Apps[0]
		}
	}
	if s.AppID != "" {
		s.Users, _ = u.ctl.Users(s.Platform, s.AppID)
	}
	s.OpenID = q.Get("openid")
	if !slices.Contains(s.Users, s.OpenID) {
		s.OpenID = ""
		if len(s.Users) > 0 {
			s.OpenID = s.Users[0]
		}
	}
	return s
}

// newPage fills what every page shows.
func (u *UI) newPage(r *http.Request, title, nav string) page {
	c := u.ctl.Clock()
	p := page{Title: title, Nav: nav, CSRF: u.csrfToken, Now: c.Now.In(beijing).Format("2006-01-02 15:04:05"),
		Notice: notices[r.URL.Query().Get("notice")]}
	if off := time.Duration(c.Offset); off != 0 {
		p.Offset = formatOffset(off)
	}
	return p
}

func formatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := d.String() // "2h0m0s"
	if d >= time.Minute {
		s = strings.TrimSuffix(s, "0s")
	}
	if d >= time.Hour {
		s = strings.TrimSuffix(s, "0m")
	}
	if days > 0 {
		if d == 0 {
			s = ""
		}
		return fmt.Sprintf("%s%dd%s", sign, days, s)
	}
	return sign + s
}

// render executes a page's template into a buffer first, so a template
// error answers 500 instead of half a page.
func (u *UI) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := u.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		u.log.Error("ui: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError answers a page that says what went wrong.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := u.newPage(r, http.StatusText(status), "")
	if u.authorized(r) { // a stranger learns no app or user from the links
		p.Sel = u.selection(r.URL.Query())
	}
	p.Error = &formError{Message: msg}
	u.render(w, status, "error", p)
}

// fragment renders one named partial (a card, a journal row) for a live
// event.
func (u *UI) fragment(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := u.pages["partials"].ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

var pageNames = []string{"phone", "subscriptions", "journal", "control", "error", "login"}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("ui templates: %w", err)
	}
	out["partials"] = base
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"beijing": func(t time.Time) string { return t.In(beijing).Format("2006-01-02 15:04:05.000") },
	"rfc3339": func(t time.Time) string { return t.Format(time.RFC3339Nano) },
	"platformLabel": func(name string) string {
		i := infoOf(name)
		return i.Label + " " + i.English
	},
	"duration": func(d mockapi.Duration) string {
		if d == 0 {
			return ""
		}
		return time.Duration(d).String()
	},
}

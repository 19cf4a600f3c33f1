package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

type controlData struct {
	Stats     mockapi.Stats
	Clock     mockapi.Clock
	ClockNow  string // for the set field
	Faults    []mockapi.Fault
	Platforms []string
	Endpoints map[string][]string
	Rules     rulesText
	Apps      []mockapi.AppInfo
	QuotaApp  string // platform/app_id
	Quotas    []mockapi.QuotaUsage
	// QuotaEndpoint prefills the limit form: the app's first limited
	// endpoint.
	QuotaEndpoint string
}

// rulesText is the content rules as the form edits them: one word per
// line, "word | label" when it carries a label.
type rulesText struct{ Risky, Review, Images string }

func (u *UI) controlPage(w http.ResponseWriter, r *http.Request) {
	u.renderControl(w, r, http.StatusOK, nil, nil)
}

func (u *UI) renderControl(w http.ResponseWriter, r *http.Request, status int, form url.Values, ferr *formError) {
	p := u.newPage(r, "Control", "control")
	p.Form, p.Error = form, ferr
	q := r.URL.Query()
	p.Sel = u.selection(q)
	c := u.ctl.Clock()
	d := controlData{Stats: u.ctl.Stats(), Clock: c, ClockNow: c.Now.In(beijing).Format("2006-01-02 15:04:05"),
		Faults: u.ctl.Faults(), Platforms: u.ctl.Platforms(), Endpoints: map[string][]string{}, Apps: u.ctl.Apps()}
	for _, name := range d.Platforms {
		d.Endpoints[name] = u.ctl.Endpoints(name)
	}
	rules := u.ctl.ContentRules()
	d.Rules = rulesText{Risky: wordsText(rules.Risky), Review: wordsText(rules.Review), Images: strings.Join(rules.RiskyImages, "\n")}
	d.QuotaApp = q.Get("quota")
	if form != nil && form.Get("form") == "quota" {
		d.QuotaApp = form.Get("platform") + "/" + form.Get("app_id")
	}
	if d.QuotaApp == "" && p.Sel.AppID != "" {
		d.QuotaApp = p.Sel.Platform + "/" + p.Sel.AppID
	}
	if pl, app, ok := strings.Cut(d.QuotaApp, "/"); ok {
		d.Quotas, _ = u.ctl.Quotas(pl, app)
	}
	if len(d.Quotas) > 0 {
		d.QuotaEndpoint = d.Quotas[0].Endpoint
	}
	p.Data = d
	u.render(w, status, "control", p)
}

func wordsText(words []mockapi.ContentWord) string {
	lines := make([]string, 0, len(words))
	for _, w := range words {
		if w.Label != 0 {
			lines = append(lines, w.Word+" | "+strconv.Itoa(w.Label))
		} else {
			lines = append(lines, w.Word)
		}
	}
	return strings.Join(lines, "\n")
}

// parseWords reads the form's word list back.
func parseWords(field, text string) ([]mockapi.ContentWord, error) {
	var out []mockapi.ContentWord
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		word, lbl, hasLabel := strings.Cut(line, "|")
		w := mockapi.ContentWord{Word: strings.TrimSpace(word)}
		if hasLabel {
			n, err := strconv.Atoi(strings.TrimSpace(lbl))
			if err != nil {
				return nil, &fieldErr{field: field, msg: field + " line " + strconv.Itoa(i+1) + ": the label after | must be a number"}
			}
			w.Label = n
		}
		out = append(out, w)
	}
	return out, nil
}

func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// postFault injects a fault from the form, validated by the control
// API's AddFault like POST /_mock/faults.
func (u *UI) postFault(r *http.Request) (string, string, error) {
	f := r.PostForm
	fault := mockapi.Fault{Platform: f.Get("platform"), Endpoint: strings.TrimSpace(f.Get("endpoint")),
		AppID: strings.TrimSpace(f.Get("app_id")), OpenID: strings.TrimSpace(f.Get("openid"))}
	switch f.Get("action") {
	case "errcode":
		code, err := formInt(f, "errcode")
		if err != nil {
			return "", "", err
		}
		if strings.TrimSpace(f.Get("errcode")) == "" {
			return "", "", &fieldErr{field: "errcode", msg: "errcode is required for an error-code fault"}
		}
		fault.ErrCode, fault.ErrMsg = &code, f.Get("errmsg")
	case "http_status":
		n, err := formInt(f, "http_status")
		if err != nil {
			return "", "", err
		}
		fault.HTTPStatus = n
		if n == 0 {
			return "", "", &fieldErr{field: "http_status", msg: "http_status is required for an HTTP-status fault"}
		}
	case "drop":
		fault.Drop = true
	case "latency":
	default:
		return "", "", &fieldErr{field: "action", msg: "choose what the fault does: errcode, http_status, drop or latency only"}
	}
	if s := strings.TrimSpace(f.Get("latency")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", "", &fieldErr{field: "latency", msg: "latency must be a duration like 300ms or 2s, got " + strconv.Quote(s)}
		}
		fault.Latency = mockapi.Duration(d)
	}
	var err error
	if fault.Times, err = formInt(f, "times"); err != nil {
		return "", "", err
	}
	if s := strings.TrimSpace(f.Get("probability")); s != "" {
		if fault.Probability, err = strconv.ParseFloat(s, 64); err != nil {
			return "", "", &fieldErr{field: "probability", msg: "probability must be a number in (0,1], got " + strconv.Quote(s)}
		}
	}
	if s := strings.TrimSpace(f.Get("seed")); s != "" {
		if fault.Seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return "", "", &fieldErr{field: "seed", msg: "seed must be a whole number, got " + strconv.Quote(s)}
		}
	}
	if _, err := u.ctl.AddFault(fault); err != nil {
		return "", "", err
	}
	return Prefix + "/control#faults", "fault-added", nil
}

func (u *UI) postDeleteFault(r *http.Request) (string, string, error) {
	if err := u.ctl.RemoveFault(r.PostForm.Get("id")); err != nil {
		return "", "", err
	}
	return Prefix + "/control#faults", "fault-deleted", nil
}

func (u *UI) postClearFaults(*http.Request) (string, string, error) {
	u.ctl.ClearFaults()
	return Prefix + "/control#faults", "faults-clear", nil
}

// postClock advances the clock by a duration or sets it to a Beijing time
// (or any RFC 3339 time).
func (u *UI) postClock(r *http.Request) (string, string, error) {
	f := r.PostForm
	adv, set := strings.TrimSpace(f.Get("advance")), strings.TrimSpace(f.Get("set"))
	var err error
	switch {
	case f.Get("op") == "advance" && adv != "":
		d, perr := time.ParseDuration(adv)
		if perr != nil {
			return "", "", &fieldErr{field: "advance", msg: "advance must be a duration like 2h, 30m or -1h, got " + strconv.Quote(adv)}
		}
		_, err = u.ctl.AdvanceClock(d)
	case f.Get("op") == "set" && set != "":
		t, perr := time.Parse(time.RFC3339, set)
		if perr != nil {
			t, perr = time.ParseInLocation("2006-01-02 15:04:05", set, beijing)
		}
		if perr != nil {
			return "", "", &fieldErr{field: "set", msg: "set must be a Beijing time like 2026-01-01 09:00:00 (or RFC 3339), got " + strconv.Quote(set)}
		}
		_, err = u.ctl.SetClock(t)
	default:
		return "", "", &fieldErr{field: f.Get("op"), msg: "give a duration to advance by, or a time to set"}
	}
	if err != nil {
		return "", "", err
	}
	return Prefix + "/control#clock", "clock", nil
}

func (u *UI) postContentRules(r *http.Request) (string, string, error) {
	f := r.PostForm
	risky, err := parseWords("risky", f.Get("risky"))
	if err != nil {
		return "", "", err
	}
	review, err := parseWords("review", f.Get("review"))
	if err != nil {
		return "", "", err
	}
	rules := mockapi.ContentRules{Risky: risky, Review: review, RiskyImages: lines(f.Get("risky_images"))}
	if err := u.ctl.SetContentRules(rules); err != nil {
		return "", "", err
	}
	return Prefix + "/control#rules", "rules", nil
}

func (u *UI) postQuota(r *http.Request) (string, string, error) {
	f := r.PostForm
	limit, err := formInt(f, "limit")
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(f.Get("limit")) == "" {
		return "", "", &fieldErr{field: "limit", msg: "limit is required"}
	}
	q := mockapi.Quota{Platform: f.Get("platform"), AppID: f.Get("app_id"), Endpoint: strings.TrimSpace(f.Get("endpoint")),
		Limit: limit, Per: f.Get("per")}
	if err := u.ctl.SetQuota(q); err != nil {
		return "", "", err
	}
	return Prefix + "/control?" + url.Values{"quota": {q.Platform + "/" + q.AppID}}.Encode() + "#quotas", "quota", nil
}

func (u *UI) postClearUsage(r *http.Request) (string, string, error) {
	f := r.PostForm
	if err := u.ctl.ClearQuotaUsage(f.Get("platform"), f.Get("app_id")); err != nil {
		return "", "", err
	}
	next := Prefix + "/control"
	if f.Get("app_id") != "" {
		next += "?" + url.Values{"quota": {f.Get("platform") + "/" + f.Get("app_id")}}.Encode()
	}
	return next + "#quotas", "usage-clear", nil
}

func (u *UI) postReset(*http.Request) (string, string, error) {
	u.ctl.Reset()
	return Prefix + "/control", "reset", nil
}

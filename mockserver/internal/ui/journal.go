package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// journalRows is how many of the newest matching calls the page shows.
const journalRows = 200

type journalData struct {
	Filter    url.Values
	Calls     []mockapi.Request // newest first
	Total     uint64
	Stream    string
	Platforms []string
	Endpoints []string
	Apps      []mockapi.AppInfo
	Dropped   uint64
}

// requestFilter reads the journal filters of the control API
// (GET /_mock/requests) from a query.
func requestFilter(q url.Values) (controlapi.RequestFilter, error) {
	code, err := controlapi.ParseErrCode(strings.TrimSpace(q.Get("errcode")))
	if err != nil {
		return controlapi.RequestFilter{}, err
	}
	return controlapi.RequestFilter{Platform: q.Get("platform"), Endpoint: strings.TrimSpace(q.Get("endpoint")),
		AppID: strings.TrimSpace(q.Get("app_id")), OpenID: strings.TrimSpace(q.Get("openid")), ErrCode: code}, nil
}

func (u *UI) journalPage(w http.ResponseWriter, r *http.Request) {
	u.renderJournal(w, r, http.StatusOK, nil, nil)
}

func (u *UI) renderJournal(w http.ResponseWriter, r *http.Request, status int, form url.Values, ferr *formError) {
	p := u.newPage(r, "Journal", "journal")
	p.Form, p.Error = form, ferr
	q := r.URL.Query()
	p.Sel = u.selection(q)
	d := journalData{Filter: url.Values{}, Platforms: u.ctl.Platforms(), Apps: u.ctl.Apps()}
	for _, k := range []string{"platform", "endpoint", "app_id", "openid", "errcode"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			d.Filter.Set(k, v)
		}
	}
	for _, name := range d.Platforms {
		if d.Filter.Get("platform") == "" || d.Filter.Get("platform") == name {
			for _, e := range u.ctl.Endpoints(name) {
				if !slices.Contains(d.Endpoints, e) {
					d.Endpoints = append(d.Endpoints, e)
				}
			}
		}
	}
	slices.Sort(d.Endpoints)
	d.Total, d.Dropped = u.env.Journal.Total(), u.env.Journal.Dropped()
	if f, err := requestFilter(q); err != nil {
		// A filter that does not parse shows nothing, not everything.
		p.Error = &formError{Message: err.Error(), Field: controlapi.ErrorField(err)}
		status = http.StatusBadRequest
	} else {
		calls, cur := u.env.Journal.Tail(f.Match, journalRows)
		slices.Reverse(calls)
		d.Calls = calls
		d.Stream = Prefix + "/events/journal?" + streamQuery(cloneValues(d.Filter), cur)
	}
	p.Data = d
	u.render(w, status, "journal", p)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (u *UI) postClearJournal(r *http.Request) (string, string, error) {
	u.ctl.ClearRequests()
	return Prefix + "/journal", "journal-clear", nil
}

package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/csvaudience"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// CSV audiences (issue 16, docs/campaigns.md): POST /v1/broadcasts and
// PUT /v1/groups/{name} also take a CSV body (Content-Type text/csv, or a
// multipart/form-data upload whose part "file" is the CSV). The header
// names the recipient column "to" and keyword columns; each row is one
// recipient with its own keyword values. The body is read as a stream into
// a stored group (2,000 members per storage step), row by row: bad rows are
// reported with their line, field and reason and, with on_error=skip (the
// default), left out while the good ones are kept — unless there are more
// than max_bad_rows; with on_error=reject any bad row refuses the whole
// upload (422 with the report), and nothing is stored.
const (
	// maxCSVBody bounds one CSV upload: a million rows of a recipient and
	// a few keywords.
	maxCSVBody = 256 << 20
	// defaultMaxBadRows is max_bad_rows when none is given.
	defaultMaxBadRows = 1000
	// maxFieldBytes bounds one multipart form field.
	maxFieldBytes = 4096
	// csvFilePart is the multipart part holding the CSV.
	csvFilePart = "file"
)

// csvBody reports whether r's body is a CSV audience (text/csv or a
// multipart upload).
func csvBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "text/csv" || mt == "multipart/form-data")
}

// csvParams are an upload's parameters: from the query and, in a
// multipart upload, the form fields before the file.
type csvParams struct {
	values map[string]string
	data   map[string]string // data: a JSON object
}

// csvUpload is an upload being read: its parameters and the CSV stream.
type csvUpload struct {
	params csvParams
	file   io.Reader
	// end checks nothing but the end of the body follows the file.
	end func() error
}

// openCSV reads the parameters named (and data, a JSON object, when data) from
// the query and, for a multipart upload, the form fields up to the file
// part. A parameter given twice, in the query or the form or both, is a
// problem; so is an unknown one.
func openCSV(w http.ResponseWriter, r *http.Request, data bool, names ...string) (*csvUpload, []Problem, error) {
	up := &csvUpload{params: csvParams{values: map[string]string{}, data: map[string]string{}}, end: func() error { return nil }}
	var ps []Problem
	set := func(key, val string) {
		switch {
		case data && key == "data":
			if len(up.params.data) > 0 {
				ps = append(ps, Problem{key, "repeated", key + " is given more than once"})
			}
			if err := json.Unmarshal([]byte(val), &up.params.data); err != nil {
				ps = append(ps, Problem{"data", "type", `data must be a JSON object of strings ({"thing1":"…"}), the values every row gets unless it has its own`})
			}
		case slices.Contains(names, key):
			if _, dup := up.params.values[key]; dup {
				ps = append(ps, Problem{key, "repeated", key + " is given more than once"})
			}
			up.params.values[key] = val
		default:
			known := names
			if data {
				known = append(slices.Clip(known), "data")
			}
			ps = append(ps, Problem{paramName(key), "unknown_parameter", fmt.Sprintf("unknown parameter %q (known: %s)", truncate(key, 32), strings.Join(known, ", "))})
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, []Problem{{"query", "invalid_encoding", "the query is not valid percent-encoding"}}, nil
	}
	for k, vs := range q {
		for _, v := range vs {
			if len(v) > maxQueryValueBytes {
				ps = append(ps, Problem{paramName(k), "too_long", fmt.Sprintf("%s is %d bytes, over the limit of %d", k, len(v), maxQueryValueBytes)})
				continue
			}
			set(k, v)
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxCSVBody)
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		up.file = body
		return up, ps, nil
	}
	mr := multipart.NewReader(body, mp["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, append(ps, Problem{csvFilePart, "required", `the upload has no part named "file" (the CSV)`}), nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: multipart: %v", errBadBody, err)
		}
		name := part.FormName()
		if name == csvFilePart {
			up.file = part
			up.end = func() error {
				_, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return fmt.Errorf("%w: multipart: %v", errBadBody, err)
				}
				return &csvaudience.Error{Field: csvFilePart, Rule: "after_file",
					Message: `a part follows the file: put every form field before the part "file"`}
			}
			return up, ps, nil
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: multipart: %v", errBadBody, err)
		}
		if len(b) > maxFieldBytes {
			ps = append(ps, Problem{paramName(name), "too_long", fmt.Sprintf("form field %s is over %d bytes", truncate(name, 32), maxFieldBytes)})
			continue
		}
		set(name, string(b))
	}
}

// errorPolicy reads on_error and max_bad_rows.
func (p csvParams) errorPolicy() (reject bool, maxBad int, ps []Problem) {
	switch p.values["on_error"] {
	case "", "skip":
	case "reject":
		reject = true
	default:
		ps = append(ps, Problem{"on_error", "enum", "on_error must be skip (bad rows are left out and reported) or reject (any bad row refuses the upload)"})
	}
	maxBad = defaultMaxBadRows
	if s, ok := p.values["max_bad_rows"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxGroupMembers {
			ps = append(ps, Problem{"max_bad_rows", "range", fmt.Sprintf("max_bad_rows must be 0..%d", maxGroupMembers)})
		}
		maxBad = n
	}
	return reject, maxBad, ps
}

// rowCheck judges a row's recipient and keyword values as a message's
// would be judged (keyword rules of the platform, content rules), with
// base under the row's own values; with a template, as a message of it.
func (a *API) rowCheck(ctx context.Context, app config.App, templateID, page string, base map[string]string) csvaudience.Check {
	return func(to string, own map[string]string) (string, string, string) {
		if ps := checkIdent(csvaudience.ToColumn, to, maxRecipientBytes); len(ps) > 0 {
			return ps[0].Field, ps[0].Rule, ps[0].Message
		}
		data := message.MergeData(base, own)
		var ps []Problem
		if templateID != "" {
			_, ps = a.checkContent(ctx, app.Name, templateID, data, page)
		} else {
			ps = append(checkData(data), a.valueProblems(app, data)...)
		}
		if len(ps) == 0 {
			return "", "", ""
		}
		return strings.TrimPrefix(ps[0].Field, "data."), ps[0].Rule, ps[0].Message
	}
}

// csvFailed answers an upload that went wrong while streaming.
func (a *API) csvFailed(w http.ResponseWriter, app string, err error, what string) {
	var ce *csvaudience.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ce):
		ps := []Problem{{ce.Field, ce.Rule, ce.Message}}
		a.rejected(app, ps)
		writeJSON(w, http.StatusUnprocessableEntity, csvRefusal{errorBody: errorBody{Error: "validation failed", Problems: ps}, CSV: ce.Report})
	case errors.As(err, &tooBig):
		tooLarge(w, maxCSVBody)
	case errors.Is(err, errBadBody):
		badBody(w, err.Error())
	case errors.As(err, new(*csv.ParseError)):
		badBody(w, err.Error())
	default:
		a.storeError(w, err, what)
	}
}

// csvRefusal is a 422 with the report of what was read.
type csvRefusal struct {
	errorBody
	CSV *message.AudienceReport `json:"csv,omitempty"`
}

// csvBroadcast is the answer to a CSV broadcast: the broadcast, the group
// its audience is stored in, and the report.
type csvBroadcast struct {
	message.Broadcast
	CSV *message.AudienceReport `json:"csv,omitempty"`
}

// postBroadcastCSV: POST /v1/broadcasts with a CSV audience. Parameters
// (query, or form fields before the file): app, template_id, page,
// send_at (RFC 3339), group (the name to store the audience under;
// default csv-<broadcast id>), on_error, max_bad_rows, urgent (passes the
// app's quiet hours, which otherwise hold the broadcast whole),
// idempotency_key
// (or the header), data (a JSON object: values every row gets unless it
// has its own). The audience is written as a group, then broadcast to as any
// group is: fanned out in the background.
func (a *API) postBroadcastCSV(w http.ResponseWriter, r *http.Request) {
	if a.audiences == nil {
		noStorage(w, "CSV audiences")
		return
	}
	bulk(w, r)
	up, ps, err := openCSV(w, r, true, "app", "template_id", "page", "send_at", "group", "on_error", "max_bad_rows", "idempotency_key", "urgent",
		"dedup_key", "dedup_window")
	if err != nil {
		a.csvFailed(w, "", err, "broadcast")
		return
	}
	if up == nil {
		writeProblems(w, capProblems(ps))
		return
	}
	p := up.params
	appName, templateID, page, group := p.values["app"], p.values["template_id"], p.values["page"], p.values["group"]
	app, cps := a.checkBase(appName, templateID, p.data, page)
	ps = append(ps, cps...)
	if group != "" {
		ps = append(ps, checkIdent("group", group, maxGroupNameBytes)...)
	}
	var sendAt *time.Time
	if s := p.values["send_at"]; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			ps = append(ps, Problem{"send_at", "format", "send_at must be an RFC 3339 time (2030-01-02T09:00:00+08:00)"})
		} else {
			sendAt = &t
			ps = append(ps, checkSendAt(sendAt, a.now())...)
		}
	}
	reject, maxBad, eps := p.errorPolicy()
	ps = append(ps, eps...)
	urgent := false
	switch p.values["urgent"] {
	case "", "false":
	case "true":
		urgent = true
	default:
		ps = append(ps, Problem{"urgent", "type", "urgent must be true or false"})
	}
	// dedup_key and dedup_window: the broadcast's own dedup settings
	// (the JSON request's dedup.key and dedup.window), applied to each
	// member at the fan-out.
	var dedup *dedupRequest
	if p.values["dedup_key"] != "" || p.values["dedup_window"] != "" {
		dedup = &dedupRequest{Key: p.values["dedup_key"], Window: p.values["dedup_window"]}
	}
	copts, dps := a.campaignOptions(app.Name, urgent, dedup)
	for _, d := range dps {
		d.Field = strings.Replace(d.Field, ".", "_", 1) // the parameter's name
		ps = append(ps, d)
	}
	key, ok := idempotencyKey(w, r, p.values["idempotency_key"])
	if !ok {
		return
	}
	ps = append(ps, checkIdent("idempotency_key", key, maxIdempotencyKeyBytes)...)
	if len(ps) > 0 {
		ps = capProblems(ps)
		a.rejected(appName, ps)
		writeProblems(w, ps)
		return
	}
	now := a.now()
	b := message.Broadcast{ID: message.NewID("bc_", now), App: app.Name, Platform: app.Platform,
		TemplateID: templateID, Data: p.data, Page: page, CreatedAt: now, IdempotencyKey: key, APIKey: keyName(r),
		Dedup: broadcastDedup(copts)}
	if sendAt != nil && sendAt.After(now) {
		b.SendAt = *sendAt
	}
	b.Group = group
	if b.Group == "" {
		b.Group = "csv-" + b.ID
	}
	fp := newStreamFingerprint("POST /v1/broadcasts text/csv", app.Name, templateID, page, canonicalTime(sendAt), group,
		p.values["on_error"], strconv.Itoa(maxBad), strconv.FormatBool(urgent), fingerprint(p.data))
	if dedup != nil { // absent: the fingerprint keys stored before dedup_key existed had
		fp.add("dedup " + dedup.Key + "\x1f" + dedup.Window)
	}
	progress := deadlineExtender(w, r, maxGroupPut)
	rows := 0
	rd, err := csvaudience.New(up.file, csvaudience.Options{MaxRows: maxGroupMembers, Reject: reject, MaxBadRows: maxBad,
		Check: a.rowCheck(r.Context(), app, templateID, page, p.data), End: up.end,
		Seen: func(fields []string) {
			if rows++; rows%progressEvery == 0 {
				progress()
			}
			fp.add(strings.Join(fields, "\x1f"))
		}})
	if err != nil {
		a.csvFailed(w, app.Name, err, "broadcast")
		return
	}
	gkey := ""
	if key != "" {
		gkey = "broadcast:" + key // apart from the client's own group-write keys
	}
	g, _, err := a.audiences.PutAudience(r.Context(), app.Name, b.Group, rd.Members(), rd.Report, gkey, fp.sum)
	if err != nil {
		a.csvFailed(w, app.Name, err, "broadcast")
		return
	}
	b.Group = g.Name // a retry: the first upload's group
	if key != "" {
		b.Fingerprint = fp.sum()
	}
	// Quiet hours hold it whole, as any group broadcast
	// (docs/campaigns.md).
	due := now
	if !b.SendAt.IsZero() {
		due = b.SendAt
	}
	if end, held := a.campaigns[app.Name].QuietEnd(due, b.ID); held && !urgent {
		b.SendAt = end
	}
	stored, dup, err := a.store.CreateBroadcast(r.Context(), b, nil)
	if err != nil {
		a.storeError(w, err, "broadcast")
		return
	}
	report := g.CSV
	if dup || report == nil {
		if stored, _, _, err := a.store.Group(r.Context(), app.Name, stored.Group, "", 0); err == nil {
			report = stored.CSV
		}
	}
	if dup {
		writeJSON(w, http.StatusOK, csvBroadcast{Broadcast: stored, CSV: report})
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(app.Name, stored.Recipients)
	}
	if a.hooks.AudienceRows != nil {
		a.hooks.AudienceRows(app.Name, report)
	}
	if a.hooks.FanOut != nil {
		a.hooks.FanOut()
	}
	writeJSON(w, http.StatusAccepted, csvBroadcast{Broadcast: stored, CSV: report})
}

// putGroupCSV: PUT /v1/groups/{name} with a CSV audience: the group's
// members become the rows' recipients, each with its own keyword values,
// judged by the app's platform's keyword rules and the content rules.
// Parameters: app, on_error, max_bad_rows. 200 with the group and its
// report.
func (a *API) putGroupCSV(w http.ResponseWriter, r *http.Request) {
	if a.audiences == nil {
		noStorage(w, "CSV audiences")
		return
	}
	bulk(w, r)
	name, ps := pathGroup(r)
	up, ups, err := openCSV(w, r, false, "app", "on_error", "max_bad_rows")
	if err != nil {
		a.csvFailed(w, "", err, "group")
		return
	}
	ps = append(ps, ups...)
	if up == nil {
		writeProblems(w, capProblems(ps))
		return
	}
	app, known := a.apps[up.params.values["app"]]
	if !known {
		ps = append(ps, Problem{"app", "unknown_app", "app must name a configured app"})
	}
	reject, maxBad, eps := up.params.errorPolicy()
	ps = append(ps, eps...)
	key := r.Header.Get("Idempotency-Key")
	ps = append(ps, checkIdent("idempotency_key", key, maxIdempotencyKeyBytes)...)
	if len(ps) > 0 {
		writeProblems(w, capProblems(ps))
		return
	}
	fp := newStreamFingerprint("PUT text/csv", app.Name, name, up.params.values["on_error"], strconv.Itoa(maxBad))
	progress := deadlineExtender(w, r, maxGroupPut)
	rows := 0
	rd, err := csvaudience.New(up.file, csvaudience.Options{MaxRows: maxGroupMembers, Reject: reject, MaxBadRows: maxBad,
		Check: a.rowCheck(r.Context(), app, "", "", nil), End: up.end,
		Seen: func(fields []string) {
			if rows++; rows%progressEvery == 0 {
				progress()
			}
			fp.add(strings.Join(fields, "\x1f"))
		}})
	if err != nil {
		a.csvFailed(w, app.Name, err, "group")
		return
	}
	g, _, err := a.audiences.PutAudience(r.Context(), app.Name, name, rd.Members(), rd.Report, key, fp.sum)
	if err != nil {
		a.csvFailed(w, app.Name, err, "group")
		return
	}
	if a.hooks.AudienceRows != nil && g.CSV != nil {
		a.hooks.AudienceRows(app.Name, g.CSV)
	}
	writeJSON(w, http.StatusOK, g)
}

// noStorage answers 501 when the store lacks a capability (only test
// doubles do: both drivers have every one).
func noStorage(w http.ResponseWriter, what string) {
	msg := "this sender's storage does not keep " + what
	writeError(w, http.StatusNotImplemented, msg, Problem{"storage", "unsupported", msg})
}

var _ storage.Audiences = storage.Audiences(nil)

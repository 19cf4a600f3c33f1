package senderclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CSV audiences and recurring schedules (docs/campaigns.md).

// AudienceReport is what reading a CSV audience found.
type AudienceReport struct {
	Rows     int        `json:"rows"`
	Accepted int        `json:"accepted"`
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors"`
}

// RowError is one bad row of a CSV audience: its line in the file (the
// header is line 1), the column at fault and why.
type RowError struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// On-error policies of a CSV upload.
const (
	OnErrorSkip   = "skip"   // bad rows are left out and reported
	OnErrorReject = "reject" // any bad row refuses the whole upload
)

// CSVOptions are a CSV upload's error policy.
type CSVOptions struct {
	// OnError is OnErrorSkip (the default) or OnErrorReject.
	OnError string
	// MaxBadRows: with skip, more bad rows than this refuse the upload
	// (nil: the sender's default, 1000).
	MaxBadRows *int
}

func (o CSVOptions) query(q url.Values) {
	set(q, "on_error", o.OnError)
	if o.MaxBadRows != nil {
		q.Set("max_bad_rows", strconv.Itoa(*o.MaxBadRows))
	}
}

// CSVBroadcastRequest is a broadcast to a CSV audience: the parameters of
// POST /v1/broadcasts with a text/csv body.
type CSVBroadcastRequest struct {
	App        string
	TemplateID string
	// Data are the values every row gets unless it has its own.
	Data   map[string]string
	Page   string
	SendAt *time.Time
	// Group names the group the audience is stored as (default
	// csv-<broadcast id>).
	Group          string
	IdempotencyKey string
	// Urgent passes the app's quiet hours (docs/campaigns.md).
	Urgent bool
	CSVOptions
}

// BroadcastCSV broadcasts to the CSV audience read from csv (a header with
// a "to" column and keyword columns, then a recipient per row), streamed
// as the body. The answer's CSV is the report; a refused upload is an
// *Error whose CSV is the report. The body is a stream: the call is not
// retried.
func (c *Client) BroadcastCSV(ctx context.Context, b CSVBroadcastRequest, csv io.Reader) (BroadcastAccepted, error) {
	q := url.Values{"app": {b.App}, "template_id": {b.TemplateID}}
	set(q, "page", b.Page)
	set(q, "group", b.Group)
	set(q, "idempotency_key", b.IdempotencyKey)
	if b.Urgent {
		q.Set("urgent", "true")
	}
	if b.SendAt != nil {
		q.Set("send_at", b.SendAt.Format(time.RFC3339Nano))
	}
	if len(b.Data) > 0 {
		d, err := json.Marshal(b.Data)
		if err != nil {
			return BroadcastAccepted{}, fmt.Errorf("senderclient: encode data: %w", err)
		}
		q.Set("data", string(d))
	}
	b.CSVOptions.query(q)
	var a BroadcastAccepted
	status, err := c.stream(ctx, http.MethodPost, "/v1/broadcasts", q, csv, &a)
	a.Duplicate = status == http.StatusOK
	return a, err
}

// PutGroupCSV replaces a group's members with the CSV audience read from
// csv (PUT /v1/groups/{name}, text/csv): each member keeps its row's
// keyword values. The answer's CSV is the report.
func (c *Client) PutGroupCSV(ctx context.Context, app, name string, o CSVOptions, csv io.Reader) (Group, error) {
	q := url.Values{"app": {app}}
	o.query(q)
	var g Group
	_, err := c.stream(ctx, http.MethodPut, "/v1/groups/"+url.PathEscape(name), q, csv, &g)
	return g, err
}

// stream makes one call with a streamed text/csv body, without retries.
func (c *Client) stream(ctx context.Context, method, path string, q url.Values, body io.Reader, out any) (int, error) {
	req, err := c.newRequest(ctx, method, path, q, nil, nil)
	if err != nil {
		return 0, err
	}
	req.Body = io.NopCloser(body)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("senderclient: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("senderclient: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, newError(method, path, resp.StatusCode, raw, resp.Header)
	}
	if err := decodeAnswer(raw, out); err != nil {
		return resp.StatusCode, fmt.Errorf("senderclient: %s %s: answer %d: %w", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// Schedule catch-up policies.
const (
	CatchUpLast = "last" // the latest missed run is made when at most CatchUpWithin late
	CatchUpNone = "none" // a run more than a minute late is skipped
)

// Run outcomes.
const (
	RunPending = "pending"
	RunCreated = "created"
	RunSkipped = "skipped"
	RunFailed  = "failed"
)

// ScheduleRequest makes a recurring broadcast (POST /v1/schedules): at
// each time Cron names in TimeZone, a broadcast of the template to To or
// Group.
type ScheduleRequest struct {
	App string `json:"app"`
	// Cron is five fields (minute hour day-of-month month day-of-week) or
	// a descriptor (@daily, @weekly, …): "0 9 * * 1" is Mondays 09:00.
	Cron string `json:"cron"`
	// TimeZone is an IANA name (default Asia/Shanghai).
	TimeZone   string            `json:"time_zone,omitempty"`
	To         []string          `json:"to,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data,omitempty"`
	Page       string            `json:"page,omitempty"`
	// CatchUp is CatchUpLast (default) or CatchUpNone; CatchUpWithin a
	// Go duration ("1h", the default).
	CatchUp       string `json:"catch_up,omitempty"`
	CatchUpWithin string `json:"catch_up_within,omitempty"`
	Paused        bool   `json:"paused,omitempty"`
	// Urgent runs pass the app's quiet hours (dedup and frequency caps
	// still apply, docs/campaigns.md).
	Urgent bool `json:"urgent,omitempty"`
}

// ScheduleRun is one run of a schedule.
type ScheduleRun struct {
	ScheduledAt time.Time `json:"scheduled_at"`
	RanAt       time.Time `json:"ran_at"`
	Outcome     string    `json:"outcome"`
	BroadcastID string    `json:"broadcast_id,omitempty"`
	Missed      int       `json:"missed,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// Schedule is a recurring broadcast with its latest runs, newest first.
type Schedule struct {
	ID            string            `json:"id"`
	App           string            `json:"app"`
	Platform      string            `json:"platform,omitempty"`
	Cron          string            `json:"cron"`
	TimeZone      string            `json:"time_zone"`
	To            []string          `json:"to,omitempty"`
	Group         string            `json:"group,omitempty"`
	TemplateID    string            `json:"template_id"`
	Data          map[string]string `json:"data"`
	Page          string            `json:"page,omitempty"`
	CatchUp       string            `json:"catch_up"`
	CatchUpWithin string            `json:"catch_up_within"`
	Paused        bool              `json:"paused"`
	Urgent        bool              `json:"urgent,omitempty"`
	APIKey        string            `json:"api_key,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	LastRunAt     time.Time         `json:"last_run_at,omitzero"`
	NextRunAt     time.Time         `json:"next_run_at,omitzero"`
	Runs          []ScheduleRun     `json:"runs"`
}

// ScheduleList is a page of schedules by id.
type ScheduleList struct {
	Items      []Schedule `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

// CreateSchedule makes a recurring broadcast (admin scope).
func (c *Client) CreateSchedule(ctx context.Context, r ScheduleRequest) (Schedule, error) {
	var s Schedule
	_, err := c.call(ctx, http.MethodPost, "/v1/schedules", nil, nil, r, &s)
	return s, err
}

// Schedules reads a page of schedules (app "" for every app's).
func (c *Client) Schedules(ctx context.Context, app string, p GroupPageRequest) (ScheduleList, error) {
	q := url.Values{}
	set(q, "app", app)
	set(q, "cursor", p.Cursor)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var l ScheduleList
	_, err := c.call(ctx, http.MethodGet, "/v1/schedules", q, nil, nil, &l)
	return l, err
}

// Schedule reads one schedule with its runs and next run.
func (c *Client) Schedule(ctx context.Context, id string) (Schedule, error) {
	var s Schedule
	_, err := c.call(ctx, http.MethodGet, "/v1/schedules/"+url.PathEscape(id), nil, nil, nil, &s)
	return s, err
}

// PauseSchedule stops a schedule's runs until ResumeSchedule (admin scope).
func (c *Client) PauseSchedule(ctx context.Context, id string) (Schedule, error) {
	var s Schedule
	_, err := c.call(ctx, http.MethodPost, "/v1/schedules/"+url.PathEscape(id)+"/pause", nil, nil, nil, &s)
	return s, err
}

// ResumeSchedule resumes a paused schedule; runs missed meanwhile follow
// its catch-up policy (admin scope).
func (c *Client) ResumeSchedule(ctx context.Context, id string) (Schedule, error) {
	var s Schedule
	_, err := c.call(ctx, http.MethodPost, "/v1/schedules/"+url.PathEscape(id)+"/resume", nil, nil, nil, &s)
	return s, err
}

// DeleteSchedule deletes a schedule (admin scope); its broadcasts stay.
func (c *Client) DeleteSchedule(ctx context.Context, id string) error {
	_, err := c.call(ctx, http.MethodDelete, "/v1/schedules/"+url.PathEscape(id), nil, nil, nil, nil)
	return err
}

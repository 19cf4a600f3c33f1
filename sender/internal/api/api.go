// Package api is the sender's HTTP API (gorilla/mux, JSON, Bearer API
// keys with scopes): accept messages and broadcasts, manage groups, read
// statuses, redrive and cancel messages (one, or in bulk by filter), see
// and resume the apps, and the health and metrics endpoints. Handlers are
// in one file per resource (messages.go, broadcasts.go, groups.go,
// apps.go, consents.go).
//
// Shapes (README "HTTP API"): a resource is answered flat, as itself (a
// write answers the resource it made or changed); a list is
// {"items":[…],"next_cursor":"…"} ("" on the last page); a bulk action
// is {"count":N}; every 4xx is {"error","problems":[{"field","rule",
// "message"}]} with at least one problem, plus a "reason" from the
// sender's vocabulary where one applies.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/openapi"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/templates"
)

// Store is what the API needs from storage.
type Store interface {
	Enqueue(ctx context.Context, msgs []message.Message) ([]message.Message, []bool, error)
	CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error)
	Get(ctx context.Context, id string) (message.Message, error)
	List(ctx context.Context, f storage.Filter) ([]message.Message, string, error)
	Broadcast(ctx context.Context, id string) (message.Broadcast, map[message.Status]int, error)
	Redrive(ctx context.Context, id string, now time.Time) (message.Message, error)
	Cancel(ctx context.Context, id string, now time.Time) (message.Message, error)
	CancelMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error)
	RedriveMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error)
	AppCounts(ctx context.Context, app string) (map[message.Status]int, error)
	Pauses(ctx context.Context) ([]message.Pause, error)
	PutGroup(ctx context.Context, app, name string, members iter.Seq2[string, error], key string, fingerprint func() string) (message.Group, bool, error)
	Group(ctx context.Context, app, name, after string, limit int) (message.Group, []string, string, error)
	DeleteGroup(ctx context.Context, app, name string, idem storage.Idempotency) (bool, error)
	WebhookDelivery(ctx context.Context, id string) (message.WebhookDelivery, error)
	WebhookDeliveries(ctx context.Context, f storage.WebhookFilter) ([]message.WebhookDelivery, string, error)
	RedeliverWebhook(ctx context.Context, id string, now time.Time) (message.WebhookDelivery, error)
	Consents(ctx context.Context, app, user string, after consent.Key, limit int) ([]consent.Entry, consent.Key, error)
	Groups(ctx context.Context, app, after string, limit int) ([]message.Group, string, error)
}

// Hooks connect the API to the rest of the service. Any may be nil.
type Hooks struct {
	// Queued is called after messages are committed (wakes the dispatcher).
	Queued func()
	// FanOut is called after a group broadcast is committed (wakes the
	// background fan-out).
	FanOut func()
	// Accepted and Rejected count messages for metrics.
	Accepted func(app string, n int)
	Rejected func(app, rule string)
	// Campaign counts a message the campaign rules held or rejected
	// (what: held or rejected; rule: quiet_hours, frequency_cap,
	// duplicate).
	Campaign func(app, what, rule string)
	// Ready reports readiness from memory (it must never wait on storage:
	// probes are anonymous and frequent).
	Ready func() Readiness
	// Metrics serves /metrics.
	Metrics http.Handler
	// Runtime reports an app's token and health (GET /v1/apps).
	Runtime func(app string) AppRuntime
	// AudienceRows counts a CSV audience's rows (metrics).
	AudienceRows func(app string, r *message.AudienceReport)
	// ScheduleNow is the clock schedules are judged by (nil: the API's).
	ScheduleNow func() time.Time
	// ScheduleChanged wakes the schedule runner after a schedule was
	// created or resumed.
	ScheduleChanged func()
	// Resume ends an app's pause (POST /v1/apps/{name}/resume) and
	// reports how many held messages it made due.
	Resume func(ctx context.Context, app string) (int, error)
	// Templates checks messages against their apps' templates; nil: a
	// catalog of the configured templates only (no platform lists).
	Templates *templates.Catalog
	// Redelivered is called after a webhook delivery is made pending
	// again (wakes the webhook deliverer).
	Redelivered func()
}

// AppRuntime is what the running sender knows of an app beyond storage.
type AppRuntime struct {
	// TokenValidUntil is the access token's expiry (zero: none held, or
	// the platform has no tokens).
	TokenValidUntil  time.Time
	TokenRefreshedAt time.Time
	TokenFailures    int
	TokenError       string
	Healthy          bool
	HealthReason     string
	HealthSince      time.Time
	// The app's send rate, as the dispatcher applies it.
	RatePerSecond float64
	RateBurst     int
	RatePerUser   time.Duration
}

// API serves the sender's HTTP API.
type API struct {
	store Store
	apps  map[string]config.App
	// order is the apps' names as configured (GET /v1/apps lists them so).
	order   []string
	keys    []config.APIKey
	content *contentrules.Rules
	hooks   Hooks
	log     *slog.Logger
	now     func() time.Time
	// rates holds each key's request limiter, by index in keys.
	rates      keyRates
	metricsKey bool
	// campaigns are the apps' campaign rules (nil: none).
	campaigns map[string]*campaign.Rules
	templates *templates.Catalog
	// audiences and schedules: the store's, when it keeps them (both
	// drivers do).
	audiences storage.Audiences
	schedules storage.Schedules
}

// New returns the API.
func New(store Store, cfg *config.Config, content *contentrules.Rules, hooks Hooks, log *slog.Logger) *API {
	apps := map[string]config.App{}
	var order []string
	for _, a := range cfg.Apps {
		apps[a.Name] = a
		order = append(order, a.Name)
	}
	camps := map[string]*campaign.Rules{}
	for _, a := range cfg.Apps {
		rs, err := campaign.New(a.Campaigns)
		if err != nil { // config.Validate refused it already
			log.Error("campaign rules ignored", "app", a.Name, "err", err)
		}
		camps[a.Name] = rs
	}
	tc := hooks.Templates
	if tc == nil {
		tc = templates.New(templates.FromConfig(cfg.Apps, nil))
	}
	a := &API{store: store, apps: apps, order: order, keys: cfg.APIKeys, content: content, hooks: hooks, log: log, now: time.Now,
		rates: newKeyRates(cfg), metricsKey: cfg.Metrics.RequireKey, campaigns: camps, templates: tc}
	a.audiences, _ = store.(storage.Audiences)
	a.schedules, _ = store.(storage.Schedules)
	return a
}

// WithClock replaces the API's clock (tests: campaign rules, send_at).
func (a *API) WithClock(now func() time.Time) *API {
	a.now = now
	return a
}

// Body limits: a message is small; a broadcast carries at most
// maxListRecipients recipients; a group's members are streamed to storage
// in chunks as they are read, so only this bound keeps a PUT finite.
const (
	maxMessageBody   = 1 << 20
	maxBroadcastBody = 4 << 20
	maxGroupBody     = 64 << 20
)

// Handler builds the router. Each path is registered once and dispatches
// on the method itself (methods): gorilla/mux answers a wrong method on a
// subrouter with its NotFound handler and never sets Allow.
func (a *API) Handler() http.Handler {
	r := mux.NewRouter()
	r.Handle("/healthz", methods{http.MethodGet: a.healthz})
	r.Handle("/readyz", methods{http.MethodGet: a.readyz})
	// The contract (sender/internal/openapi/sender.yaml): a route added
	// here and not there fails TestRoutesMatchTheDocument.
	r.Handle("/openapi.json", methods{http.MethodGet: openapi.Document().ServeHTTP})
	if a.hooks.Metrics != nil {
		var metrics http.Handler = methods{http.MethodGet: a.hooks.Metrics.ServeHTTP}
		if a.metricsKey {
			metrics = a.auth(need(config.ScopeRead)(metrics.ServeHTTP))
		}
		r.Handle("/metrics", metrics)
	}
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(a.auth)
	send, read, admin := need(config.ScopeSend), need(config.ScopeRead), need(config.ScopeAdmin)
	v1.Handle("/messages", methods{http.MethodPost: send(a.postMessage), http.MethodGet: read(a.listMessages)})
	// The bulk actions are registered before /messages/{id}: "cancel" and
	// "retry" are not message ids (those are msg_…).
	v1.Handle("/messages/cancel", methods{http.MethodPost: admin(a.cancelMatching)})
	v1.Handle("/messages/retry", methods{http.MethodPost: admin(a.redriveMatching)})
	v1.Handle("/messages/{id}", methods{http.MethodGet: read(a.getMessage)})
	v1.Handle("/messages/{id}/retry", methods{http.MethodPost: send(a.retryMessage)})
	v1.Handle("/messages/{id}/cancel", methods{http.MethodPost: send(a.cancelMessage)})
	v1.Handle("/broadcasts", methods{http.MethodPost: send(a.postBroadcast), http.MethodGet: read(a.listBroadcasts)})
	v1.Handle("/broadcasts/{id}", methods{http.MethodGet: read(a.getBroadcast)})
	v1.Handle("/groups", methods{http.MethodGet: read(a.listGroups)})
	v1.Handle("/groups/{name}", methods{http.MethodPut: send(a.putGroup), http.MethodGet: read(a.getGroup),
		http.MethodDelete: send(a.deleteGroup)})
	v1.Handle("/schedules", methods{http.MethodPost: admin(a.postSchedule), http.MethodGet: read(a.listSchedules)})
	v1.Handle("/schedules/{id}", methods{http.MethodGet: read(a.getSchedule), http.MethodDelete: admin(a.deleteSchedule)})
	v1.Handle("/schedules/{id}/pause", methods{http.MethodPost: admin(a.pauseSchedule(true))})
	v1.Handle("/schedules/{id}/resume", methods{http.MethodPost: admin(a.pauseSchedule(false))})
	v1.Handle("/consents", methods{http.MethodGet: read(a.getConsents)})
	v1.Handle("/apps", methods{http.MethodGet: read(a.listApps)})
	v1.Handle("/apps/{name}", methods{http.MethodGet: read(a.getApp)})
	v1.Handle("/apps/{name}/resume", methods{http.MethodPost: admin(a.resumeApp)})
	v1.Handle("/webhooks/deliveries", methods{http.MethodGet: read(a.listWebhookDeliveries)})
	v1.Handle("/webhooks/deliveries/{id}", methods{http.MethodGet: read(a.getWebhookDelivery)})
	v1.Handle("/webhooks/deliveries/{id}/redeliver", methods{http.MethodPost: admin(a.redeliverWebhook)})
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path),
			Problem{"path", "no_endpoint", "no endpoint answers " + r.Method + " " + r.URL.Path})
	})
	r.NotFoundHandler, v1.NotFoundHandler = notFound, notFound
	return r
}

// methods serves one path: a handler per method (GET also answers HEAD);
// any other method answers 405 with Allow.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if _, ok := m[method]; !ok && method == http.MethodHead {
		method = http.MethodGet
	}
	if h, ok := m[method]; ok {
		h(w, r)
		return
	}
	allowed := make([]string, 0, len(m)+1)
	for k := range m {
		allowed = append(allowed, k)
		if k == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	slices.Sort(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	msg := fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, msg, Problem{"method", "not_allowed", msg})
}

// keyContext carries the caller's API key through a request.
type keyContext struct{}

// callerKey is the API key auth admitted the request with.
func callerKey(r *http.Request) (config.APIKey, bool) {
	k, ok := r.Context().Value(keyContext{}).(config.APIKey)
	return k, ok
}

// auth admits callers with a configured API key (constant-time compare),
// each within its request rate, and hands the key on in the request's
// context (need checks its scopes; messages remember its name).
func (a *API) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1); the key is not.
		h := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			for i, k := range a.keys {
				if subtle.ConstantTimeCompare([]byte(key), []byte(k.Key)) == 1 {
					if wait, ok := a.rates.allow(i, a.now()); !ok {
						w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
						msg := fmt.Sprintf("API key %q is over its request rate (%s); retry after %s", k.Name,
							a.rates.describe(i), wait.Round(time.Millisecond))
						writeError(w, http.StatusTooManyRequests, msg, Problem{"Authorization", "rate_limited", msg})
						return
					}
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyContext{}, k)))
					return
				}
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="minipush"`)
		msg := "a valid API key is required: Authorization: Bearer <key>"
		rule := "missing"
		if h != "" {
			rule = "invalid"
		}
		writeError(w, http.StatusUnauthorized, msg, Problem{"Authorization", rule, msg})
	})
}

// need wraps a handler that needs the caller's key to hold scope (403
// otherwise). Behind auth only.
func need(scope string) func(http.HandlerFunc) http.HandlerFunc {
	return func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if k, ok := callerKey(r); !ok || !k.Allows(scope) {
				msg := fmt.Sprintf("the API key %q lacks the %s scope this call needs (its scopes: %s)", k.Name, scope,
					strings.Join(k.ScopesOf(), ", "))
				writeError(w, http.StatusForbidden, msg, Problem{"Authorization", "scope", msg})
				return
			}
			h(w, r)
		}
	}
}

// Problem is one validation failure.
type Problem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

type errorBody struct {
	Error    string    `json:"error"`
	Problems []Problem `json:"problems,omitempty"`
	// Reason is the sender's vocabulary's word for what is wrong, where
	// one applies (a template the app does not have: invalid_template).
	Reason reason.Reason `json:"reason,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers an error. A 4xx names at least one problem (the
// field, header or parameter at fault), so every refusal has the same
// shape; ps may be empty only for 5xx.
func writeError(w http.ResponseWriter, status int, msg string, ps ...Problem) {
	writeJSON(w, status, errorBody{Error: msg, Problems: ps})
}

// writeProblems answers 422 with ps; the answer's reason is the first
// problem's, when its rule has one in the vocabulary (ruleReasons).
func writeProblems(w http.ResponseWriter, ps []Problem) {
	body := errorBody{Error: "validation failed", Problems: ps}
	for _, p := range ps {
		if why, ok := ruleReason(p.Rule); ok {
			body.Reason = why
			break
		}
	}
	writeJSON(w, http.StatusUnprocessableEntity, body)
}

// decode reads a JSON body within limit: 415 unless it is sent as
// application/json, 413 when over the limit, 400 when it is not one JSON
// object of the endpoint's shape — a value of the wrong type or an unknown
// field is a problem naming its JSON path ("data.thing1: want string, got
// number").
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if !hasJSONBody(w, r) {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, limit)
			return false
		}
		badBody(w, "cannot read body: "+err.Error())
		return false
	}
	// bytes, not string(body): a broadcast body is megabytes, and each
	// conversion would copy it.
	if len(bytes.TrimSpace(body)) == 0 {
		badBody(w, "empty body: a JSON object is required")
		return false
	}
	if mr, ok := v.(*messageRequest); ok {
		// The common shape in one pass (messagedecode.go); anything else,
		// errors included, is encoding/json's.
		if decodeMessageFast(body, mr) {
			return true
		}
		*mr = messageRequest{}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			badBody(w, fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err))
		case errors.As(err, &te) && te.Field == "":
			badBody(w, fmt.Sprintf("the body must be a JSON object, got %s", te.Value))
		case errors.As(err, &te):
			path := jsonPath(body, te.Offset)
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "a value has the wrong type", Problems: []Problem{
				{path, "type", fmt.Sprintf("%s: want %s, got %s", path, jsonType(te.Type), te.Value)}}})
		case unknownField(err) != "":
			f := unknownField(err)
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "unknown field", Problems: []Problem{
				{f, "unknown_field", fmt.Sprintf("unknown field %q", f)}}})
		case errors.Is(err, io.ErrUnexpectedEOF):
			badBody(w, "malformed JSON: the body ends early")
		default:
			// A field's own decoder refused its value (send_at).
			badBody(w, "invalid JSON body: "+err.Error())
		}
		return false
	}
	if dec.More() {
		badBody(w, "body must hold exactly one JSON object")
		return false
	}
	return true
}

// badBody answers 400 for a body that is not one JSON object of the
// endpoint's shape.
func badBody(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, msg, Problem{"body", "malformed", msg})
}

// tooLarge answers 413.
func tooLarge(w http.ResponseWriter, limit int64) {
	msg := fmt.Sprintf("body is over the %d-byte limit", limit)
	writeError(w, http.StatusRequestEntityTooLarge, msg, Problem{"body", "too_large", msg})
}

// isJSON accepts application/json with any parameters (charset=utf-8).
// hasJSONBody answers 415 unless the body is sent as application/json.
func hasJSONBody(w http.ResponseWriter, r *http.Request) bool {
	if !isJSON(r.Header.Get("Content-Type")) {
		w.Header().Set("Accept", "application/json")
		msg := "the body must be JSON sent with Content-Type: application/json"
		writeError(w, http.StatusUnsupportedMediaType, msg, Problem{"Content-Type", "unsupported", msg})
		return false
	}
	return true
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// unknownField extracts the name from encoding/json's
// `json: unknown field "x"` error ("" for other errors).
func unknownField(err error) string {
	const prefix = `json: unknown field "`
	if msg := err.Error(); strings.HasPrefix(msg, prefix) {
		return strings.TrimSuffix(strings.TrimPrefix(msg, prefix), `"`)
	}
	return ""
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Bool:
		return "boolean"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "number"
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness is the answer of GET /readyz.
type Readiness struct {
	// Ready: the sender accepts and delivers messages (200); else 503.
	Ready bool `json:"-"`
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Error says why not ready.
	Error string `json:"error,omitempty"`
	// Checks is each part's state: "ok", or what is wrong.
	Checks map[string]string `json:"checks,omitempty"`
	// Apps is each app's state (detail: an app's refused credentials
	// concern that app, not the readiness of the sender).
	Apps map[string]AppHealth `json:"apps,omitempty"`
}

// AppHealth is one app's state in /readyz.
type AppHealth struct {
	Healthy bool      `json:"healthy"`
	Reason  string    `json:"reason,omitempty"`
	Since   time.Time `json:"since,omitzero"`
}

func (a *API) readyz(w http.ResponseWriter, _ *http.Request) {
	rd := Readiness{Ready: true}
	if a.hooks.Ready != nil {
		rd = a.hooks.Ready()
	}
	status := http.StatusOK
	if rd.Status = "ready"; !rd.Ready {
		rd.Status, status = "not ready", http.StatusServiceUnavailable
		// A probe may retry sooner, but nothing changes faster.
		w.Header().Set("Retry-After", strconv.Itoa(storageRetryAfter))
	}
	writeJSON(w, status, rd)
}

// storageRetryAfter is the Retry-After (seconds) of answers that storage
// could not serve now: disk full, I/O errors, a store too busy to answer.
const storageRetryAfter = 5

func (a *API) storeError(w http.ResponseWriter, err error, what string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, what+" not found", Problem{notFoundField(what), "not_found", what + " not found"})
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, err.Error(), Problem{"status", "conflict", err.Error()})
	case errors.Is(err, storage.ErrIdempotencyMismatch):
		keyMismatch(w)
	case errors.Is(err, storage.ErrUnavailable):
		// Disk full, I/O errors: nothing was stored, and it is the
		// storage's failure, not the request's. Never 500, never 202.
		a.log.Error("storage unavailable", "what", what, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(storageRetryAfter))
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"storage cannot serve this now (the disk may be full or failing): nothing was stored; retry after %d s", storageRetryAfter))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", strconv.Itoa(storageRetryAfter))
		writeError(w, http.StatusServiceUnavailable, "storage did not answer in time")
	default:
		a.log.Error("storage", "what", what, "err", err)
		writeError(w, http.StatusInternalServerError, "storage error")
	}
}

// notFoundField is the path parameter that named what was not found.
func notFoundField(what string) string {
	switch what {
	case "group", "app":
		return "name"
	}
	return "id"
}

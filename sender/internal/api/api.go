// Package api is the sender's HTTP API (gorilla/mux, JSON, Bearer API
// keys): accept messages and broadcasts, manage groups, read statuses,
// redrive dead letters, and the health and metrics endpoints.
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

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/openapi"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Store is what the API needs from storage.
type Store interface {
	Enqueue(ctx context.Context, msgs []message.Message) ([]message.Message, []bool, error)
	CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error)
	Get(ctx context.Context, id string) (message.Message, error)
	List(ctx context.Context, f storage.Filter) ([]message.Message, string, error)
	Broadcast(ctx context.Context, id string) (message.Broadcast, map[message.Status]int, error)
	Redrive(ctx context.Context, id string, now time.Time) (message.Message, error)
	PutGroup(ctx context.Context, app, name string, members iter.Seq2[string, error], key string, fingerprint func() string) (message.Group, bool, error)
	Group(ctx context.Context, app, name, after string, limit int) (message.Group, []string, string, error)
	DeleteGroup(ctx context.Context, app, name string, idem storage.Idempotency) (bool, error)
	Consents(ctx context.Context, app, user string, limit int) ([]consent.Entry, error)
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
	// Ready reports readiness from memory (it must never wait on storage:
	// probes are anonymous and frequent).
	Ready func() Readiness
	// Metrics serves /metrics.
	Metrics http.Handler
}

// API serves the sender's HTTP API.
type API struct {
	store   Store
	apps    map[string]config.App
	keys    []config.APIKey
	content *contentrules.Rules
	hooks   Hooks
	log     *slog.Logger
	now     func() time.Time
	// rates holds each key's request limiter, by index in keys.
	rates      keyRates
	metricsKey bool
}

// New returns the API.
func New(store Store, cfg *config.Config, content *contentrules.Rules, hooks Hooks, log *slog.Logger) *API {
	apps := map[string]config.App{}
	for _, a := range cfg.Apps {
		apps[a.Name] = a
	}
	return &API{store: store, apps: apps, keys: cfg.APIKeys, content: content, hooks: hooks, log: log, now: time.Now,
		rates: newKeyRates(cfg), metricsKey: cfg.Metrics.RequireKey}
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
			metrics = a.auth(metrics)
		}
		r.Handle("/metrics", metrics)
	}
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(a.auth)
	v1.Handle("/messages", methods{http.MethodPost: a.postMessage, http.MethodGet: a.listMessages})
	v1.Handle("/messages/{id}", methods{http.MethodGet: a.getMessage})
	v1.Handle("/messages/{id}/retry", methods{http.MethodPost: a.retryMessage})
	v1.Handle("/broadcasts", methods{http.MethodPost: a.postBroadcast})
	v1.Handle("/broadcasts/{id}", methods{http.MethodGet: a.getBroadcast})
	v1.Handle("/groups/{name}", methods{http.MethodPut: a.putGroup, http.MethodGet: a.getGroup, http.MethodDelete: a.deleteGroup})
	v1.Handle("/consents", methods{http.MethodGet: a.getConsents})
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
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
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)",
		r.Method, r.URL.Path, strings.Join(allowed, ", ")))
}

// auth admits callers with a configured API key (constant-time compare),
// each within its request rate.
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
						writeError(w, http.StatusTooManyRequests, fmt.Sprintf(
							"API key %q is over its request rate (%s); retry after %s", k.Name, a.rates.describe(i), wait.Round(time.Millisecond)))
						return
					}
					next.ServeHTTP(w, r)
					return
				}
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="minipush"`)
		writeError(w, http.StatusUnauthorized, "a valid API key is required: Authorization: Bearer <key>")
	})
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
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeProblems(w http.ResponseWriter, ps []Problem) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "validation failed", Problems: ps})
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
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the %d-byte limit", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "cannot read body: "+err.Error())
		return false
	}
	// bytes, not string(body): a broadcast body is megabytes, and each
	// conversion would copy it.
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "empty body: a JSON object is required")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err))
		case errors.As(err, &te) && te.Field == "":
			writeError(w, http.StatusBadRequest, fmt.Sprintf("the body must be a JSON object, got %s", te.Value))
		case errors.As(err, &te):
			path := jsonPath(body, te.Offset)
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "a value has the wrong type", Problems: []Problem{
				{path, "type", fmt.Sprintf("%s: want %s, got %s", path, jsonType(te.Type), te.Value)}}})
		case unknownField(err) != "":
			f := unknownField(err)
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "unknown field", Problems: []Problem{
				{f, "unknown_field", fmt.Sprintf("unknown field %q", f)}}})
		case errors.Is(err, io.ErrUnexpectedEOF):
			writeError(w, http.StatusBadRequest, "malformed JSON: the body ends early")
		default:
			// A field's own decoder refused its value (send_at).
			writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "body must hold exactly one JSON object")
		return false
	}
	return true
}

// isJSON accepts application/json with any parameters (charset=utf-8).
// hasJSONBody answers 415 unless the body is sent as application/json.
func hasJSONBody(w http.ResponseWriter, r *http.Request) bool {
	if !isJSON(r.Header.Get("Content-Type")) {
		w.Header().Set("Accept", "application/json")
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON sent with Content-Type: application/json")
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
		writeError(w, http.StatusNotFound, what+" not found")
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
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

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
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Store is what the API needs from storage.
type Store interface {
	Enqueue(ctx context.Context, msgs []message.Message) ([]message.Message, []bool, error)
	CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) error
	Get(ctx context.Context, id string) (message.Message, error)
	List(ctx context.Context, f storage.Filter) ([]message.Message, string, error)
	Broadcast(ctx context.Context, id string) (message.Broadcast, map[message.Status]int, error)
	Redrive(ctx context.Context, id string, now time.Time) (message.Message, error)
	PutGroup(ctx context.Context, app, name string, members []string) error
	Group(ctx context.Context, app, name string) ([]string, error)
	DeleteGroup(ctx context.Context, app, name string) error
}

// Hooks connect the API to the rest of the service. Any may be nil.
type Hooks struct {
	// Queued is called after messages are committed (wakes the dispatcher).
	Queued func()
	// Accepted and Rejected count messages for metrics.
	Accepted func(app string, n int)
	Rejected func(app, rule string)
	// Ready reports readiness (storage open, dispatcher running).
	Ready func(ctx context.Context) error
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
}

// New returns the API.
func New(store Store, cfg *config.Config, content *contentrules.Rules, hooks Hooks, log *slog.Logger) *API {
	apps := map[string]config.App{}
	for _, a := range cfg.Apps {
		apps[a.Name] = a
	}
	return &API{store: store, apps: apps, keys: cfg.APIKeys, content: content, hooks: hooks, log: log, now: time.Now}
}

// Body limits: a message is small; a broadcast carries its recipient list.
const (
	maxMessageBody   = 1 << 20
	maxBroadcastBody = 32 << 20
)

// Handler builds the router.
func (a *API) Handler() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/healthz", a.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", a.readyz).Methods(http.MethodGet, http.MethodHead)
	if a.hooks.Metrics != nil {
		r.Handle("/metrics", a.hooks.Metrics).Methods(http.MethodGet)
	}
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(a.auth)
	v1.HandleFunc("/messages", a.postMessage).Methods(http.MethodPost)
	v1.HandleFunc("/messages", a.listMessages).Methods(http.MethodGet)
	v1.HandleFunc("/messages/{id}", a.getMessage).Methods(http.MethodGet)
	v1.HandleFunc("/messages/{id}/retry", a.retryMessage).Methods(http.MethodPost)
	v1.HandleFunc("/broadcasts", a.postBroadcast).Methods(http.MethodPost)
	v1.HandleFunc("/broadcasts/{id}", a.getBroadcast).Methods(http.MethodGet)
	v1.HandleFunc("/groups/{name}", a.putGroup).Methods(http.MethodPut)
	v1.HandleFunc("/groups/{name}", a.getGroup).Methods(http.MethodGet)
	v1.HandleFunc("/groups/{name}", a.deleteGroup).Methods(http.MethodDelete)
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	methodNotAllowed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	})
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, methodNotAllowed
	v1.NotFoundHandler, v1.MethodNotAllowedHandler = notFound, methodNotAllowed
	return r
}

// auth admits callers with a configured API key (constant-time compare).
func (a *API) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1); the key is not.
		h := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			for _, k := range a.keys {
				if subtle.ConstantTimeCompare([]byte(key), []byte(k.Key)) == 1 {
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

// decode reads a JSON body within limit: 413 when over, 400 when malformed
// (naming where), unknown fields refused.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
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
		case errors.As(err, &te):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("field %q must be %s", te.Field, te.Type))
		default:
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

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.hooks.Ready != nil {
		if err := a.hooks.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) storeError(w http.ResponseWriter, err error, what string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, what+" not found")
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "storage did not answer in time")
	default:
		a.log.Error("storage", "what", what, "err", err)
		writeError(w, http.StatusInternalServerError, "storage error")
	}
}

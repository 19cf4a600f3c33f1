// Package controlapi serves the mock's control API under /_mock/: seeding
// apps, users, templates and grants, reading the inbox and the request
// journal, injecting faults, moving the clock, setting content rules and
// quotas. Every answer is JSON; bad calls answer 4xx with the field named.
package controlapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Platform is what the control API needs from a platform emulation.
type Platform interface {
	// Endpoints names the endpoints faults and quotas can target.
	Endpoints() []string
	// DefaultLimits are the platform's call limits for a new app.
	DefaultLimits() []quota.Limit
	// PrepareApp checks the platform's own fields of a new app and fills
	// a.Extra. It returns extra fields for the 201 answer, or the bad field.
	PrepareApp(req mockapi.App, a *store.App) (answer map[string]any, field string, err error)
}

// API is the control API of one mock server.
type API struct {
	env       *platform.Env
	platforms map[string]Platform
	reset     func()
	ready     func() bool
}

// New returns the API. reset restores the seed; ready reports readiness.
func New(env *platform.Env, platforms map[string]Platform, reset func(), ready func() bool) *API {
	return &API{env: env, platforms: platforms, reset: reset, ready: ready}
}

// maxControlBody bounds control API bodies (seeds can be large).
const maxControlBody = 16 << 20

// Routes registers the control API on r.
func (a *API) Routes(r *mux.Router) {
	r.HandleFunc("/healthz", a.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", a.readyz).Methods(http.MethodGet, http.MethodHead)
	c := r.PathPrefix("/_mock").Subrouter()
	c.HandleFunc("/reset", a.postReset).Methods(http.MethodPost)
	c.HandleFunc("/apps", a.getApps).Methods(http.MethodGet)
	c.HandleFunc("/apps", a.postApp).Methods(http.MethodPost)
	c.HandleFunc("/users", a.postUser).Methods(http.MethodPost)
	c.HandleFunc("/templates", a.getTemplates).Methods(http.MethodGet)
	c.HandleFunc("/templates", a.postTemplate).Methods(http.MethodPost)
	c.HandleFunc("/grants", a.getGrants).Methods(http.MethodGet)
	c.HandleFunc("/grants", a.postGrant).Methods(http.MethodPost)
	c.HandleFunc("/grants", a.deleteGrant).Methods(http.MethodDelete)
	c.HandleFunc("/messages", a.getMessages).Methods(http.MethodGet)
	c.HandleFunc("/messages", a.deleteMessages).Methods(http.MethodDelete)
	c.HandleFunc("/requests", a.getRequests).Methods(http.MethodGet)
	c.HandleFunc("/requests", a.deleteRequests).Methods(http.MethodDelete)
	c.HandleFunc("/faults", a.getFaults).Methods(http.MethodGet)
	c.HandleFunc("/faults", a.postFault).Methods(http.MethodPost)
	c.HandleFunc("/faults", a.deleteFaults).Methods(http.MethodDelete)
	c.HandleFunc("/faults/{id}", a.deleteFault).Methods(http.MethodDelete)
	c.HandleFunc("/clock", a.getClock).Methods(http.MethodGet)
	c.HandleFunc("/clock", a.postClock).Methods(http.MethodPost)
	c.HandleFunc("/content-rules", a.getContentRules).Methods(http.MethodGet)
	c.HandleFunc("/content-rules", a.putContentRules).Methods(http.MethodPut, http.MethodPost)
	c.HandleFunc("/quotas", a.getQuotas).Methods(http.MethodGet)
	c.HandleFunc("/quotas", a.putQuota).Methods(http.MethodPut, http.MethodPost)
	c.HandleFunc("/quotas/usage", a.deleteQuotaUsage).Methods(http.MethodDelete)
	c.HandleFunc("/stats", a.getStats).Methods(http.MethodGet)
	c.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path))
	})
	c.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "", fmt.Errorf("method %s not allowed on %s", r.Method, r.URL.Path))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, field string, err error) {
	writeJSON(w, status, mockapi.Error{Error: err.Error(), Field: field})
}

// fieldError names the field a request got wrong.
type fieldError struct {
	field  string
	status int
	err    error
}

func (e *fieldError) Error() string { return e.err.Error() }

func bad(field string, format string, args ...any) *fieldError {
	return &fieldError{field: field, status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

func notFound(field string, format string, args ...any) *fieldError {
	return &fieldError{field: field, status: http.StatusNotFound, err: fmt.Errorf(format, args...)}
}

func fail(w http.ResponseWriter, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		writeError(w, fe.status, fe.field, fe.err)
		return
	}
	writeError(w, http.StatusInternalServerError, "", err)
}

// decode reads a JSON body strictly: unknown fields are errors that name
// the field, so typos in scripts do not pass silently.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		return bad("", "read body: %v", err)
	}
	if len(body) > maxControlBody {
		return &fieldError{status: http.StatusRequestEntityTooLarge, err: fmt.Errorf("body over %d bytes", maxControlBody)}
	}
	if len(body) == 0 {
		return bad("", "empty body: a JSON object is required")
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return bad(ute.Field, "field %s must be %s", ute.Field, ute.Type)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return bad("", "malformed JSON at byte %d: %v", se.Offset, err)
		}
		if f, ok := unknownField(err); ok {
			return bad(f, "unknown field %q", f)
		}
		return bad("", "invalid JSON body: %v", err)
	}
	return nil
}

// platformApp checks platform and app_id and returns the app.
func (a *API) platformApp(platformName, appID string) (*store.App, error) {
	if err := a.checkPlatform(platformName); err != nil {
		return nil, err
	}
	if appID == "" {
		return nil, bad("app_id", "app_id is required")
	}
	app, ok := a.env.Store.App(platformName, appID)
	if !ok {
		return nil, notFound("app_id", "unknown %s app %q: register it with POST /_mock/apps", platformName, appID)
	}
	return app, nil
}

func (a *API) checkPlatform(name string) error {
	if name == "" {
		return bad("platform", "platform is required (one of %v)", a.platformNames())
	}
	if _, ok := a.platforms[name]; !ok {
		return bad("platform", "platform %q is not emulated (one of %v)", name, a.platformNames())
	}
	return nil
}

func (a *API) platformNames() []string {
	names := make([]string, 0, len(a.platforms))
	for n := range a.platforms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, _ *http.Request) {
	if a.ready != nil && !a.ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) postReset(w http.ResponseWriter, _ *http.Request) {
	a.reset()
	w.WriteHeader(http.StatusNoContent)
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, bad(name, "%s must be a non-negative integer, got %q", name, s)
	}
	return n, nil
}

// maxWait caps ?wait= so a forgotten wait cannot hold a connection forever.
const maxWait = 5 * time.Minute

func queryWait(r *http.Request) (time.Duration, error) {
	s := r.URL.Query().Get("wait")
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad("wait", "wait must be a duration like 5s, got %q", s)
	}
	return min(d, maxWait), nil
}

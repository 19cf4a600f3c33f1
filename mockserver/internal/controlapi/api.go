// Package controlapi serves the mock's control API under /_mock/: seeding
// apps, users, templates and grants, reading the inbox and the request
// journal, injecting faults, moving the clock, setting content rules and
// quotas, configuring and reading the pushes to developers' servers. Every
// answer is JSON; bad calls answer 4xx with the field named.
package controlapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/controlapi/openapi"
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
	// CheckKeywordKey says whether key can name a template keyword on the
	// platform (WeChat "thing1", Alipay/Baidu "keyword1", Douyin names …).
	CheckKeywordKey(key string) error
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
//
// Each path is registered once and dispatches on the method itself:
// gorilla/mux answers a wrong method on a subrouter with its NotFound
// handler rather than MethodNotAllowed, and scripts deserve a 405 that
// lists the allowed methods.
func (a *API) Routes(r *mux.Router) {
	r.Handle("/healthz", methods{http.MethodGet: a.healthz, http.MethodHead: a.healthz})
	r.Handle("/readyz", methods{http.MethodGet: a.readyz, http.MethodHead: a.readyz})
	// The contract (openapi/control.yaml): a control route added here and
	// not there fails the mock's TestControlRoutesMatchTheDocument.
	r.Handle("/openapi.json", methods{http.MethodGet: openapi.Document().ServeHTTP, http.MethodHead: openapi.Document().ServeHTTP})
	c := r.PathPrefix("/_mock").Subrouter()
	c.Handle("/reset", methods{http.MethodPost: a.postReset})
	c.Handle("/apps", methods{http.MethodGet: a.getApps, http.MethodPost: a.postApp})
	c.Handle("/users", methods{http.MethodGet: a.getUsers, http.MethodPost: a.postUser})
	c.Handle("/templates", methods{http.MethodGet: a.getTemplates, http.MethodPost: a.postTemplate})
	c.Handle("/grants", methods{http.MethodGet: a.getGrants, http.MethodPost: a.postGrant, http.MethodDelete: a.deleteGrant})
	c.Handle("/messages", methods{http.MethodGet: a.getMessages, http.MethodDelete: a.deleteMessages})
	c.Handle("/requests", methods{http.MethodGet: a.getRequests, http.MethodDelete: a.deleteRequests})
	c.Handle("/faults", methods{http.MethodGet: a.getFaults, http.MethodPost: a.postFault, http.MethodDelete: a.deleteFaults})
	c.Handle("/faults/{id}", methods{http.MethodDelete: a.deleteFault})
	c.Handle("/clock", methods{http.MethodGet: a.getClock, http.MethodPost: a.postClock})
	c.Handle("/content-rules", methods{http.MethodGet: a.getContentRules, http.MethodPut: a.putContentRules, http.MethodPost: a.putContentRules})
	c.Handle("/quotas", methods{http.MethodGet: a.getQuotas, http.MethodPut: a.putQuota, http.MethodPost: a.putQuota})
	c.Handle("/quotas/usage", methods{http.MethodDelete: a.deleteQuotaUsage})
	c.Handle("/stats", methods{http.MethodGet: a.getStats})
	a.surfaceRoutes(c)
	a.pushRoutes(c)
	c.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path))
	})
}

// methods serves one path: a handler per HTTP method, 405 for the others.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allowed := make([]string, 0, len(m))
	for k := range m {
		allowed = append(allowed, k)
	}
	sort.Strings(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "", fmt.Errorf("method %s not allowed on %s (allowed: %s)",
		r.Method, r.URL.Path, strings.Join(allowed, ", ")))
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

// ErrorField names the request field an error of this package is about
// ("" when it is about no single field).
func ErrorField(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.field
	}
	return ""
}

// ErrorStatus is the HTTP status the control API answers err with.
func ErrorStatus(err error) int {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.status
	}
	return http.StatusInternalServerError
}

// Platforms names the emulated platforms, sorted.
func (a *API) Platforms() []string { return a.platformNames() }

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
			if ute.Field == "" {
				return bad("", "the body must be a JSON object, got %s", ute.Value)
			}
			// The value is not echoed: it may be a secret sent in the
			// wrong field.
			return bad(ute.Field, "field %s must be %s", ute.Field, describeType(ute.Type))
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return bad("", "malformed JSON at byte %d: %v", se.Offset, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return bad("", "malformed JSON: the body ends early")
		}
		if f, ok := unknownField(err); ok {
			return bad(f, "unknown field %q", f)
		}
		return bad("", "invalid JSON body: %v", err)
	}
	// One object per call: trailing data is most likely a script that
	// concatenated two bodies, and would otherwise be ignored.
	if _, err := dec.Token(); err != io.EOF {
		return bad("", "unexpected data after the JSON object")
	}
	return nil
}

// describeType says in words what a field expects.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[mockapi.Duration]():
		return `a duration like "300ms" or "2h" (or a number of milliseconds)`
	case reflect.TypeFor[mockapi.ContentWord]():
		return `a word: a string or {"word","label"}`
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return t.String()
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

// Reset returns all state to the seed.
func (a *API) Reset() { a.reset() }

func (a *API) postReset(w http.ResponseWriter, _ *http.Request) {
	a.Reset()
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

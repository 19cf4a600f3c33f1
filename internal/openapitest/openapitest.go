// Package openapitest holds an HTTP server to its OpenAPI document in tests.
//
// A Checker validates every exchange a test makes — the request against the
// document's parameters, security and request body, the answer against the
// documented statuses, headers and schemas — through a handler wrapper
// (Wrap) or a client transport (Transport). The rules:
//
//   - an answer must be documented for its operation and status, and match
//     its schema;
//   - a request the document refuses must not succeed (2xx);
//   - a request to an operation the document does not know must not
//     succeed (the route is then served but undocumented).
//
// Requests the document accepts may still be refused by the server (an
// unknown app, a conflict): the document describes shapes, the server
// decides meaning. Mismatches fail the test through its Errorf.
//
// Checks run in the background, after the answer has been handed on, so a
// test's timing is not the validator's (kin-openapi compiles each schema it
// validates with: about a millisecond an exchange). Wait waits for them; a
// Checker made for a testing.TB waits in the test's cleanup.
//
// Routes compares a gorilla/mux router with the document both ways: every
// route and method served is documented, every documented one is served.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Reporter receives mismatches; *testing.T and *testing.B are Reporters.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// MaxValidatedBody bounds the request and answer bodies validated: a
// larger body (a group of a million members) is passed on unvalidated,
// and only its status and headers are checked.
const MaxValidatedBody = 4 << 20

// Checker validates exchanges against one document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
	scope  func(path string) bool
	report Reporter
	// mu serialises reports: several handlers may fail at once.
	mu sync.Mutex
	// pending counts checks running; slots bounds them.
	pending sync.WaitGroup
	slots   chan struct{}
}

// Option configures a Checker.
type Option func(*Checker)

// Scope limits the checks to the paths in scope; others pass untouched (a
// mock serves its platforms' paths beside its documented control API).
func Scope(inScope func(path string) bool) Option { return func(c *Checker) { c.scope = inScope } }

// Load parses and validates an OpenAPI document (YAML or JSON).
func Load(spec []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi document is invalid: %w", err)
	}
	return doc, nil
}

// New returns a Checker reporting to r. The document's servers are
// ignored: tests serve on whatever address they get.
func New(r Reporter, spec []byte, opts ...Option) (*Checker, error) {
	doc, err := Load(spec)
	if err != nil {
		return nil, err
	}
	// The router matches servers' hosts; tests listen on random ports.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("route the openapi document: %w", err)
	}
	c := &Checker{doc: doc, router: router, scope: func(string) bool { return true }, report: r,
		slots: make(chan struct{}, 2)}
	for _, o := range opts {
		o(c)
	}
	if tb, ok := r.(interface{ Cleanup(func()) }); ok {
		tb.Cleanup(c.Wait)
	}
	return c, nil
}

// Must is New that fails the test (tb.Fatal) on a bad document.
func Must(tb interface {
	Reporter
	Fatalf(format string, args ...any)
}, spec []byte, opts ...Option) *Checker {
	tb.Helper()
	c, err := New(tb, spec, opts...)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return c
}

// Doc is the loaded document.
func (c *Checker) Doc() *openapi3.T { return c.doc }

func (c *Checker) errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.report.Helper()
	c.report.Errorf("openapi: "+format, args...)
}

// exchange is one request and its answer.
type exchange struct {
	req      *http.Request
	body     []byte
	bodyOK   bool // body holds the whole request body
	status   int
	header   http.Header
	answer   []byte
	answerOK bool // answer holds the whole answer
}

// inScope says whether an exchange is checked at all.
func (c *Checker) inScope(r *http.Request) bool {
	// HEAD answers have no body to check; GET's stand for them.
	return r.Method != http.MethodHead && c.scope(r.URL.Path)
}

// Wait returns when every exchange seen so far has been checked (and any
// mismatch reported).
func (c *Checker) Wait() { c.pending.Wait() }

// checkLater checks x in the background.
func (c *Checker) checkLater(x exchange) {
	c.pending.Add(1)
	go func() {
		defer c.pending.Done()
		c.slots <- struct{}{}
		defer func() { <-c.slots }()
		c.check(context.Background(), x)
	}()
}

// check validates one exchange and reports every mismatch.
func (c *Checker) check(ctx context.Context, x exchange) {
	what := fmt.Sprintf("%s %s", x.req.Method, x.req.URL.RequestURI())
	route, params, err := c.router.FindRoute(x.req)
	if err != nil {
		if accepted(x.status) {
			c.errorf("%s answered %d but the document has no such operation (%v): document it", what, x.status, err)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    requestWithBody(x.req, x.body),
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			ExcludeRequestBody: !x.bodyOK,
			AuthenticationFunc: bearerPresent,
		},
	}
	refused := openapi3filter.ValidateRequest(ctx, in)
	if refused != nil && accepted(x.status) {
		c.errorf("%s: the document refuses this request but the server answered %d:\n%v", what, x.status, refused)
	}
	if refused != nil && !documented(route, x.status) {
		// The document cannot list every way to refuse a request it
		// refuses too; a refusal it does list is checked below.
		return
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.status,
		Header:                 x.header,
		Options: &openapi3filter.Options{
			MultiError:            true,
			IncludeResponseStatus: true,
			ExcludeResponseBody:   !x.answerOK,
		},
	}
	out.SetBodyBytes(x.answer)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.errorf("%s: the answer %d does not match the document:\n%v\nanswer: %s", what, x.status, err, clip(x.answer))
	}
}

// accepted says whether an answer took the request: 2xx (a redirect, such
// as gorilla/mux's 301 to a cleaned path, serves nothing).
func accepted(status int) bool { return status >= 200 && status < 300 }

// documented says whether the operation lists status (or a range or a
// default covering it).
func documented(route *routers.Route, status int) bool {
	rs := route.Operation.Responses
	if rs == nil {
		return false
	}
	code := strconv.Itoa(status)
	return rs.Value(code) != nil || rs.Value(code[:1]+"XX") != nil || rs.Default() != nil
}

// bearerPresent admits a request that carries a Bearer credential for an
// http bearer scheme: whether the key is right is the server's business.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not checked by openapitest", in.SecuritySchemeName)
	}
	scheme, cred, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return errors.New("no Authorization: Bearer credential")
	}
	return nil
}

// requestWithBody is r with body as its (rewindable) body.
func requestWithBody(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(context.WithoutCancel(r.Context()))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

func clip(b []byte) string {
	const n = 600
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// readUpTo reads at most MaxValidatedBody bytes of r: the bytes read, and
// whether they are all of it. rest continues where the bytes end.
func readUpTo(r io.Reader) (b []byte, whole bool, rest io.Reader, err error) {
	b, err = io.ReadAll(io.LimitReader(r, MaxValidatedBody+1))
	if err != nil {
		return b, false, io.MultiReader(bytes.NewReader(b), r), err
	}
	if len(b) > MaxValidatedBody {
		return b, false, io.MultiReader(bytes.NewReader(b), r), nil
	}
	return b, true, bytes.NewReader(b), nil
}

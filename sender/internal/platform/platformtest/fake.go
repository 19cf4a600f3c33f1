package platformtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// Fake is a platform server for a client's tests: it answers its token
// path with a working token, and every other path with a canned status,
// header and body, whatever the request. It records the last request of
// each kind.
type Fake struct {
	*httptest.Server
	mu    sync.Mutex
	token Request
	last  Request
}

// Request is a request the Fake received.
type Request struct {
	Method string
	URL    string // path and query
	Query  url.Values
	// RawQuery is the query as sent.
	RawQuery string
	Header   http.Header
	Body     []byte
	Form     url.Values // Body read as a form
}

// Answer is the Fake's canned answer to everything but the token path.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewFake serves tokenAnswer on tokenPath and a on every other path, until
// the test ends.
func NewFake(t testing.TB, tokenPath, tokenAnswer string, a Answer) *Fake {
	f := &Fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		got := Request{Method: r.Method, URL: r.URL.String(), Query: r.URL.Query(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: b, Form: form}
		f.mu.Lock()
		if r.URL.Path == tokenPath {
			f.token = got
		} else {
			f.last = got
		}
		f.mu.Unlock()
		if r.URL.Path == tokenPath {
			_, _ = w.Write([]byte(tokenAnswer))
			return
		}
		for k, v := range a.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	}))
	t.Cleanup(f.Close)
	return f
}

// Token is the last request of the token path.
func (f *Fake) Token() Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token
}

// Last is the last request of another path.
func (f *Fake) Last() Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// HTTPCase is a row of a table of HTTP answers (a status, a header and a
// body from the platform or a proxy in front of it) and the error the
// client must make of each.
type HTTPCase struct {
	Name           string
	Answer         Answer
	WantClass      message.Outcome
	WantCode       string
	WantRetryAfter time.Duration
}

// HTTPAnswers runs each case in parallel: send makes the client's call
// against a Fake answering the case's answer, and the error it returns must
// be a *platform.Error that passes check, with the case's class, code and
// RetryAfter.
func HTTPAnswers(t *testing.T, cases []HTTPCase, send func(t *testing.T, a Answer) error, check func(*testing.T, *platform.Error)) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			perr := AsError(t, send(t, tt.Answer))
			check(t, perr)
			if perr.Class != tt.WantClass || perr.Code != tt.WantCode || perr.RetryAfter != tt.WantRetryAfter {
				t.Fatalf("Send error %q RetryAfter %s; want %s %s %s", perr, perr.RetryAfter, tt.WantClass, tt.WantCode, tt.WantRetryAfter)
			}
		})
	}
}

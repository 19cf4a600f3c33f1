package openapitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/internal/openapitest"
)

const spec = `
openapi: 3.1.0
info: {title: test, version: "1"}
paths:
  /items:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [name]
              properties:
                name: {type: string, maxLength: 5}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [id]
                properties:
                  id: {type: string}
        "400": {description: bad}
  /items/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: the item
          content:
            application/json:
              schema: {type: object, required: [id], properties: {id: {type: string}}}
`

// reporter records what a Checker reports.
type reporter struct {
	mu   sync.Mutex
	errs []string
}

func (r *reporter) Helper() {}
func (r *reporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// server answers as told: the handler under test.
type server struct {
	status int
	answer string
}

func (s server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.answer)
}

func TestExchanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, body string
		srv                      server
		want                     string // a word of the report; "" for none
	}{
		{"valid", "POST", "/items", `{"name":"pen"}`, server{201, `{"id":"1"}`}, ""},
		{"refused bad request", "POST", "/items", `{"name":"too long"}`, server{400, ``}, ""},
		{"accepted bad request", "POST", "/items", `{"name":"too long"}`, server{201, `{"id":"1"}`}, "refuses this request"},
		{"unknown field accepted", "POST", "/items", `{"name":"a","x":1}`, server{201, `{"id":"1"}`}, "refuses this request"},
		{"answer off schema", "POST", "/items", `{"name":"pen"}`, server{201, `{"id":1}`}, "does not match"},
		{"undocumented field in answer", "POST", "/items", `{"name":"pen"}`, server{201, `{"id":"1","extra":true}`}, "does not match"},
		{"undocumented status", "POST", "/items", `{"name":"pen"}`, server{409, `{}`}, "does not match"},
		{"undocumented operation served", "DELETE", "/items/1", ``, server{204, ``}, "no such operation"},
		{"undocumented path served", "GET", "/other", ``, server{200, `{}`}, "no such operation"},
		{"undocumented path refused", "GET", "/other", ``, server{404, `{}`}, ""},
		{"path parameter", "GET", "/items/abc", ``, server{200, `{"id":"abc"}`}, ""},
		{"bad request refused with an unlisted status", "POST", "/items", `{"name":"too long"}`, server{422, `{}`}, ""},
		{"good request answered an unlisted status", "POST", "/items", `{"name":"pen"}`, server{422, `{}`}, "does not match"},
	}
	for _, tc := range tests {
		for _, side := range []string{"handler", "transport"} {
			t.Run(tc.name+"/"+side, func(t *testing.T) {
				t.Parallel()
				rep := &reporter{}
				c, err := openapitest.New(rep, []byte(spec))
				if err != nil {
					t.Fatal(err)
				}
				var hs *httptest.Server
				client := http.DefaultClient
				if side == "handler" {
					hs = httptest.NewServer(c.Wrap(tc.srv))
				} else {
					hs = httptest.NewServer(tc.srv)
					client = &http.Client{Transport: c.Transport(nil)}
				}
				defer hs.Close()
				req, _ := http.NewRequest(tc.method, hs.URL+tc.path, strings.NewReader(tc.body))
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != tc.srv.answer {
					t.Errorf("the client got %q, the server answered %q", b, tc.srv.answer)
				}
				hs.Close()
				c.Wait()
				rep.mu.Lock()
				defer rep.mu.Unlock()
				got := strings.Join(rep.errs, "\n")
				switch {
				case tc.want == "" && got != "":
					t.Errorf("reported %s, want nothing", got)
				case tc.want != "" && !strings.Contains(got, tc.want):
					t.Errorf("reported %q, want a report with %q", got, tc.want)
				}
			})
		}
	}
}

// Scope leaves other paths alone, whatever they answer.
func TestScope(t *testing.T) {
	t.Parallel()
	rep := &reporter{}
	c, err := openapitest.New(rep, []byte(spec), openapitest.Scope(func(p string) bool { return strings.HasPrefix(p, "/items") }))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(c.Wrap(server{200, `not json`}))
	resp, err := http.Get(hs.URL + "/platform/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hs.Close()
	c.Wait()
	if len(rep.errs) > 0 {
		t.Fatalf("out of scope, reported %v", rep.errs)
	}
}

// methods answers 405 with Allow for methods it does not serve, as the
// project's routers do.
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	var allow []string
	for k := range m {
		allow = append(allow, k)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	w.WriteHeader(http.StatusMethodNotAllowed)
}

func TestCheckRoutes(t *testing.T) {
	t.Parallel()
	ok := server{200, `{}`}
	tests := []struct {
		name  string
		build func(r *mux.Router)
		want  []string
	}{
		{"same", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
			r.Handle("/items/{id}", methods{"GET": ok, "HEAD": ok})
		}, nil},
		{"regexp variable", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
			r.Handle("/items/{id:[a-z0-9]+}", methods{"GET": ok})
		}, nil},
		{"extra method", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok, "GET": ok})
			r.Handle("/items/{id}", methods{"GET": ok})
		}, []string{"GET /items is served but not documented"}},
		{"extra path in a subrouter", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
			r.Handle("/items/{id}", methods{"GET": ok})
			r.PathPrefix("/v2").Subrouter().Handle("/things", methods{"GET": ok})
		}, []string{"GET /v2/things is served but not documented"}},
		{"missing route", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
		}, []string{"GET /items/{id} is documented but not served"}},
		{"no 405", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
			r.Handle("/items/{id}", ok)
		}, []string{"want 405"}},
		{"prefix handler", func(r *mux.Router) {
			r.Handle("/items", methods{"POST": ok})
			r.Handle("/items/{id}", methods{"GET": ok})
			r.PathPrefix("/files/").Handler(ok)
		}, []string{"path prefix"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := &reporter{}
			c, err := openapitest.New(rep, []byte(spec))
			if err != nil {
				t.Fatal(err)
			}
			r := mux.NewRouter()
			tc.build(r)
			c.CheckRoutes(r, nil)
			got := strings.Join(rep.errs, "\n")
			if len(tc.want) == 0 && got != "" {
				t.Errorf("reported %s, want nothing", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reported %q, want %q", got, w)
				}
			}
		})
	}
}

// A document that is not valid OpenAPI is refused with the reason.
func TestLoadRefusesInvalidDocuments(t *testing.T) {
	t.Parallel()
	_, err := openapitest.Load([]byte("openapi: 3.1.0\ninfo: {title: t}\npaths: {/x: {get: {responses: {}}}}\n"))
	if err == nil {
		t.Fatal("a document without info.version loaded")
	}
}

package sendcases_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/internal/sendcases"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// Every case's requests succeed on one mock seeded with Seed (the cases'
// apps side by side) and on the plain handlers (Baselines), and every
// case that says so lands in the inbox.
func TestEveryCaseSucceedsOnBothServers(t *testing.T) {
	m := mocktest.Start(t, mockserver.WithSeed(sendcases.Seed()))
	plain := httptest.NewServer(sendcases.Baselines())
	defer plain.Close()
	c := plain.Client()
	const n = 3
	for _, sc := range sendcases.All() {
		t.Run(sc.Name, func(t *testing.T) {
			before, err := m.Control.Stats(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			req, err := sc.Prepare(c, m.URL, n)
			if err != nil {
				t.Fatal(err)
			}
			for _, base := range []string{m.URL, plain.URL} {
				next := req.Cycle()
				for range n {
					body, extra := next()
					r, _ := http.NewRequest(http.MethodPost, base+req.Path, bytes.NewReader(body))
					for k, v := range req.Header {
						r.Header[k] = v
					}
					for k, v := range extra {
						r.Header[k] = v
					}
					resp, err := c.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					var b bytes.Buffer
					_, _ = b.ReadFrom(resp.Body)
					resp.Body.Close()
					if !sc.Success(resp.StatusCode, b.Bytes()) {
						t.Errorf("%s: answer %d %s is not the case's success (want %q)", base, resp.StatusCode, b.String(), sc.OK)
					}
				}
			}
			after, err := m.Control.Stats(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := after.Delivered - before.Delivered
			if want := map[bool]uint64{true: n, false: 0}[sc.Inbox]; got != want {
				t.Errorf("the mock delivered %d messages, want %d", got, want)
			}
		})
	}
}

func TestSuccessExact(t *testing.T) {
	t.Parallel()
	k := sendcases.Kuaishou()
	if !k.Success(200, []byte("{\"result\":1}\n")) || k.Success(200, []byte(`{"result":100200100}`)) || k.Success(500, []byte(`{"result":1}`)) {
		t.Error("Kuaishou's success must be exactly {\"result\":1} with HTTP 200")
	}
}

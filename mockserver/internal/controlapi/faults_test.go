package controlapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func tokenPath(sec string) string {
	return "/cgi-bin/token?" + url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {sec}}.Encode()
}

// tokenErrCode calls the token endpoint and returns its errcode.
func tokenErrCode(t *testing.T, m *mocktest.Mock) int {
	t.Helper()
	a := call(t, m, http.MethodGet, tokenPath(secret), nil)
	var out struct {
		ErrCode int `json:"errcode"`
	}
	a.decodeInto(t, &out)
	return out.ErrCode
}

func TestPostFaultsValidation(t *testing.T) {
	t.Parallel()
	const p = "/_mock/faults"
	runSteps(t, []step{
		{"errcode", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1}`, http.StatusCreated, ""},
		{"http status", http.MethodPost, p, `{"platform":"wechat","endpoint":"*","http_status":502,"times":1}`, http.StatusCreated, ""},
		{"latency string", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":"300ms"}`, http.StatusCreated, ""},
		{"latency ms", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":300}`, http.StatusCreated, ""},
		{"drop for one user", http.MethodPost, p, `{"platform":"wechat","endpoint":"subscribe_send","app_id":"wx1","openid":"o1","drop":true}`, http.StatusCreated, ""},
		{"probability with seed", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1,"probability":0.5,"seed":42}`, http.StatusCreated, ""},
		{"missing platform", http.MethodPost, p, `{"endpoint":"token","errcode":-1}`, http.StatusBadRequest, "platform"},
		{"unknown platform", http.MethodPost, p, `{"platform":"myspace","endpoint":"token","errcode":-1}`, http.StatusBadRequest, "platform"},
		{"missing endpoint", http.MethodPost, p, `{"platform":"wechat","errcode":-1}`, http.StatusBadRequest, "endpoint"},
		{"unknown endpoint", http.MethodPost, p, `{"platform":"wechat","endpoint":"tokn","errcode":-1}`, http.StatusBadRequest, "endpoint"},
		{"no action", http.MethodPost, p, `{"platform":"wechat","endpoint":"token"}`, http.StatusBadRequest, "errcode"},
		{"two actions", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1,"drop":true}`, http.StatusBadRequest, "errcode"},
		{"errcode not a number", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":"-1"}`, http.StatusBadRequest, "errcode"},
		{"bad http status", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","http_status":42}`, http.StatusBadRequest, "http_status"},
		{"bad latency text", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":"soon"}`, http.StatusBadRequest, "latency"},
		{"latency wrong type", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":true}`, http.StatusBadRequest, "latency"},
		{"negative latency", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":"-1s"}`, http.StatusBadRequest, "latency"},
		{"huge latency", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","latency":"1h"}`, http.StatusBadRequest, "latency"},
		{"negative times", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1,"times":-1}`, http.StatusBadRequest, "times"},
		{"probability over 1", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1,"probability":2}`, http.StatusBadRequest, "probability"},
		{"errmsg alone", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","drop":true,"errmsg":"x"}`, http.StatusBadRequest, "errmsg"},
		{"unknown field", http.MethodPost, p, `{"platform":"wechat","endpoint":"token","errcode":-1,"count":3}`, http.StatusBadRequest, "count"},
		{"delete unknown", http.MethodDelete, p + "/f999", nil, http.StatusNotFound, "id"},
		{"delete all", http.MethodDelete, p, nil, http.StatusNoContent, ""},
		{"list", http.MethodGet, p, nil, http.StatusOK, ""},
	}, func(t *testing.T) *mocktest.Mock { return start(t) })
}

func TestFaultsFireAndAreRemoved(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	c := m.Control
	busy := -1
	id, err := c.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "token", ErrCode: &busy, Times: 2})
	if err != nil || id == "" {
		t.Fatalf("AddFault = %q, %v", id, err)
	}
	for i := range 2 {
		if got := tokenErrCode(t, m); got != -1 {
			t.Fatalf("call %d: errcode %d, want the injected -1", i+1, got)
		}
	}
	if got := tokenErrCode(t, m); got != 0 {
		t.Fatalf("after times ran out: errcode %d, want 0", got)
	}
	list, err := c.Faults(ctx(t))
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Fired != 2 {
		t.Fatalf("faults %+v, %v; want %s fired twice", list, err, id)
	}
	// The journal records which fault answered.
	reqs, _ := c.Requests(ctx(t), mockclient.RequestFilter{Endpoint: "token"})
	if len(reqs.Requests) != 3 || reqs.Requests[0].Fault != id || reqs.Requests[2].Fault != "" {
		t.Fatalf("journal %+v", reqs.Requests)
	}

	id2, _ := c.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "*", HTTPStatus: 503})
	if a := call(t, m, http.MethodGet, tokenPath(secret), nil); a.status != 503 {
		t.Fatalf("http_status fault: status %d", a.status)
	}
	if err := c.DeleteFault(ctx(t), id2); err != nil {
		t.Fatal(err)
	}
	var ce *mockclient.Error
	if err := c.DeleteFault(ctx(t), id2); !errors.As(err, &ce) || ce.Status != 404 || ce.Field != "id" {
		t.Fatalf("deleting twice: %v", err)
	}
	if got := tokenErrCode(t, m); got != 0 {
		t.Fatalf("after delete: errcode %d", got)
	}

	_, _ = c.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "token", Drop: true})
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, m.URL+tokenPath(secret), nil)
	if resp, err := m.Control.HTTP.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("drop fault answered %d", resp.StatusCode)
	}
	if err := c.ClearFaults(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.Faults(ctx(t)); len(list) != 0 {
		t.Fatalf("faults after clear: %+v", list)
	}

	_, _ = c.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "token", Latency: mockapi.Duration(200 * time.Millisecond)})
	start := time.Now()
	if got := tokenErrCode(t, m); got != 0 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("latency fault: errcode %d after %v", got, time.Since(start))
	}
}

func TestFaultProbabilityIsReproducible(t *testing.T) {
	t.Parallel()
	run := func() []int {
		m := startSeeded(t, 0)
		busy := -1
		if _, err := m.Control.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "token", ErrCode: &busy,
			Probability: 0.5, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var codes []int
		for range 20 {
			codes = append(codes, tokenErrCode(t, m))
		}
		return codes
	}
	a, b := run(), run()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", ja, jb)
	}
	fired := 0
	for _, c := range a {
		if c == -1 {
			fired++
		}
	}
	if fired == 0 || fired == 20 {
		t.Fatalf("probability 0.5 fired %d of 20 times", fired)
	}
}

package faults_test

import (
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func endpoints(platform string) []string {
	if platform == "wechat" {
		return []string{"token", "subscribe_send"}
	}
	return nil
}

func code(n int) *int { return &n }

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	ok := mockapi.Fault{Platform: "wechat", Endpoint: "token", ErrCode: code(-1)}
	tests := []struct {
		name  string
		edit  func(f *mockapi.Fault)
		field string // "" = valid
	}{
		{"valid errcode", func(*mockapi.Fault) {}, ""},
		{"valid wildcard endpoint", func(f *mockapi.Fault) { f.Endpoint = "*" }, ""},
		{"valid latency alone", func(f *mockapi.Fault) { f.ErrCode = nil; f.Latency = mockapi.Duration(300 * time.Millisecond) }, ""},
		{"valid latency with drop", func(f *mockapi.Fault) { f.ErrCode = nil; f.Drop = true; f.Latency = 1 }, ""},
		{"valid http status", func(f *mockapi.Fault) { f.ErrCode = nil; f.HTTPStatus = 502 }, ""},
		{"valid probability and seed", func(f *mockapi.Fault) { f.Probability = 0.5; f.Seed = 7; f.Times = 3 }, ""},
		{"valid errmsg", func(f *mockapi.Fault) { f.ErrMsg = "busy" }, ""},
		{"missing platform", func(f *mockapi.Fault) { f.Platform = "" }, "platform"},
		{"unknown platform", func(f *mockapi.Fault) { f.Platform = "myspace" }, "platform"},
		{"missing endpoint", func(f *mockapi.Fault) { f.Endpoint = "" }, "endpoint"},
		{"unknown endpoint", func(f *mockapi.Fault) { f.Endpoint = "tokne" }, "endpoint"},
		{"no action", func(f *mockapi.Fault) { f.ErrCode = nil }, "errcode"},
		{"two actions", func(f *mockapi.Fault) { f.Drop = true }, "errcode"},
		{"errcode and status", func(f *mockapi.Fault) { f.HTTPStatus = 500 }, "errcode"},
		{"status too small", func(f *mockapi.Fault) { f.ErrCode = nil; f.HTTPStatus = 99 }, "http_status"},
		{"status too large", func(f *mockapi.Fault) { f.ErrCode = nil; f.HTTPStatus = 600 }, "http_status"},
		{"negative latency", func(f *mockapi.Fault) { f.Latency = -1 }, "latency"},
		{"negative latency alone", func(f *mockapi.Fault) { f.ErrCode = nil; f.Latency = -1 }, "latency"},
		{"latency over 10m", func(f *mockapi.Fault) { f.Latency = mockapi.Duration(11 * time.Minute) }, "latency"},
		{"negative times", func(f *mockapi.Fault) { f.Times = -1 }, "times"},
		{"negative probability", func(f *mockapi.Fault) { f.Probability = -0.1 }, "probability"},
		{"probability over 1", func(f *mockapi.Fault) { f.Probability = 1.5 }, "probability"},
		{"errmsg without errcode", func(f *mockapi.Fault) { f.ErrCode = nil; f.Drop = true; f.ErrMsg = "x" }, "errmsg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := ok
			tc.edit(&f)
			field, err := faults.Validate(f, endpoints)
			if field != tc.field || (err == nil) != (tc.field == "") {
				t.Fatalf("Validate = %q, %v; want field %q", field, err, tc.field)
			}
		})
	}
}

func TestMatchSelectsCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault mockapi.Fault
		call  faults.Call
		want  bool
	}{
		{"same endpoint", mockapi.Fault{Platform: "wechat", Endpoint: "token"}, faults.Call{Platform: "wechat", Endpoint: "token"}, true},
		{"other endpoint", mockapi.Fault{Platform: "wechat", Endpoint: "token"}, faults.Call{Platform: "wechat", Endpoint: "subscribe_send"}, false},
		{"other platform", mockapi.Fault{Platform: "wechat", Endpoint: "*"}, faults.Call{Platform: "alipay", Endpoint: "token"}, false},
		{"wildcard", mockapi.Fault{Platform: "wechat", Endpoint: "*"}, faults.Call{Platform: "wechat", Endpoint: "subscribe_send"}, true},
		{"app matches", mockapi.Fault{Platform: "wechat", Endpoint: "*", AppID: "wx1"}, faults.Call{Platform: "wechat", Endpoint: "token", AppID: "wx1"}, true},
		{"app differs", mockapi.Fault{Platform: "wechat", Endpoint: "*", AppID: "wx1"}, faults.Call{Platform: "wechat", Endpoint: "token", AppID: "wx2"}, false},
		{"openid matches", mockapi.Fault{Platform: "wechat", Endpoint: "*", OpenID: "o1"}, faults.Call{Platform: "wechat", Endpoint: "token", OpenID: "o1"}, true},
		{"openid differs", mockapi.Fault{Platform: "wechat", Endpoint: "*", OpenID: "o1"}, faults.Call{Platform: "wechat", Endpoint: "token", OpenID: "o2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := faults.New()
			tc.fault.ErrCode = code(-1)
			id := s.Add(tc.fault)
			a, ok := s.Match(tc.call)
			if ok != tc.want {
				t.Fatalf("Match = %v, want %v", ok, tc.want)
			}
			if ok && (a.ID != id || a.ErrCode == nil || *a.ErrCode != -1 || !a.Terminal()) {
				t.Fatalf("action %+v, want id %s errcode -1 terminal", a, id)
			}
		})
	}
}

func TestTimesLimitsFiringAndFirstAddedWins(t *testing.T) {
	t.Parallel()
	s := faults.New()
	first := s.Add(mockapi.Fault{Platform: "wechat", Endpoint: "token", ErrCode: code(40001), Times: 2})
	second := s.Add(mockapi.Fault{Platform: "wechat", Endpoint: "*", HTTPStatus: 503})
	call := faults.Call{Platform: "wechat", Endpoint: "token"}
	var got []string
	for range 4 {
		a, ok := s.Match(call)
		if !ok {
			t.Fatal("no fault matched although an unlimited one is set")
		}
		got = append(got, a.ID)
	}
	if want := []string{first, first, second, second}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	list := s.List()
	if len(list) != 2 || list[0].Fired != 2 || list[1].Fired != 2 {
		t.Fatalf("list %+v, want both listed with fired 2", list)
	}
	if !s.Remove(second) || s.Remove(second) {
		t.Fatal("Remove should succeed once")
	}
	if _, ok := s.Match(call); ok {
		t.Fatal("exhausted fault still fires")
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (exhausted faults stay listed)", s.Len())
	}
	s.Clear()
	if s.Len() != 0 || len(s.List()) != 0 {
		t.Fatal("Clear left faults")
	}
}

// firing returns which of n calls a fault with probability p and seed fires on.
func firing(p float64, seed int64, n int) []bool {
	s := faults.New()
	s.Add(mockapi.Fault{Platform: "wechat", Endpoint: "token", ErrCode: code(-1), Probability: p, Seed: seed})
	out := make([]bool, n)
	for i := range out {
		_, out[i] = s.Match(faults.Call{Platform: "wechat", Endpoint: "token"})
	}
	return out
}

func TestProbabilityIsReproducibleWithSeed(t *testing.T) {
	t.Parallel()
	const n = 2000
	a, b := firing(0.3, 42, n), firing(0.3, 42, n)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different firing sequence")
	}
	if slices.Equal(a, firing(0.3, 43, n)) {
		t.Fatal("different seeds gave the same firing sequence")
	}
	fired := 0
	for _, f := range a {
		if f {
			fired++
		}
	}
	// 0.3 of 2000 = 600; σ ≈ 20.5, so ±120 is almost six σ.
	if fired < 480 || fired > 720 {
		t.Fatalf("fired %d of %d at p=0.3", fired, n)
	}
	for _, p := range []float64{0, 1} {
		if got := firing(p, 1, 50); slices.Contains(got, false) {
			t.Fatalf("probability %v should always fire", p)
		}
	}
}

func TestLatencyAloneIsNotTerminal(t *testing.T) {
	t.Parallel()
	s := faults.New()
	s.Add(mockapi.Fault{Platform: "wechat", Endpoint: "token", Latency: mockapi.Duration(time.Second)})
	a, ok := s.Match(faults.Call{Platform: "wechat", Endpoint: "token"})
	if !ok || a.Latency != time.Second || a.Terminal() {
		t.Fatalf("action %+v ok %v, want a 1s non-terminal delay", a, ok)
	}
	for _, a := range []faults.Action{{Drop: true}, {HTTPStatus: 500}, {ErrCode: code(0)}} {
		if !a.Terminal() {
			t.Fatalf("%+v should be terminal", a)
		}
	}
}

func TestAddIgnoresClientIDAndFired(t *testing.T) {
	t.Parallel()
	s := faults.New()
	id := s.Add(mockapi.Fault{ID: "mine", Fired: 9, Platform: "wechat", Endpoint: "token", Drop: true})
	if id == "mine" {
		t.Fatal("Add kept the caller's id")
	}
	if l := s.List(); len(l) != 1 || l[0].ID != id || l[0].Fired != 0 {
		t.Fatalf("list %+v", l)
	}
	if id2 := s.Add(mockapi.Fault{Platform: "wechat", Endpoint: "token", Drop: true}); id2 == id {
		t.Fatal("two faults share an id")
	}
}

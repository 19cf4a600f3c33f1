// Package faults holds the mock's injected faults: rules that make matching
// platform calls answer an error code, an HTTP status, a delay or a dropped
// connection, a number of times or with a seeded probability so that runs
// are reproducible.
package faults

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Call identifies a platform call for matching.
type Call struct {
	Platform, Endpoint, AppID, OpenID string
	// Exact makes a fault for endpoint "*" pass this call by: pushes to the
	// developer's server are matched only by faults that name them, so a
	// catch-all fault on a platform's APIs does not silence its pushes.
	Exact bool
}

// Action is what a fired fault does. Latency may accompany any other action;
// when none of ErrCode, HTTPStatus and Drop is set the call proceeds after
// the delay.
type Action struct {
	ID         string
	ErrCode    *int
	ErrMsg     string
	HTTPStatus int
	Latency    time.Duration
	Drop       bool
	// Corrupt spoils an outgoing push (see mockapi.Fault.Corrupt).
	Corrupt string
}

// Terminal reports whether the action replaces the platform's answer.
func (a Action) Terminal() bool { return a.ErrCode != nil || a.HTTPStatus != 0 || a.Drop }

type fault struct {
	spec  mockapi.Fault
	rng   *rand.Rand
	fired int
}

// Set is the list of active faults. Safe for concurrent use.
type Set struct {
	mu     sync.Mutex
	faults []*fault
	nextID int
	// n is len(faults), written under mu: Match reads it without the lock,
	// so a mock without faults — every call of a load test — takes none.
	n atomic.Int32
}

// New returns an empty set.
func New() *Set { return &Set{} }

// maxLatency bounds an injected delay, so a typo cannot hang a test run.
const maxLatency = 10 * time.Minute

// Validate checks a fault's fields, naming the first bad one.
func Validate(f mockapi.Fault, endpoints func(platform string) []string) (field string, err error) {
	if f.Platform == "" {
		return "platform", fmt.Errorf("platform is required")
	}
	eps := endpoints(f.Platform)
	if eps == nil {
		return "platform", fmt.Errorf("unknown platform %q", f.Platform)
	}
	if f.Endpoint == "" {
		return "endpoint", fmt.Errorf("endpoint is required (one of %v)", eps)
	}
	known := f.Endpoint == "*"
	for _, e := range eps {
		known = known || e == f.Endpoint
	}
	if !known {
		return "endpoint", fmt.Errorf("unknown %s endpoint %q (one of %v, or *)", f.Platform, f.Endpoint, eps)
	}
	actions := 0
	if f.ErrCode != nil {
		actions++
	}
	if f.HTTPStatus != 0 {
		actions++
		if f.HTTPStatus < 100 || f.HTTPStatus > 599 {
			return "http_status", fmt.Errorf("http_status %d is not an HTTP status", f.HTTPStatus)
		}
	}
	if f.Drop {
		actions++
	}
	if f.Corrupt != "" {
		actions++
	}
	if actions > 1 {
		return "errcode", fmt.Errorf("set only one of errcode, http_status, drop and corrupt")
	}
	// Latency is checked before "needs an action" so a negative latency is
	// blamed on latency, not on a missing errcode.
	if f.Latency < 0 || time.Duration(f.Latency) > maxLatency {
		return "latency", fmt.Errorf("latency must be between 0 and %v", maxLatency)
	}
	if actions == 0 && f.Latency == 0 {
		return "errcode", fmt.Errorf("a fault needs an action: errcode, http_status, latency, drop or corrupt")
	}
	if f.ErrMsg != "" && f.ErrCode == nil {
		// Without an errcode the message would be silently ignored.
		return "errmsg", fmt.Errorf("errmsg needs an errcode")
	}
	if f.Times < 0 {
		return "times", fmt.Errorf("times must be >= 0")
	}
	if f.Probability < 0 || f.Probability > 1 {
		return "probability", fmt.Errorf("probability must be within [0,1]")
	}
	return "", nil
}

// Add registers a validated fault and returns its id.
func (s *Set) Add(f mockapi.Fault) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	f.ID = "f" + strconv.Itoa(s.nextID)
	f.Fired = 0
	seed := uint64(f.Seed)
	s.faults = append(s.faults, &fault{spec: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))})
	s.n.Store(int32(len(s.faults)))
	return f.ID
}

// Remove deletes one fault; it reports whether it existed.
func (s *Set) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.spec.ID == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			s.n.Store(int32(len(s.faults)))
			return true
		}
	}
	return false
}

// Clear deletes every fault.
func (s *Set) Clear() {
	s.mu.Lock()
	s.faults = nil
	s.n.Store(0)
	s.mu.Unlock()
}

// List returns the active faults with their fired counts.
func (s *Set) List() []mockapi.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]mockapi.Fault, 0, len(s.faults))
	for _, f := range s.faults {
		sp := f.spec
		sp.Fired = f.fired
		out = append(out, sp)
	}
	return out
}

// Len is the number of active faults.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// Match returns the action of the first fault, in the order they were added,
// that matches c and fires. A fault limited by Times stops matching once it
// has fired that often (it stays listed with its count until removed).
func (s *Set) Match(c Call) (Action, bool) {
	if s.n.Load() == 0 {
		return Action{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		sp := &f.spec
		if sp.Platform != c.Platform || (sp.Endpoint != c.Endpoint && (sp.Endpoint != "*" || c.Exact)) ||
			(sp.AppID != "" && sp.AppID != c.AppID) || (sp.OpenID != "" && sp.OpenID != c.OpenID) {
			continue
		}
		if sp.Times > 0 && f.fired >= sp.Times {
			continue
		}
		if sp.Probability > 0 && sp.Probability < 1 && f.rng.Float64() >= sp.Probability {
			continue
		}
		f.fired++
		return Action{ID: sp.ID, ErrCode: sp.ErrCode, ErrMsg: sp.ErrMsg, HTTPStatus: sp.HTTPStatus,
			Latency: time.Duration(sp.Latency), Drop: sp.Drop, Corrupt: sp.Corrupt}, true
	}
	return Action{}, false
}

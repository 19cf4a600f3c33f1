// Package kuaishou emulates the Kuaishou (快手) mini-program server APIs at
// open.kuaishou.com: the app access token (/oauth2/access_token) and the
// subscribe-message send (/openapi/mp/developer/message/template/send), with
// the platform's paths, form encoding, result codes and rules.
//
// Facts, and the readings chosen where the platform is silent, are in
// docs/platforms/kuaishou.md and docs/mock-kuaishou.md.
// Kuaishou documents the token API's two error codes only; every other code
// here is the mock's choice and is marked UNCONFIRMED next to its constant.
package kuaishou

import (
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Name is the platform name used in the control API.
const Name = mockapi.PlatformKuaishou

// Endpoint names, used by faults, quotas and the journal.
const (
	EndpointToken        = "token"
	EndpointTemplateSend = "template_send"
	EndpointUnknown      = "unknown"

	// sendQPS is the documented cap: "目前限制调用的qps最大为100". The doc
	// does not say whether it is per app or per platform; the mock counts
	// it per app (UNCONFIRMED).
	sendQPS      = 100
	maxBodyBytes = 1 << 20
)

// Endpoints lists the endpoint names faults and quotas can target.
func Endpoints() []string { return []string{EndpointToken, EndpointTemplateSend} }

// DefaultLimits are the platform's documented call limits per app. No token
// limit is documented, so none is set.
func DefaultLimits() []quota.Limit {
	return []quota.Limit{{Endpoint: EndpointTemplateSend, Max: sendQPS, Per: quota.Second}}
}

// Emulator serves the Kuaishou APIs from a shared Env.
type Emulator struct {
	env *platform.Env

	mu     sync.Mutex
	tokens map[string]*token // every issued token, by its string
}

// New returns an emulator over env.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env}
	e.Reset(mockapi.Seed{})
	return e
}

// Name is the platform's name in the control API.
func (e *Emulator) Name() string { return Name }

// Reset forgets every token. Kuaishou has no seedable state of its own.
func (e *Emulator) Reset(mockapi.Seed) {
	e.mu.Lock()
	e.tokens = map[string]*token{}
	e.mu.Unlock()
}

// Routes registers the Kuaishou paths on r. Other paths under /oauth2/ and
// /openapi/ answer in Kuaishou's error shape, not with a 404 page. Neither
// prefix is used by another emulated platform (Douyin and Baidu live under
// /oauth/, which is a different prefix).
func (e *Emulator) Routes(r *mux.Router) {
	h := func(endpoint string, fn platform.HandlerFunc) http.Handler { return e.env.Handle(Name, endpoint, fn) }
	r.Handle("/oauth2/access_token", h(EndpointToken, e.handleToken))
	r.Handle("/openapi/mp/developer/message/template/send", h(EndpointTemplateSend, e.handleSend))
	unknown := h(EndpointUnknown, func(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
		fail(w, c, ResultNoSuchAPI, "")
	})
	for _, prefix := range []string{"/oauth2/", "/openapi/"} {
		r.PathPrefix(prefix).Handler(unknown)
	}
}

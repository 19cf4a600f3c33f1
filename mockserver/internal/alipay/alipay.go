// Package alipay emulates the Alipay open-platform gateway
// (openapi.alipay.com/gateway.do) for mini-programs: RSA2-signed requests,
// signed answers in the {"<method>_response":{…},"sign":"…"} envelope, the
// gateway's error codes, and the methods minipush needs — mini-program
// template (subscription) messages, alipay.system.oauth.token and text
// content detection.
//
// Facts and the readings chosen where the platform is silent are in
// /work/shared/platforms/alipay.md and docs/mock-alipay.md; each surprising
// rule carries a comment with its source, and guesses say UNCONFIRMED.
package alipay

import (
	"crypto/rsa"
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Name is the platform name used in the control API.
const Name = mockapi.PlatformAlipay

// Paths.
const (
	GatewayPath   = "/gateway.do"
	AuthCodesPath = controlPrefix + "/alipay/auth-codes"
	controlPrefix = "/_mock"
)

// Endpoint names, used by faults, quotas and the journal. "gateway" matches
// every call to the gateway; the others one method each.
const (
	EndpointGateway       = "gateway"
	EndpointTemplateSend  = "templatemessage_send"
	EndpointOAuthToken    = "oauth_token"
	EndpointContentDetect = "content_detect"
)

// Methods the gateway knows.
const (
	MethodTemplateSend  = "alipay.open.app.mini.templatemessage.send"
	MethodOAuthToken    = "alipay.system.oauth.token"
	MethodContentDetect = "alipay.security.risk.content.detect"
)

// Endpoints lists the endpoint names faults and quotas can target.
func Endpoints() []string {
	return []string{EndpointGateway, EndpointTemplateSend, EndpointOAuthToken, EndpointContentDetect}
}

// DefaultLimits are the mock's call limits per app. Alipay publishes no
// per-app quota for these methods (UNCONFIRMED): the defaults are generous
// ceilings that tests lower with PUT /_mock/quotas.
func DefaultLimits() []quota.Limit {
	return []quota.Limit{
		{Endpoint: EndpointTemplateSend, Max: 10_000_000, Per: quota.Day},
		{Endpoint: EndpointContentDetect, Max: 1000, Per: quota.Second},
		{Endpoint: EndpointOAuthToken, Max: 10000, Per: quota.Second},
	}
}

// Emulator serves the Alipay gateway from a shared Env.
type Emulator struct {
	env *platform.Env

	// platformKey is the server's own platform key, generated on first use
	// (RSA-2048 generation takes 50-200 ms) and kept across resets; apps
	// registered with an alipay_private_key use theirs instead.
	platformKey func() (*rsa.PrivateKey, error)
	methods     map[string]*methodSpec

	mu      sync.Mutex
	codes   map[string]*authCode
	refresh map[string]*refreshToken
}

// New returns an emulator over env.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env, platformKey: sync.OnceValues(generateKey)}
	e.methods = e.methodTable()
	e.Reset(mockapi.Seed{})
	return e
}

// Name is the platform's name in the control API.
func (e *Emulator) Name() string { return Name }

// Reset forgets every auth code and token.
func (e *Emulator) Reset(mockapi.Seed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.codes = map[string]*authCode{}
	e.refresh = map[string]*refreshToken{}
}

// Routes registers the gateway and the Alipay control route.
func (e *Emulator) Routes(r *mux.Router) {
	r.Handle(GatewayPath, e.env.Handle(Name, EndpointGateway, e.handleGateway))
	// Platforms register before the control API (mockserver.New), so this
	// route is matched ahead of the control API's /_mock catch-all.
	// One route for every method (405 for all but POST): a method matcher on
	// a subrouter would turn a wrong method into that subrouter's 404.
	r.HandleFunc(AuthCodesPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeControlError(w, http.StatusMethodNotAllowed, "", "method "+r.Method+" not allowed on "+r.URL.Path+" (allowed: POST)")
			return
		}
		e.postAuthCode(w, r)
	})
}

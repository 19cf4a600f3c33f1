// Package alipay emulates the Alipay open platform for mini-programs: the
// gateway (openapi.alipay.com/gateway.do) with RSA2-signed requests and
// signed answers in the {"<method>_response":{…},"sign":"…"} envelope, and
// OpenAPI v3 (openapi.alipay.com/v3/…) with its "ALIPAY-SHA256withRSA"
// Authorization header and answers signed in headers; public-key mode and
// certificate mode (an app, an Alipay and a root certificate issued by the
// mock's own CA); the gateway's error codes; and the methods minipush
// needs — mini-program template (subscription) messages,
// alipay.system.oauth.token, text content detection (detect and
// sync.detect) and the Alipay certificate download.
//
// Facts and the readings chosen where the platform is silent are in
// docs/platforms/alipay.md and docs/mock-alipay.md; each surprising
// rule carries a comment with its source, and guesses say UNCONFIRMED.
package alipay

import (
	"crypto/rsa"
	"maps"
	"net/http"
	"slices"
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
	V3Prefix      = "/v3/"
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
	// EndpointOpenAPIV3 matches every call to an OpenAPI v3 path (as
	// "gateway" does for the gateway); a v3 call to a known method also
	// counts under that method's endpoint, shared with the gateway.
	EndpointOpenAPIV3         = "openapi_v3"
	EndpointContentSyncDetect = "content_sync_detect"
	EndpointCertDownload      = "alipaycert_download"
)

// Methods the gateway knows.
const (
	MethodTemplateSend  = "alipay.open.app.mini.templatemessage.send"
	MethodOAuthToken    = "alipay.system.oauth.token"
	MethodContentDetect = "alipay.security.risk.content.detect"
	MethodContentSync   = "alipay.security.risk.content.sync.detect"
	MethodCertDownload  = "alipay.open.app.alipaycert.download"
)

// Endpoints lists the endpoint names faults and quotas can target.
func Endpoints() []string {
	return []string{EndpointGateway, EndpointOpenAPIV3, EndpointTemplateSend, EndpointOAuthToken,
		EndpointContentDetect, EndpointContentSyncDetect, EndpointCertDownload}
}

// DefaultLimits are the mock's call limits per app. Alipay publishes no
// per-app quota for these methods (UNCONFIRMED): the defaults are generous
// ceilings that tests lower with PUT /_mock/quotas.
func DefaultLimits() []quota.Limit {
	return []quota.Limit{
		{Endpoint: EndpointTemplateSend, Max: 10_000_000, Per: quota.Day},
		{Endpoint: EndpointContentDetect, Max: 1000, Per: quota.Second},
		{Endpoint: EndpointOAuthToken, Max: 10000, Per: quota.Second},
		{Endpoint: EndpointContentSyncDetect, Max: 1000, Per: quota.Second},
		{Endpoint: EndpointCertDownload, Max: 100, Per: quota.Second},
	}
}

// Emulator serves the Alipay gateway from a shared Env.
type Emulator struct {
	env *platform.Env

	// platformKey is the server's own platform key, generated on first use
	// (RSA-2048 generation takes 50-200 ms) and kept across resets; apps
	// registered with an alipay_private_key use theirs instead.
	platformKey func() (*rsa.PrivateKey, error)
	// ca issues certificate-mode apps' certificates (built on first use).
	ca      func() (*certAuthority, error)
	methods map[string]*methodSpec
	v3      map[string]*v3Route
	stamps  stamper

	mu      sync.Mutex
	codes   map[string]*authCode
	refresh map[string]*refreshToken
}

// New returns an emulator over env.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env, platformKey: sync.OnceValues(generateKey), ca: sync.OnceValues(newCertAuthority)}
	e.methods = e.methodTable()
	e.v3 = e.v3Table()
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
	// Every /v3/ path: unknown ones answer 400 invalid-method, as the
	// platform does (not a 404).
	v3 := e.env.Handle(Name, EndpointOpenAPIV3, e.handleV3)
	// The v3 paths the mock serves, each also as a plain path ahead of the
	// prefix (the same handler): the server's exact-path table then
	// dispatches them without the router (mockserver/dispatch.go).
	for _, p := range slices.Sorted(maps.Keys(e.v3Table())) {
		r.Handle(p, v3)
	}
	r.PathPrefix(V3Prefix).Handler(v3)
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

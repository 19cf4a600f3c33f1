// Package baidu emulates the Baidu Smart Program (百度智能小程序) server APIs at
// openapi.baidu.com: the app access token (/oauth/2.0/token), the subscribe
// message send (/rest/2.0/smartapp/template/message/subscribe/send), the
// legacy template message (/rest/2.0/smartapp/template/send), template
// management (templateadd, templatedel, templatelist, librarylist,
// libraryget) and text moderation
// (/rest/2.0/smartapp/riskDetection/v2/syncCheckText), with the
// platform's three answer shapes: OAuth errors on the token endpoint, gateway
// errors (error_code/error_msg) and business answers (errno/msg/data).
//
// The readings chosen where the platform is silent are marked UNCONFIRMED
// in comments and listed, with the public sources, in docs/mock-baidu.md.
package baidu

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Name is the platform name used in the control API.
const Name = mockapi.PlatformBaidu

// Endpoint names, used by faults, quotas and the journal.
const (
	EndpointToken         = "token"
	EndpointSubscribeSend = "subscribe_send"
	EndpointCheckText     = "check_text"
	EndpointTemplateSend  = "template_send" // legacy /rest/2.0/smartapp/template/send
	EndpointTemplateAdd   = "template_add"
	EndpointTemplateDel   = "template_del"
	EndpointTemplateList  = "template_list"
	EndpointLibraryList   = "library_list"
	EndpointLibraryGet    = "library_get"
	EndpointUnknown       = "unknown"

	maxBodyBytes = 1 << 20
)

// Endpoints lists the endpoint names faults and quotas can target.
func Endpoints() []string {
	return []string{EndpointToken, EndpointSubscribeSend, EndpointCheckText, EndpointTemplateSend,
		EndpointTemplateAdd, EndpointTemplateDel, EndpointTemplateList, EndpointLibraryList, EndpointLibraryGet}
}

// DefaultLimits: Baidu documents no call limits for these APIs
// (UNCONFIRMED), so a new app has none; set them with PUT /_mock/quotas.
func DefaultLimits() []quota.Limit { return nil }

// Emulator serves the Baidu APIs from a shared Env.
type Emulator struct {
	env *platform.Env

	mu     sync.Mutex
	tokens map[string]*token // every issued token, by its string

	// subMu guards used and is held across a whole send, so checking a
	// subscribe id, consuming the grant and marking the id are one step.
	subMu  sync.Mutex
	used   spentSet
	order  []subKey // used keys, oldest first, to bound the set
	msgKey atomic.Int64

	// sceneMu guards the legacy template messages' scene budgets.
	sceneMu    sync.Mutex
	scenes     map[sceneKey]*sceneUse
	sceneOrder []sceneKey // oldest first, to bound the map

	library []LibraryTitle // the template library; read-only
}

// New returns an emulator over env.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env, library: DemoLibrary()}
	e.Reset(mockapi.Seed{})
	return e
}

// Name is the platform's name in the control API.
func (e *Emulator) Name() string { return Name }

// Reset forgets every token, every used subscribe id and every scene
// budget.
func (e *Emulator) Reset(mockapi.Seed) {
	e.mu.Lock()
	e.tokens = map[string]*token{}
	e.mu.Unlock()
	e.subMu.Lock()
	e.used, e.order = newSpentSet(), nil
	e.subMu.Unlock()
	e.sceneMu.Lock()
	e.scenes, e.sceneOrder = map[sceneKey]*sceneUse{}, nil
	e.sceneMu.Unlock()
	e.msgKey.Store(msgKeyBase)
}

// Routes registers the Baidu paths on r. Other paths under /rest/2.0/
// answer the gateway's "Unsupported openapi method", other paths under
// /oauth/2.0/ an OAuth invalid_request. Douyin serves /oauth/client_token/
// and other /oauth/… paths on the same listener: only the /oauth/2.0/
// subtree is claimed here, and a catch-all on /oauth/ registered before it
// would shadow the Baidu token endpoint.
func (e *Emulator) Routes(r *mux.Router) {
	h := func(endpoint string, fn platform.HandlerFunc) http.Handler { return e.env.Handle(Name, endpoint, fn) }
	r.Handle("/oauth/2.0/token", h(EndpointToken, e.handleToken))
	r.Handle("/rest/2.0/smartapp/template/message/subscribe/send", h(EndpointSubscribeSend, e.handleSubscribeSend))
	r.Handle("/rest/2.0/smartapp/riskDetection/v2/syncCheckText", h(EndpointCheckText, e.handleCheckText))
	r.Handle("/rest/2.0/smartapp/template/send", h(EndpointTemplateSend, e.handleTemplateSend))
	r.Handle("/rest/2.0/smartapp/template/templateadd", h(EndpointTemplateAdd, e.handleTemplateAdd))
	r.Handle("/rest/2.0/smartapp/template/templatedel", h(EndpointTemplateDel, e.handleTemplateDel))
	r.Handle("/rest/2.0/smartapp/template/templatelist", h(EndpointTemplateList, e.handleTemplateList))
	r.Handle("/rest/2.0/smartapp/template/librarylist", h(EndpointLibraryList, e.handleLibraryList))
	r.Handle("/rest/2.0/smartapp/template/libraryget", h(EndpointLibraryGet, e.handleLibraryGet))
	r.PathPrefix("/rest/2.0/").Handler(h(EndpointUnknown, func(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
		gatewayFail(w, c, GatewayUnsupportedMethod)
	}))
	r.PathPrefix("/oauth/2.0/").Handler(h(EndpointUnknown, func(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
		oauthFail(w, c, OAuthInvalidRequest, "unsupported endpoint")
	}))
}

// Package wechat emulates the WeChat mini-program server APIs at
// api.weixin.qq.com: access tokens (normal and stable), subscribe-message
// send, content security (msg_sec_check v1/v2, img_sec_check,
// media_check_async), template management, customer-service messages,
// temporary media, updatable messages and the quota tools, with the
// platform's paths, JSON shapes, error codes and rules.
//
// Facts and the readings chosen where the platform is silent are in
// docs/platforms/wechat.md and in docs/mock-wechat.md; each
// surprising rule carries a comment with its source.
package wechat

import (
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Name is the platform name used in the control API.
const Name = mockapi.PlatformWeChat

// Endpoint names, used by faults, quotas and the journal.
const (
	EndpointToken          = "token"
	EndpointStableToken    = "stable_token"
	EndpointStableForce    = "stable_token_force" // quota only: forced stable refreshes
	EndpointSubscribeSend  = "subscribe_send"
	EndpointMsgSecCheck    = "msg_sec_check"
	EndpointGetTemplate    = "gettemplate"
	EndpointAddTemplate    = "addtemplate"
	EndpointDelTemplate    = "deltemplate"
	EndpointGetCategory    = "getcategory"
	EndpointPubKeywords    = "getpubtemplatekeywords"
	EndpointPubTitles      = "getpubtemplatetitles"
	EndpointUnknown        = "unknown"
	maxPrivateTemplates    = 50
	maxBodyBytes           = 1 << 20
	maxSecCheckV1BodyBytes = 512 << 10
)

// Endpoints lists the endpoint names faults can target.
func Endpoints() []string {
	return append([]string{EndpointToken, EndpointStableToken, EndpointSubscribeSend, EndpointMsgSecCheck,
		EndpointGetTemplate, EndpointAddTemplate, EndpointDelTemplate, EndpointGetCategory,
		EndpointPubKeywords, EndpointPubTitles}, surfaceEndpoints()...)
}

// DefaultLimits are the platform's documented call limits per app
// (docs/platforms/wechat.md). Apps may override any of them.
func DefaultLimits() []quota.Limit {
	return append([]quota.Limit{
		// 2,000/day is the Official Account figure; the mini-program pages do
		// not state one (UNCONFIRMED), so it is the default and configurable.
		{Endpoint: EndpointToken, Max: 2000, Per: quota.Day},
		{Endpoint: EndpointStableToken, Max: 10000, Per: quota.Minute},
		{Endpoint: EndpointStableToken, Max: 500000, Per: quota.Day},
		{Endpoint: EndpointStableForce, Max: 20, Per: quota.Day},
		{Endpoint: EndpointSubscribeSend, Max: 10_000_000, Per: quota.Day},
		{Endpoint: EndpointMsgSecCheck, Max: 4000, Per: quota.Minute},
		{Endpoint: EndpointMsgSecCheck, Max: 2_000_000, Per: quota.Day},
	}, surfaceLimits()...)
}

// Emulator serves the WeChat APIs from a shared Env.
type Emulator struct {
	env *platform.Env

	mu      sync.Mutex
	tokens  map[string]*token // every live token, by its string
	pools   map[poolKey]*pool
	library *library

	rids   ridLog      // the calls answered with a rid, for openapi/rid/get
	checks mediaChecks // media_check_async verdicts waiting for their push
}

// New returns an emulator over env. Call Reset before serving.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env}
	e.Reset(mockapi.Seed{})
	env.Clock.OnChange(e.mediaChecksDue)
	return e
}

// Name is the platform's name in the control API.
func (e *Emulator) Name() string { return Name }

// Reset forgets every token and reloads the seed's template library (the
// built-in demo library when the seed has none).
func (e *Emulator) Reset(seed mockapi.Seed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = map[string]*token{}
	e.pools = map[poolKey]*pool{}
	e.library = newLibrary(seed.Library)
	e.rids.reset()
	e.resetMediaChecks()
}

// Routes registers the WeChat paths on r. Paths under the platform's
// prefixes that are not APIs answer 40066 in WeChat's shape, not a 404 page.
func (e *Emulator) Routes(r *mux.Router) {
	h := func(endpoint string, fn platform.HandlerFunc) http.Handler {
		return e.env.Handle(Name, endpoint, e.traced(endpoint, fn))
	}
	r.Handle("/cgi-bin/token", h(EndpointToken, e.handleToken))
	r.Handle("/cgi-bin/stable_token", h(EndpointStableToken, e.post(e.handleStableToken)))
	r.Handle("/cgi-bin/message/subscribe/send", h(EndpointSubscribeSend, e.post(e.handleSubscribeSend)))
	r.Handle("/wxa/msg_sec_check", h(EndpointMsgSecCheck, e.post(e.handleMsgSecCheck)))
	r.Handle("/wxaapi/newtmpl/gettemplate", h(EndpointGetTemplate, e.method(http.MethodGet, e.handleGetTemplate)))
	r.Handle("/wxaapi/newtmpl/addtemplate", h(EndpointAddTemplate, e.method(http.MethodPost, e.handleAddTemplate)))
	r.Handle("/wxaapi/newtmpl/deltemplate", h(EndpointDelTemplate, e.method(http.MethodPost, e.handleDelTemplate)))
	r.Handle("/wxaapi/newtmpl/getcategory", h(EndpointGetCategory, e.method(http.MethodGet, e.handleGetCategory)))
	r.Handle("/wxaapi/newtmpl/getpubtemplatekeywords", h(EndpointPubKeywords, e.method(http.MethodGet, e.handlePubKeywords)))
	r.Handle("/wxaapi/newtmpl/getpubtemplatetitles", h(EndpointPubTitles, e.method(http.MethodGet, e.handlePubTitles)))
	e.surfaceRoutes(r, h)
	unknown := h(EndpointUnknown, func(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
		e.fail(w, c, CodeInvalidURL, "")
	})
	for _, prefix := range []string{"/cgi-bin/", "/wxa/", "/wxaapi/", "/sns/"} {
		r.PathPrefix(prefix).Handler(unknown)
	}
}

// post guards a POST-only /cgi-bin or /wxa API: other methods get 43002.
func (e *Emulator) post(fn platform.HandlerFunc) platform.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		if r.Method != http.MethodPost {
			e.fail(w, c, CodeRequirePost, "")
			return
		}
		fn(w, r, c)
	}
}

// method guards a /wxaapi API, which answers errcode 404 to the wrong
// method (docs/platforms/wechat.md error table).
func (e *Emulator) method(m string, fn platform.HandlerFunc) platform.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		if r.Method != m {
			e.fail(w, c, CodeNotFound, "")
			return
		}
		fn(w, r, c)
	}
}

// clientIP is the caller's address for the IP whitelist.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// Package douyin emulates the Douyin (ByteDance, 抖音/字节) mini-app server
// APIs: the two kinds of app token (getAccessToken on developer.toutiao.com
// and client_token on open.douyin.com, with their stable variants), the
// subscribe-message sends (legacy v1 notify and notify_user v2), the v2
// subscription template management and query_user_subscribe, and text and
// image moderation (antidirt, censor/text, tags/image and the censor/image
// APIs), at their real paths, with their JSON shapes, error codes and rules.
//
// The readings chosen where the platform is silent are marked UNCONFIRMED
// in comments and listed in docs/mock-douyin.md, with the public sources.
package douyin

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Name is the platform name used in the control API.
const Name = mockapi.PlatformDouyin

// Endpoint names, used by faults, quotas and the journal.
const (
	EndpointToken             = "token"               // /api/apps/v2/token (and the mini-game copy)
	EndpointStableToken       = "stable_token"        // mini-game /mgplatform/api/apps/stable_token
	EndpointStableForce       = "stable_token_force"  // quota only: forced stable refreshes
	EndpointClientToken       = "client_token"        // /oauth/client_token/
	EndpointStableClientToken = "stable_client_token" // /oauth/stable_client_token/
	EndpointNotifyV1          = "notify_v1"           // legacy subscribe_notification/developer/v1/notify
	EndpointNotifyV2          = "notify_v2"           // /api/notification/v2/subscription/notify_user/
	EndpointAntidirt          = "antidirt"            // /api/v2/tags/text/antidirt
	EndpointCensor            = "censor"              // /api/apps/v1/censor/text/
	EndpointTagsImage         = "tags_image"          // legacy /api/v2/tags/image/
	EndpointCensorImageV2     = "censor_image_v2"     // /api/apps/censor/image
	EndpointCensorImage       = "censor_image"        // /api/apps/v1/censor/image/

	// v2 subscription template management and query_user_subscribe
	// (/api/notification/v2/subscription/<name>/).
	EndpointQueryTplList        = "query_tpl_list"
	EndpointCreateTpl           = "create_tpl"
	EndpointQueryCreatedTplList = "query_created_tpl_list"
	EndpointAddAppTpl           = "add_app_tpl"
	EndpointQueryAppTpl         = "query_app_tpl"
	EndpointDeleteAppTpl        = "delete_app_tpl"
	EndpointQueryUserSubscribe  = "query_user_subscribe"

	EndpointUnknown = "unknown" // journal only: paths under Douyin's prefixes that are not APIs
)

// Endpoints lists the endpoint names faults and quotas can target.
func Endpoints() []string {
	return []string{EndpointToken, EndpointStableToken, EndpointClientToken, EndpointStableClientToken,
		EndpointNotifyV1, EndpointNotifyV2, EndpointAntidirt, EndpointCensor,
		EndpointTagsImage, EndpointCensorImageV2, EndpointCensorImage,
		EndpointQueryTplList, EndpointCreateTpl, EndpointQueryCreatedTplList, EndpointAddAppTpl,
		EndpointQueryAppTpl, EndpointDeleteAppTpl, EndpointQueryUserSubscribe}
}

// DefaultLimits are the platform's documented call limits per app
// (docs/platforms/douyin.md). Apps may override any of them
// with PUT /_mock/quotas. client_token's "500 calls in 5 minutes" is not a
// fixed window, so it is built into the token handler instead.
func DefaultLimits() []quota.Limit {
	return []quota.Limit{
		// Mini-game stable_token: 10,000/min and 500,000/day, force_refresh
		// 20/day.
		{Endpoint: EndpointStableToken, Max: 10_000, Per: quota.Minute},
		{Endpoint: EndpointStableToken, Max: 500_000, Per: quota.Day},
		{Endpoint: EndpointStableForce, Max: 20, Per: quota.Day},
		// v1 notify: "限流(qps上限为1000)", 28006003.
		{Endpoint: EndpointNotifyV1, Max: 1000, Per: quota.Second},
		// notify_user v2: no figure found; the v1 cap is assumed
		// (UNCONFIRMED).
		{Endpoint: EndpointNotifyV2, Max: 1000, Per: quota.Second},
	}
}

// Emulator serves the Douyin APIs from a shared Env.
type Emulator struct {
	env *platform.Env

	mu          sync.Mutex
	tokens      map[string]*token // every token issued, by its string
	pools       map[poolKey]*pool
	clientCalls map[poolKey][]time.Time // client_token calls in the last 5 minutes
	lastSend    map[userKey]time.Time   // last accepted send per app and user

	tokenSweepAt, sendSweepAt int // map sizes that trigger the next sweep of dead entries

	// libMu guards the public template library and the apps' proposals.
	libMu     sync.Mutex
	library   Library
	created   map[string][]createdTemplate // create_tpl proposals per app
	nextTplID int64
}

// New returns an emulator over env.
func New(env *platform.Env) *Emulator {
	e := &Emulator{env: env}
	e.Reset(mockapi.Seed{})
	return e
}

// Name is the platform's name in the control API.
func (e *Emulator) Name() string { return Name }

// Reset forgets every token, the client_token call history and the per-user
// send times, and restores the public template library (templates proposed
// with create_tpl go).
func (e *Emulator) Reset(mockapi.Seed) {
	e.mu.Lock()
	e.tokens = map[string]*token{}
	e.pools = map[poolKey]*pool{}
	e.clientCalls = map[poolKey][]time.Time{}
	e.lastSend = map[userKey]time.Time{}
	e.tokenSweepAt, e.sendSweepAt = minSweep, minSweep
	e.mu.Unlock()
	e.libMu.Lock()
	e.library, e.created, e.nextTplID = DemoLibrary(), map[string][]createdTemplate{}, firstCreatedID
	e.libMu.Unlock()
}

// Routes registers the Douyin paths on r. Every host's paths share one
// listener: developer.toutiao.com (and its sandbox open-sandbox.douyin.com),
// open.douyin.com and the mini-game host minigame.zijieapi.com, whose paths
// carry the /mgplatform prefix. Paths are matched exactly as documented,
// trailing slash included: a client that drops or adds one gets the
// unknown-path answer, since whether Douyin forgives it is UNCONFIRMED.
func (e *Emulator) Routes(r *mux.Router) {
	h := func(endpoint string, fn platform.HandlerFunc) http.Handler {
		return e.env.Handle(Name, endpoint, e.post(fn))
	}
	token := h(EndpointToken, e.handleToken)
	r.Handle("/api/apps/v2/token", token)
	r.Handle("/mgplatform/api/apps/v2/token", token)
	r.Handle("/mgplatform/api/apps/stable_token", h(EndpointStableToken, e.handleStableToken))
	r.Handle("/oauth/client_token/", h(EndpointClientToken, e.handleClientToken(false)))
	r.Handle("/oauth/stable_client_token/", h(EndpointStableClientToken, e.handleClientToken(true)))
	notifyV1 := h(EndpointNotifyV1, e.handleNotifyV1)
	r.Handle("/api/apps/subscribe_notification/developer/v1/notify", notifyV1)
	r.Handle("/mgplatform/api/apps/subscribe_notification/developer/v1/notify", notifyV1)
	r.Handle("/api/notification/v2/subscription/notify_user/", h(EndpointNotifyV2, e.handleNotifyV2))
	r.Handle("/api/v2/tags/text/antidirt", h(EndpointAntidirt, e.handleAntidirt))
	r.Handle("/api/apps/v1/censor/text/", h(EndpointCensor, e.handleCensor))
	// The image APIs' docs and SKIT-ByteDance disagree on the trailing
	// slash of the legacy and V3 paths: both forms are served.
	tagsImage := h(EndpointTagsImage, e.handleTagsImage)
	r.Handle("/api/v2/tags/image/", tagsImage)
	r.Handle("/api/v2/tags/image", tagsImage)
	r.Handle("/api/apps/censor/image", h(EndpointCensorImageV2, e.handleCensorImageV2))
	censorImage := h(EndpointCensorImage, e.handleCensorImage)
	r.Handle("/api/apps/v1/censor/image/", censorImage)
	r.Handle("/api/apps/v1/censor/image", censorImage)

	get := func(endpoint string, fn platform.HandlerFunc) http.Handler {
		return e.env.Handle(Name, endpoint, e.get(fn))
	}
	const sub = "/api/notification/v2/subscription/"
	r.Handle(sub+"query_tpl_list/", get(EndpointQueryTplList, e.handleQueryTplList))
	r.Handle(sub+"create_tpl/", h(EndpointCreateTpl, e.handleCreateTpl))
	r.Handle(sub+"query_created_tpl_list/", get(EndpointQueryCreatedTplList, e.handleQueryCreatedTplList))
	r.Handle(sub+"add_app_tpl/", h(EndpointAddAppTpl, e.handleAddAppTpl))
	r.Handle(sub+"query_app_tpl/", get(EndpointQueryAppTpl, e.handleQueryAppTpl))
	r.Handle(sub+"delete_app_tpl/", h(EndpointDeleteAppTpl, e.handleDeleteAppTpl))
	r.Handle(sub+"query_user_subscribe/", h(EndpointQueryUserSubscribe, e.handleQueryUserSubscribe))

	unknown := e.env.Handle(Name, EndpointUnknown, func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		e.notAPI(w, r, c, http.StatusNotFound)
	})
	for _, prefix := range []string{"/api/apps/", "/api/v2/", "/api/notification/", "/mgplatform/"} {
		r.PathPrefix(prefix).Handler(unknown)
	}
	// /oauth/ is Douyin's, except Baidu's /oauth/2.0/ which another
	// emulation serves.
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		p := req.URL.Path
		return strings.HasPrefix(p, "/oauth/") && !strings.HasPrefix(p, "/oauth/2.0/")
	}).Handler(unknown)
}

// post guards a POST API (every Douyin API but the template queries).
func (e *Emulator) post(fn platform.HandlerFunc) platform.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		if r.Method != http.MethodPost {
			e.notAPI(w, r, c, http.StatusMethodNotAllowed)
			return
		}
		fn(w, r, c)
	}
}

type notAPIAnswer struct {
	ErrNo   ErrNo  `json:"err_no"`
	ErrTips string `json:"err_tips"`
	ErrMsg  string `json:"err_msg"`
	LogID   string `json:"log_id"`
}

// notAPI answers an unknown path (404) or a wrong method (405). What Douyin
// sends then is UNCONFIRMED; the mock answers the HTTP status with a JSON
// body a Douyin client can read: /oauth/ paths in client_token's shape,
// all others in the err_no shape with both err_tips (legacy clients) and
// err_msg (open.douyin.com clients), err_no being the HTTP status.
func (e *Emulator) notAPI(w http.ResponseWriter, r *http.Request, c *platform.Call, status int) {
	code := ErrNo(status)
	c.ErrCode = status
	msg := code.Message() + ": " + r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		writeJSON(w, status, clientTokenAnswer{Data: clientTokenError{Description: msg, ErrorCode: code}, Message: "error"})
		return
	}
	writeJSON(w, status, notAPIAnswer{ErrNo: code, ErrTips: msg, ErrMsg: msg, LogID: e.logID()})
}

package alipay

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// OpenAPI v3 (https://opendocs.alipay.com/open-v3/): one path per method
// (the method name with dots → slashes under /v3/), JSON bodies, the
// Authorization header of v3auth.go, answers signed in headers and errors
// as HTTP statuses with {code, message, links}.

// v3Route is one v3 method.
type v3Route struct {
	method   string // HTTP method
	endpoint string
	prepare  func(q *v3Call) // names the user for the journal and faults; must not answer
	serve    func(q *v3Call)
}

// v3Table lists the v3 paths the mock serves. Content detection has no v3
// path (none in alipay-sdk-java-all v3/…/api nor go-pay/gopay alipay/v3):
// a v3 call for it answers invalid-method like any unknown path.
func (e *Emulator) v3Table() map[string]*v3Route {
	return map[string]*v3Route{
		"/v3/alipay/open/app/mini/templatemessage/send": {method: http.MethodPost, endpoint: EndpointTemplateSend,
			prepare: e.prepareSendV3, serve: e.serveSendV3},
		"/v3/alipay/system/oauth/token": {method: http.MethodPost, endpoint: EndpointOAuthToken,
			prepare: e.prepareOAuthV3, serve: e.serveOAuthV3},
	}
}

// v3Call is one v3 request being answered.
type v3Call struct {
	w     http.ResponseWriter
	r     *http.Request
	c     *platform.Call
	route *v3Route
	body  []byte
	auth  authorization
	app   *store.App
	keys  *appKeys
	state any
	e     *Emulator
}

// /v3/… (every path). Checks, in this order (UNCONFIRMED: the platform's
// order): injected faults; the body's size; the Authorization header
// (syntax, app_id, timestamp, nonce, sign, skew); the path (400
// invalid-method); the app; certificate SNs; the signature; quotas; then
// the method.
func (e *Emulator) handleV3(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := &v3Call{w: w, r: r, c: c, e: e}
	if rt := e.v3[r.URL.Path]; rt != nil && rt.method == r.Method {
		q.route = rt
		c.Endpoint = rt.endpoint
	}
	body, berr := readV3Body(r)
	q.body = body
	auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
	q.auth = auth
	c.AppID = auth.appID
	if auth.appID != "" {
		if app, ok := e.env.Store.App(Name, auth.appID); ok {
			if k, ok := app.Extra.(*appKeys); ok {
				q.app, q.keys = app, k
			}
		}
	}
	if q.route != nil && q.route.prepare != nil && berr == nil {
		q.route.prepare(q)
	}
	if e.faultV3(q) {
		return
	}
	if berr != nil {
		q.fail(v3Err(CodeV3InvalidParameter, "请求体超过4MB或无法读取"))
		return
	}
	if !e.checkV3(q, aerr) {
		return
	}
	for _, ep := range []string{EndpointOpenAPIV3, q.route.endpoint} {
		if l, ok := e.env.Take(q.app, ep); !ok {
			q.fail(v3Err(CodeV3AppCallLimited, "应用调用次数超限（"+ep+" "+limitName(l)+"）"))
			return
		}
	}
	q.route.serve(q)
}

func readV3Body(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := platform.ReadAllSized(io.LimitReader(r.Body, maxBodyBytes+1), r.ContentLength, maxBodyBytes+1)
	if err != nil {
		return nil, errBodyUnreadable
	}
	if len(b) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// checkV3 authenticates the call; it answers and returns false on the
// first failure.
func (e *Emulator) checkV3(q *v3Call, aerr *v3Error) bool {
	if aerr == nil {
		aerr = q.auth.checkFields(e.env.Clock.Now())
	}
	switch {
	case aerr != nil:
		q.fail(aerr)
	case q.route == nil:
		q.fail(v3Err(CodeV3InvalidMethod, "不存在的方法名"))
	case q.app == nil:
		q.fail(v3Err(CodeV3InvalidAppID, "无效的AppID参数"))
	case q.keys.certs != nil && !q.checkCertSNs(q.keys.certs):
	default:
		content := signContentV3(&q.auth, q.r, q.body)
		if verify(q.keys.appPublic, SignTypeRSA2, content, q.auth.sign) {
			return true
		}
		// As the gateway does, quote the string verified (the caller's
		// own request: no secret).
		q.fail(v3Err(CodeV3InvalidSignature, "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："+string(content)))
	}
	return false
}

// checkCertSNs: a certificate-mode app names its certificate in the
// authString (app_cert_sn, required) and may name the root bundle in the
// alipay-root-cert-sn header, which must then match. The Java and Node SDKs
// send the header; go-pay/gopay never does, so the mock does not require
// it (UNCONFIRMED).
func (q *v3Call) checkCertSNs(c *appCerts) bool {
	root := q.r.Header.Get(HeaderRootCertSN)
	switch {
	case q.auth.appCertSN == "":
		q.fail(v3Err(CodeV3MissingAppCertSN, "缺少应用公钥证书序列号app_cert_sn"))
	case q.auth.appCertSN != c.appSN:
		q.fail(v3Err(CodeV3AppCertNotExist, "应用公钥证书不存在"))
	case root != "" && root != c.rootSN:
		q.fail(v3Err(CodeV3InvalidRootCertSN, "无效支付宝根证书序列号"))
	default:
		return true
	}
	return false
}

// faultV3 applies an injected fault for "openapi_v3", then for the
// method's endpoint. errcode 0 answers 200 {} (a success that does
// nothing), -1 500 unknow-error; 400…599 is the HTTP status itself; a
// gateway code (20000, 40004, …) maps to a v3 code and its status. errmsg,
// optional, is "<code>" or "<code> <message>".
func (e *Emulator) faultV3(q *v3Call) bool {
	a, fired := e.matchFault(q.r.Context(), q.c, EndpointOpenAPIV3)
	if !fired {
		return false
	}
	if platform.Abort(q.w, a) {
		return true
	}
	n := *a.ErrCode
	if n == 0 {
		q.ok([]byte(`{}`))
		return true
	}
	code, msg, _ := strings.Cut(strings.TrimSpace(a.ErrMsg), " ")
	status := 0
	switch {
	case n == -1:
		status, n = http.StatusInternalServerError, http.StatusInternalServerError
	case n >= 400 && n <= 599:
		status = n
	}
	if code == "" {
		code = v3FaultDefaults[n]
		if code == "" {
			code = CodeV3UnknownError
		}
	}
	if status == 0 {
		status = v3Status(code)
		if n >= 20000 && n < 30000 {
			status = http.StatusInternalServerError
		}
	}
	if msg == "" {
		msg = code
	}
	q.fail(&v3Error{status: status, code: code, message: strings.TrimSpace(msg)})
	return true
}

// v3Link is an entry of an error's links (alipay-sdk-nodejs-all
// AlipayRequestErrorSupportLink: {link, desc}).
type v3Link struct {
	Link string `json:"link"`
	Desc string `json:"desc"`
}

type v3ErrorBody struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Links   []v3Link `json:"links"`
}

// fail answers an error. The journal's errcode is the HTTP status.
func (q *v3Call) fail(err *v3Error) {
	trace := newTraceID()
	q.c.ErrCode = err.status
	body := compact(v3ErrorBody{Code: err.code, Message: err.message,
		Links: []v3Link{{Link: "https://open.alipay.com/api/errCheck?traceId=" + trace, Desc: "解决方案"}}})
	q.write(err.status, body, trace)
}

// ok answers 200 with body.
func (q *v3Call) ok(body []byte) {
	q.c.ErrCode = 0
	q.write(http.StatusOK, body, newTraceID())
}

// write sends body signed in headers (alipay-sdk-java-all v3
// AlipayConfigUtil.verify, alipay-sdk-nodejs-all #curl): alipay-signature
// = base64 SHA256withRSA of "<alipay-timestamp>\n<alipay-nonce>\n<body>\n"
// with the app's platform key, and, in certificate mode, alipay-sn = the
// Alipay certificate's SN. An unknown app gets an unsigned answer (no key
// to choose), as on the gateway.
func (q *v3Call) write(status int, body []byte, trace string) {
	h := q.w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set(HeaderTraceID, trace)
	if q.keys != nil {
		ts, nonce := q.e.stamps.stamp(q.e.env.Clock.Now())
		if sig, err := signAnswerV3(q.keys.platform, ts, nonce, body); err == nil {
			h.Set(HeaderTimestamp, ts)
			h.Set(HeaderNonce, nonce)
			h.Set(HeaderSignature, sig)
			if q.keys.certs != nil {
				h.Set(HeaderCertSN, q.keys.certs.alipaySN)
			}
		}
	}
	q.w.WriteHeader(status)
	_, _ = q.w.Write(body)
}

func signAnswerV3(key *rsa.PrivateKey, ts, nonce string, body []byte) (string, error) {
	content := make([]byte, 0, len(ts)+len(nonce)+len(body)+3)
	content = append(content, ts...)
	content = append(content, '\n')
	content = append(content, nonce...)
	content = append(content, '\n')
	content = append(content, body...)
	content = append(content, '\n')
	return sign(key, SignTypeRSA2, content)
}

// stamper gives answers their alipay-timestamp and alipay-nonce. Both are
// renewed every second of mock time and shared by the answers within it,
// so identical answers (every successful send answers {}) get identical
// signatures, which sign() memoises: an RSA-2048 signature costs ~1 ms, far
// more than the rest of a send. No SDK checks that answer nonces are
// unique (Java, Node and gopay only verify the signature); a real gateway
// presumably makes one per answer — the mock's deliberate deviation.
type stamper struct {
	mu  sync.Mutex // held to renew
	cur atomic.Pointer[stampOf]
}

type stampOf struct {
	sec       int64
	ts, nonce string
}

func (s *stamper) stamp(now time.Time) (ts, nonce string) {
	sec := now.Unix()
	if c := s.cur.Load(); c != nil && c.sec == sec {
		return c.ts, c.nonce
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c == nil || c.sec != sec {
		c = &stampOf{sec: sec, ts: strconv.FormatInt(sec*1000, 10), nonce: newUUID()}
		s.cur.Store(c)
	}
	return c.ts, c.nonce
}

// newUUID is a random (version 4) UUID, the nonce format of the Java and
// Node SDKs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID looks like the platform's trace ids (hex digits).
func newTraceID() string { return randomHex(16) }

// --- POST /v3/alipay/open/app/mini/templatemessage/send --------------------

func (e *Emulator) prepareSendV3(q *v3Call) {
	st := readSend(bytes.TrimSpace(q.body))
	q.c.OpenID = st.user
	q.state = st
}

// The body is the gateway's biz_content as JSON ({to_user_id, to_open_id,
// user_template_id, page, data, form_id}; data a JSON string:
// alipay-sdk-java-all v3 AlipayOpenAppMiniTemplatemessageSendModel). The
// same checks as the gateway; success answers 200 {} (the Java SDK declares
// the answer a bare Object: UNCONFIRMED body), failures 400 with the v3
// business codes (v3SendCodes).
func (e *Emulator) serveSendV3(q *v3Call) {
	st := q.state.(*sendState)
	if st.err != nil && !errors.Is(st.err, errNoBizContent) {
		q.fail(v3Err(CodeV3IllegalJSON, "请求体不是合法的JSON"))
		return
	}
	st.err = nil // an empty body is an empty object: the field checks name what is missing
	serr := e.send(q.app, st)
	if serr == nil {
		q.ok([]byte(`{}`))
		return
	}
	code := v3SendCodes[serr.sub]
	if code == "" {
		code = string(serr.sub)
	}
	q.fail(&v3Error{status: v3Status(code), code: code, message: serr.msg})
}

// --- POST /v3/alipay/system/oauth/token ------------------------------------

// oauthBodyV3 is the v3 token request (alipay-sdk-java-all v3
// AlipaySystemOauthTokenModel).
type oauthBodyV3 struct {
	GrantType    string `json:"grant_type"`
	Code         string `json:"code"`
	RefreshToken string `json:"refresh_token"`
}

// oauthAnswerV3 is the v3 success body: every field a string
// (AlipaySystemOauthTokenResponseModel declares them so, expires_in
// included).
type oauthAnswerV3 struct {
	AccessToken  string `json:"access_token"`
	AuthStart    string `json:"auth_start"`
	ExpiresIn    string `json:"expires_in"`
	OpenID       string `json:"open_id,omitempty"`
	ReExpiresIn  string `json:"re_expires_in"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id,omitempty"`
}

func (e *Emulator) prepareOAuthV3(q *v3Call) {
	var b oauthBodyV3
	if err := json.Unmarshal(q.body, &b); err != nil {
		q.state = err
		return
	}
	q.state = b
	q.c.OpenID = e.tokenUser(b.GrantType, b.Code, b.RefreshToken)
}

// Failures answer 400 with the gateway's sub code as the code
// (isv.code-invalid, …), as AlipaySystemOauthTokenErrorResponseModel lists.
func (e *Emulator) serveOAuthV3(q *v3Call) {
	b, ok := q.state.(oauthBodyV3)
	if !ok {
		q.fail(v3Err(CodeV3IllegalJSON, "请求体不是合法的JSON"))
		return
	}
	node, sub := e.exchange(q.app.AppID, b.GrantType, b.Code, b.RefreshToken)
	if sub != "" {
		q.fail(&v3Error{status: http.StatusBadRequest, code: string(sub), message: sub.Message()})
		return
	}
	q.c.OpenID = firstNonEmpty(node.UserID, node.OpenID)
	q.ok(compact(oauthAnswerV3{AccessToken: node.AccessToken, AuthStart: node.AuthStart,
		ExpiresIn: strconv.FormatInt(node.ExpiresIn, 10), OpenID: node.OpenID,
		ReExpiresIn: strconv.FormatInt(node.ReExpiresIn, 10), RefreshToken: node.RefreshToken, UserID: node.UserID}))
}

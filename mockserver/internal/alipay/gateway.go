package alipay

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// methodSpec is one gateway method.
type methodSpec struct {
	endpoint string
	// errorNode: business failures are answered in error_response rather
	// than the method's node (alipay.system.oauth.token).
	errorNode bool
	// prepare reads what the journal and fault matching need (the user)
	// before the call is checked; it must not answer.
	prepare func(q *call)
	serve   func(q *call)
}

// call is one gateway request being answered.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	c     *platform.Call
	p     params
	m     *methodSpec
	app   *store.App
	keys  *appKeys
	ans   answer
	state any // method-specific, set by prepare
}

// reply answers node (a success or a failure) and records its code.
func (q *call) reply(code Code, node any) {
	q.c.ErrCode = code.journal()
	q.ans.write(q.w, compact(node))
}

// fail answers a failure in the call's node. An empty subMsg takes the
// sub code's standard text.
func (q *call) fail(code Code, sub SubCode, subMsg string) {
	if subMsg == "" {
		subMsg = sub.Message()
	}
	q.reply(code, errorNode{Code: code, Msg: code.Message(), SubCode: sub, SubMsg: subMsg})
}

// failBusiness answers a method's business failure: in error_response for
// methods that use it, in the method's node otherwise.
func (q *call) failBusiness(code Code, sub SubCode, subMsg string) {
	if q.m != nil && q.m.errorNode {
		q.ans.node = errorResponseNode
	}
	q.fail(code, sub, subMsg)
}

// methodTable lists the methods the gateway knows.
func (e *Emulator) methodTable() map[string]*methodSpec {
	return map[string]*methodSpec{
		MethodTemplateSend:  {endpoint: EndpointTemplateSend, prepare: e.prepareSend, serve: e.serveSend},
		MethodOAuthToken:    {endpoint: EndpointOAuthToken, errorNode: true, prepare: e.prepareOAuth, serve: e.serveOAuth},
		MethodContentDetect: {endpoint: EndpointContentDetect, serve: e.serveContentDetect},
		MethodContentSync:   {endpoint: EndpointContentSyncDetect, serve: e.serveContentSyncDetect},
		MethodCertDownload:  {endpoint: EndpointCertDownload, serve: e.serveCertDownload},
	}
}

// POST|GET /gateway.do
//
// Checks, in this order (the platform's order is UNCONFIRMED): injected
// faults; missing common parameters (40001); format, charset, sign_type and
// timestamp (40002); unknown method; unknown app; the signature; quotas;
// then the method's own checks.
func (e *Emulator) handleGateway(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	p, perr := readParams(r)
	q := &call{w: w, r: r, c: c, p: p, ans: answer{node: errorResponseNode, signType: SignTypeRSA2}}
	method := p["method"]
	if q.m = e.methods[method]; q.m != nil {
		c.Endpoint = q.m.endpoint
		q.ans.node = nodeName(method)
	}
	if p["sign_type"] == SignTypeRSA {
		q.ans.signType = SignTypeRSA
	}
	c.AppID = p["app_id"]
	if c.AppID != "" {
		if app, ok := e.env.Store.App(Name, c.AppID); ok {
			if k, ok := app.Extra.(*appKeys); ok {
				q.app, q.keys, q.ans.key = app, k, k.platform
				if k.certs != nil {
					q.ans.certSN = k.certs.alipaySN
				}
			}
		}
	}
	if q.m != nil && q.m.prepare != nil && perr == nil {
		q.m.prepare(q)
	}
	if e.fault(q) {
		return
	}
	if perr != nil {
		q.fail(CodeInvalidArgument, SubInvalidParameter, "请求体超过4MB")
		return
	}
	if !e.checkCommon(q) {
		return
	}
	if !e.take(q, EndpointGateway) || !e.take(q, q.m.endpoint) {
		return
	}
	q.m.serve(q)
}

// checkCommon checks the common parameters, the app and the signature; it
// answers and returns false on the first failure.
func (e *Emulator) checkCommon(q *call) bool {
	p := q.p
	for _, req := range []struct {
		name string
		sub  SubCode
	}{
		{"method", SubMissingMethod},
		{"sign", SubMissingSignature},
		{"sign_type", SubMissingSignatureType},
		{"app_id", SubMissingAppID},
		{"timestamp", SubMissingTimestamp},
		{"version", SubMissingVersion},
	} {
		if p[req.name] == "" {
			q.fail(CodeMissingArgument, req.sub, "")
			return false
		}
	}
	switch {
	case p["format"] != "" && !strings.EqualFold(p["format"], "json"):
		// Only JSON is supported ("仅支持JSON").
		q.fail(CodeInvalidArgument, SubInvalidFormat, "")
	case !validCharset(p["charset"]):
		q.fail(CodeInvalidArgument, SubInvalidCharset, "")
	case p["sign_type"] != SignTypeRSA2 && p["sign_type"] != SignTypeRSA:
		q.fail(CodeInvalidArgument, SubInvalidSignatureType, "")
	case !validTimestamp(p["timestamp"]):
		q.fail(CodeInvalidArgument, SubInvalidTimestamp, "")
	case q.m == nil:
		q.fail(CodeInvalidArgument, SubInvalidMethod, "")
	case q.app == nil:
		q.fail(CodeInvalidArgument, SubInvalidAppID, "")
	case q.keys.certs != nil && !checkCertSNs(q, q.keys.certs):
	default:
		content := p.signContent()
		if verify(q.keys.appPublic, p["sign_type"], []byte(content), p["sign"]) {
			return true
		}
		// The platform quotes the string it verified, so a caller can diff
		// it with its own (the request's own parameters: no secret).
		q.fail(CodeInvalidArgument, SubInvalidSignature,
			"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："+content)
	}
	return false
}

// checkCertSNs checks the SNs a certificate-mode app's request must carry
// (signed like every other parameter); it answers and returns false on the
// first failure. They are checked before the signature: the app
// certificate names the key the signature is verified with. A public-key
// app that sends them is not checked (UNCONFIRMED).
func checkCertSNs(q *call, c *appCerts) bool {
	switch appSN, rootSN := q.p["app_cert_sn"], q.p["alipay_root_cert_sn"]; {
	case appSN == "":
		q.fail(CodeMissingArgument, SubMissingAppCertSN, "")
	case appSN != c.appSN:
		q.fail(CodeInvalidArgument, SubAppCertNotExist, "")
	case rootSN == "":
		q.fail(CodeMissingArgument, SubMissingRootCertSN, "")
	case rootSN != c.rootSN:
		q.fail(CodeInvalidArgument, SubInvalidRootCertSN, "")
	default:
		return true
	}
	return false
}

// take applies the app's quota for endpoint; on refusal it answers.
func (e *Emulator) take(q *call, endpoint string) bool {
	l, ok := e.env.Take(q.app, endpoint)
	if ok {
		return true
	}
	q.failBusiness(CodeBusinessFailed, SubCallLimited, SubCallLimited.Message()+"（"+endpoint+" "+limitName(l)+"）")
	return false
}

// fault applies an injected fault for the "gateway" endpoint, then for the
// method's own; it reports whether the call is answered. An errcode fault
// answers that code; its errmsg, when set, is "<sub_code>" or
// "<sub_code> <sub_msg>". errcode 0 means 10000 (a success that does
// nothing: the message is lost) and -1 means 20000 isp.unknow-error.
func (e *Emulator) fault(q *call) bool {
	a, fired := e.matchFault(q.r.Context(), q.c, EndpointGateway)
	if !fired {
		return false
	}
	if platform.Abort(q.w, a) {
		return true
	}
	code, sub, subMsg := faultAnswer(a)
	if code == CodeSuccess {
		q.reply(code, errorNode{Code: code, Msg: code.Message()})
		return true
	}
	q.failBusiness(code, sub, subMsg)
	return true
}

// matchFault tries the protocol-wide endpoint (gateway, openapi_v3) first,
// then the call's method endpoint; the call keeps its method endpoint for
// the journal.
func (e *Emulator) matchFault(ctx context.Context, c *platform.Call, protocol string) (faults.Action, bool) {
	endpoint := c.Endpoint
	c.Endpoint = protocol
	a, fired := e.env.Fault(ctx, c)
	c.Endpoint = endpoint
	if !fired && endpoint != protocol {
		a, fired = e.env.Fault(ctx, c)
	}
	return a, fired
}

func faultAnswer(a faults.Action) (Code, SubCode, string) {
	var code Code
	switch n := *a.ErrCode; n {
	case 0:
		code = CodeSuccess
	case -1:
		code = CodeUnavailable
	default:
		code = Code(strconv.Itoa(n))
	}
	sub, subMsg, _ := strings.Cut(strings.TrimSpace(a.ErrMsg), " ")
	if sub == "" {
		return code, faultDefaults[code], ""
	}
	return code, SubCode(sub), strings.TrimSpace(subMsg)
}

// limitName is for messages: "100/day".
func limitName(l quota.Limit) string { return strconv.Itoa(l.Max) + "/" + string(l.Per) }

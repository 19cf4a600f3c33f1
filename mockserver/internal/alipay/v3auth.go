package alipay

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OpenAPI v3 request authentication (https://opendocs.alipay.com/open-v3/054q58):
//
//	Authorization: ALIPAY-SHA256withRSA app_id=…[,app_cert_sn=…],nonce=…,timestamp=…[,expired_seconds=…],sign=…
//
// The signed text is "<authString>\n<METHOD>\n<URI>\n<body>\n", plus
// "<app auth token>\n" when the alipay-app-auth-token header is sent, where
// authString is everything between the scheme and ",sign=" exactly as sent
// (field order differs between SDKs), URI is the path with its query and
// body the exact bytes ("" when empty): alipay-sdk-java-all v3
// AlipayConfigUtil.sign, alipay-sdk-nodejs-all src/alipay.ts #curl,
// go-pay/gopay alipay/v3/sign.go authorization. SHA256withRSA, PKCS#1 v1.5,
// base64.

// AuthScheme is the v3 Authorization scheme.
const AuthScheme = "ALIPAY-SHA256withRSA"

// Header names of OpenAPI v3 (go-pay/gopay alipay/v3/constant.go;
// alipay-sdk-nodejs-all src/alipay.ts).
const (
	HeaderAppAuthToken = "alipay-app-auth-token"
	HeaderRootCertSN   = "alipay-root-cert-sn"
	HeaderTimestamp    = "alipay-timestamp"
	HeaderNonce        = "alipay-nonce"
	HeaderSignature    = "alipay-signature"
	HeaderCertSN       = "alipay-sn"
	HeaderTraceID      = "alipay-trace-id"
)

// Skew limits for the authorization timestamp (epoch milliseconds) against
// the mock clock. UNCONFIRMED: the platform documents no tolerance; the
// doc's own example carries expired_seconds=120 (quoted in go-pay/gopay
// alipay/v3/sign.go), read here as the signature's lifetime. Without it a
// signature lives defaultSignatureLife; a timestamp more than maxFutureSkew
// ahead of the mock clock is refused too.
const (
	defaultSignatureLife = 5 * time.Minute
	maxFutureSkew        = 5 * time.Minute
	maxSignatureLife     = 24 * time.Hour
	maxAuthorization     = 8 << 10
)

// authorization is a parsed Authorization header.
type authorization struct {
	authString string // verbatim, what was signed
	sign       string
	appID      string
	appCertSN  string
	nonce      string
	timestamp  string
	expires    string // expired_seconds, when given
}

// v3Error is a refusal: HTTP status, v3 code and message.
type v3Error struct {
	status  int
	code    string
	message string
}

func (e *v3Error) Error() string { return e.code + ": " + e.message }

func v3Err(code, message string) *v3Error {
	return &v3Error{status: v3Status(code), code: code, message: message}
}

// parseAuthorization reads the header; it checks syntax only (no key, no
// clock). Fields are name=value pairs split on ","; the first of a
// repeated name counts. gopay sends nonce_str instead of nonce in
// certificate mode (alipay/v3/sign.go): the mock accepts either
// (UNCONFIRMED whether the platform does).
func parseAuthorization(h string) (authorization, *v3Error) {
	var a authorization
	if strings.TrimSpace(h) == "" {
		return a, v3Err(CodeV3MissingSignature, "缺少签名参数Authorization")
	}
	if len(h) > maxAuthorization {
		return a, v3Err(CodeV3InvalidParameter, "Authorization过长")
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme != AuthScheme {
		return a, v3Err(CodeV3InvalidSignatureType, "无效的签名类型，应为"+AuthScheme)
	}
	rest = strings.TrimLeft(rest, " ")
	if i := strings.LastIndex(rest, ",sign="); i >= 0 {
		a.authString, a.sign = rest[:i], rest[i+len(",sign="):]
	} else if v, ok := strings.CutPrefix(rest, "sign="); ok {
		a.sign = v
	} else {
		a.authString = rest
	}
	// The first of a repeated name counts: seen has one bit per field
	// name read (nonce and nonce_str apart, the first of them filling
	// nonce).
	var seen uint8
	for rest := a.authString; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		var bit uint8
		switch strings.TrimSpace(k) {
		case "app_id":
			bit = 1
		case "app_cert_sn":
			bit = 2
		case "nonce":
			bit = 4
		case "nonce_str":
			bit = 8
		case "timestamp":
			bit = 16
		case "expired_seconds":
			bit = 32
		}
		if bit == 0 || seen&bit != 0 {
			continue
		}
		seen |= bit
		switch bit {
		case 1:
			a.appID = v
		case 2:
			a.appCertSN = v
		case 4, 8:
			if a.nonce == "" {
				a.nonce = v
			}
		case 16:
			a.timestamp = v
		case 32:
			a.expires = v
		}
	}
	return a, nil
}

// checkFields checks what the header must name, in this order
// (UNCONFIRMED: the platform's order): app_id, timestamp (format), nonce,
// sign, expired_seconds, the timestamp's skew against now.
func (a *authorization) checkFields(now time.Time) *v3Error {
	if a.appID == "" {
		return v3Err(CodeV3MissingAppID, "缺少app_id参数")
	}
	if a.timestamp == "" {
		return v3Err(CodeV3MissingTimestamp, "缺少timestamp参数")
	}
	ms, err := strconv.ParseInt(a.timestamp, 10, 64)
	if err != nil || ms <= 0 {
		return v3Err(CodeV3InvalidTimestamp, "timestamp应为毫秒时间戳")
	}
	if a.nonce == "" {
		return v3Err(CodeV3InvalidParameter, "缺少nonce参数")
	}
	if a.sign == "" {
		return v3Err(CodeV3MissingSignature, "缺少签名参数sign")
	}
	life := defaultSignatureLife
	if a.expires != "" {
		s, err := strconv.Atoi(a.expires)
		if err != nil || s <= 0 || time.Duration(s)*time.Second > maxSignatureLife {
			return v3Err(CodeV3InvalidParameter, "expired_seconds无效")
		}
		life = time.Duration(s) * time.Second
	}
	t := time.UnixMilli(ms)
	if t.After(now.Add(maxFutureSkew)) || now.After(t.Add(life)) {
		return v3Err(CodeV3IllegalTimestamp, "timestamp已过期或超前，网关当前时间 "+strconv.FormatInt(now.UnixMilli(), 10))
	}
	return nil
}

// signContent is the text the caller signed.
func signContentV3(a *authorization, r *http.Request, body []byte) []byte {
	uri := requestURI(r)
	token := r.Header.Get(HeaderAppAuthToken)
	b := make([]byte, 0, len(a.authString)+len(r.Method)+len(uri)+len(body)+len(token)+5)
	b = append(b, a.authString...)
	b = append(b, '\n')
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, uri...)
	b = append(b, '\n')
	b = append(b, body...)
	b = append(b, '\n')
	if token != "" {
		b = append(b, token...)
		b = append(b, '\n')
	}
	return b
}

// requestURI is the request target as received: path and query, no host.
// A proxy-style absolute target is cut to its path and query.
func requestURI(r *http.Request) string {
	u := r.RequestURI
	if u == "" { // a request built in a test rather than read off the wire
		return r.URL.RequestURI()
	}
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		if p, err := url.ParseRequestURI(u); err == nil {
			return p.RequestURI()
		}
	}
	return u
}

var errBodyUnreadable = errors.New("body unreadable")

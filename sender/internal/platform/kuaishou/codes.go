package kuaishou

import (
	"strconv"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// Result is Kuaishou's "result" field: 1 is success, anything else an error
// code with its text in "error_msg" (some answers also carry a short
// "error"). Every answer is HTTP 200. Sources:
// /work/shared/platforms/douyin-kuaishou-baidu.md §2.1, §2.2.
//
// Only the token API's two codes are documented
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html). The
// send API's error table could not be retrieved; the other numbers are the
// mock's (docs/mock-kuaishou.md) and are UNCONFIRMED. A code not listed is
// retryable, so a real code the client does not know costs retries, never a
// message.
type Result int64

// Results the client classifies.
const (
	ResultOK Result = 1

	// Documented for the token API. On send, the mock also answers them
	// (100200100 for any bad or missing parameter, 100200101 for an
	// unknown, expired or foreign access_token): UNCONFIRMED.
	ResultBadParam Result = 100200100 // 参数有误: a parameter is empty or wrong
	ResultAuth     Result = 100200101 // 验证出错: app_id/app_secret wrong; on send, the access_token

	// UNCONFIRMED: the mock's numbers for the send API's other failures.
	ResultNotSubscribed Result = 100200110 // the user holds no (remaining) subscription
	ResultContentRisky  Result = 100200111 // message text hit the content rules
	ResultRateLimited   Result = 100200112 // over the QPS cap ("目前限制调用的qps最大为100") or another quota
	ResultNoSuchAPI     Result = 100200404 // unknown path: the base URL points somewhere wrong
	ResultSystemError   Result = 100200500 // internal error
)

// qpsRetryHint: the only documented limit is 100 calls a second.
const qpsRetryHint = time.Second

// rule is how one code is handled: its class, and for throttling how long
// the app should back off (0: the dispatcher's own backoff).
type rule struct {
	class      message.Outcome
	retryAfter time.Duration
}

// credentials marks an app-level configuration problem (wrong app_secret,
// unknown app_id, wrong base URL). These are "throttled" with a long
// backoff, not "permanent": permanent would dead-letter every queued
// message of the app at once for a mistake an operator fixes in minutes,
// and "retryable" would spend each message's retry budget. The duration is
// the client's CredentialsBackoff.
const credentials time.Duration = -2

var (
	permanent = rule{class: message.OutcomePermanent}
	retryable = rule{class: message.OutcomeRetryable}
	tokenBad  = rule{class: message.OutcomeToken}
	config    = rule{class: message.OutcomeThrottled, retryAfter: credentials}
	qps       = rule{class: message.OutcomeThrottled, retryAfter: qpsRetryHint}
)

// sendRules classify the send API's answers.
var sendRules = map[Result]rule{
	// The request is ours: a bad or missing field, a keyword breaking its
	// type rule, an unknown to_user or template. The same message fails
	// the same way on every retry.
	ResultBadParam: permanent,
	// 验证出错 on send is the access token (the app's credentials were
	// already checked when it was issued): refetch once and retry.
	ResultAuth:          tokenBad,
	ResultNotSubscribed: permanent,
	ResultContentRisky:  permanent,
	ResultRateLimited:   qps,
	ResultNoSuchAPI:     config,
	ResultSystemError:   retryable,
}

// tokenRules classify the token API's answers. Its parameters are constant
// but for the app's credentials, so 100200100 and 100200101 are both
// configuration.
var tokenRules = map[Result]rule{
	ResultBadParam:    config,
	ResultAuth:        config,
	ResultRateLimited: qps,
	ResultNoSuchAPI:   config,
	ResultSystemError: retryable,
}

// classify turns a result code into a platform.Error. msg is the
// platform's error_msg (or its short error name), scrubbed here.
func (c *Client) classify(rules map[Result]rule, code Result, msg string) *platform.Error {
	r, ok := rules[code]
	if !ok {
		r = retryable
	}
	e := &platform.Error{Platform: Platform, Code: strconv.FormatInt(int64(code), 10), Message: c.scrub(msg), Class: r.class}
	switch r.retryAfter {
	case 0:
	case credentials:
		e.RetryAfter = c.opts.credentialsBackoff
	default:
		e.RetryAfter = r.retryAfter
	}
	if e.Message == "" {
		e.Message = "result " + e.Code
	}
	return e
}

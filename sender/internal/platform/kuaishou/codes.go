package kuaishou

import (
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/classify"
)

// Result is Kuaishou's "result" field: 1 is success, anything else an error
// code with its text in "error_msg" (some answers also carry a short
// "error"). Every answer is HTTP 200. Sources:
// docs/platforms/kuaishou.md.
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

// qps: the only documented limit is 100 calls a second.
var qps = classify.Throttled(time.Second)

// sendRules classify the send API's answers.
var sendRules = map[Result]classify.Rule{
	// The request is ours: a bad or missing field, a keyword breaking its
	// type rule, an unknown to_user or template. The same message fails
	// the same way on every retry.
	ResultBadParam: classify.InvalidData,
	// 验证出错 on send is the access token (the app's credentials were
	// already checked when it was issued): refetch once and retry.
	ResultAuth:          classify.Token,
	ResultNotSubscribed: classify.NotSubscribed,
	ResultContentRisky:  classify.RiskyContent,
	ResultRateLimited:   qps,
	ResultNoSuchAPI:     classify.Credentials,
	ResultSystemError:   classify.Retryable,
}

// tokenRules classify the token API's answers. Its parameters are constant
// but for the app's credentials, so 100200100 and 100200101 are both
// configuration.
var tokenRules = map[Result]classify.Rule{
	ResultBadParam:    classify.Credentials,
	ResultAuth:        classify.Credentials,
	ResultRateLimited: qps,
	ResultNoSuchAPI:   classify.Credentials,
	ResultSystemError: classify.Retryable,
}

// classify turns a result code into a platform.Error. msg is the
// platform's error_msg (or its short error name), scrubbed here.
func (c *Client) classify(rules map[Result]classify.Rule, code Result, msg string) *platform.Error {
	return classify.Code(c.codes, rules, code, msg)
}

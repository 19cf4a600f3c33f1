package alipay

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Every Alipay code and sub code the client knows has its reason
// (issue 11), written here code by code apart from codes.go.
func TestCodeReasons(t *testing.T) {
	t.Parallel()
	platformtest.Reasons(t, "subRules", subRules, map[SubCode]reason.Reason{
		"isv.invalid-signature": reason.CredentialsInvalid, "isv.invalid-app-id": reason.CredentialsInvalid,
		"isv.invalid-timestamp": reason.CredentialsInvalid, "isv.invalid-method": reason.CredentialsInvalid,
		"isv.insufficient-isv-permissions":  reason.CredentialsInvalid,
		"USER_TEMPLATE_ILLEGAL":             reason.InvalidTemplate,
		"INVALID_PARAMETER":                 reason.InvalidData,
		"USER_NOT_EXIST":                    reason.InvalidRecipient,
		"USER_NOT_SUBSCRIBED":               reason.NotSubscribed,
		"PAGE_ILLEGAL":                      reason.InvalidData,
		"CONTENT_ILLEGAL":                   reason.RiskyContent,
		"isv.insufficient-user-permissions": reason.NotPermitted,
		"isv.app-call-limited":              reason.RateLimited,
	})
	platformtest.Reasons(t, "codeRules", codeRules, map[Code]reason.Reason{
		"20000": reason.PlatformUnavailable,
		"20001": reason.CredentialsInvalid,
		"40001": reason.InvalidRequest,
		"40002": reason.InvalidRequest,
		"40004": reason.PlatformError,
		"40006": reason.NotPermitted,
	})
	// The rules reached through the namespace and the flow-control words.
	for _, tc := range []struct {
		code Code
		sub  SubCode
		want reason.Reason
	}{
		{"40004", "isv.USER_NOT_EXIST", reason.InvalidRecipient},
		{"40004", "SEND_FREQUENCY_LIMIT", reason.RateLimited},
		{"40004", "SOMETHING_NEW", reason.PlatformError},
		{"20000", "isp.unknow-error", reason.PlatformUnavailable},
	} {
		if got := ruleFor(tc.code, tc.sub); got.Reason != tc.want {
			t.Errorf("ruleFor(%s, %s) reason %q, want %q", tc.code, tc.sub, got.Reason, tc.want)
		}
	}
	if r := ruleFor("40004", "SOMETHING_NEW"); r.Class != message.OutcomeRetryable {
		t.Errorf("an unknown business sub code: %+v, want retryable", r)
	}
}

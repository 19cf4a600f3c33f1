package wechat

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Every WeChat code the client knows has its reason (issue 11), written
// here code by code apart from codes.go.
func TestCodeReasons(t *testing.T) {
	t.Parallel()
	platformtest.Reasons(t, "businessRules", businessRules, map[Code]reason.Reason{
		-1:    reason.PlatformUnavailable,
		40001: reason.TokenInvalid, 40014: reason.TokenInvalid, 41001: reason.TokenInvalid, 42001: reason.TokenInvalid,
		40003: reason.InvalidRecipient,
		40037: reason.InvalidTemplate,
		41030: reason.InvalidData,
		43101: reason.NotSubscribed,
		43107: reason.NotPermitted,
		45168: reason.RiskyContent,
		47003: reason.InvalidData,
		44002: reason.InvalidRequest, 47001: reason.InvalidRequest, 43002: reason.InvalidRequest,
		43108: reason.RateLimited,
		45009: reason.QuotaExceeded,
		45011: reason.RateLimited, 44991: reason.RateLimited,
		40013: reason.CredentialsInvalid, 40125: reason.CredentialsInvalid, 48001: reason.CredentialsInvalid,
		40066: reason.CredentialsInvalid, 50007: reason.CredentialsInvalid,
		40129: reason.InvalidRequest,
		43104: reason.InvalidRecipient,
		61010: reason.NotPermitted,
	})
	platformtest.Reasons(t, "tokenRules", tokenRules, map[Code]reason.Reason{
		-1:    reason.PlatformUnavailable,
		40001: reason.CredentialsInvalid, 40002: reason.CredentialsInvalid, 40013: reason.CredentialsInvalid,
		40125: reason.CredentialsInvalid, 40164: reason.CredentialsInvalid, 40243: reason.CredentialsInvalid,
		41002: reason.CredentialsInvalid, 41004: reason.CredentialsInvalid, 50004: reason.CredentialsInvalid,
		50007: reason.CredentialsInvalid, 43002: reason.CredentialsInvalid, 40066: reason.CredentialsInvalid,
		89501: reason.CredentialsInvalid, 89503: reason.CredentialsInvalid,
		89506: reason.CredentialsInvalid, 89507: reason.CredentialsInvalid,
		45009: reason.QuotaExceeded, 45011: reason.RateLimited,
	})
	platformtest.Unknown(t, businessRules, 99999)
	// The daily quota is a window the app waits out; the minute cap is a
	// transient throttle (delivery.throttle_backoff).
	if !businessRules[CodeDailyQuota].Window || businessRules[CodeMinuteQuota].Window {
		t.Error("45009 must be a window, 45011 a transient throttle")
	}
}

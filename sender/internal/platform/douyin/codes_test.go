package douyin

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Every Douyin code the client knows has its reason (issue 11), written
// here code by code apart from codes.go.
func TestCodeReasons(t *testing.T) {
	t.Parallel()
	platformtest.Reasons(t, "businessRules", businessRules, map[Code]reason.Reason{
		-1: reason.PlatformUnavailable, 2000: reason.PlatformUnavailable,
		28001005: reason.PlatformUnavailable, 28001006: reason.PlatformUnavailable,
		28001003: reason.TokenInvalid, 28001008: reason.TokenInvalid, 11016: reason.TokenInvalid,
		1000:     reason.InvalidRequest,
		1001:     reason.InvalidData,
		1008:     reason.RiskyContent,
		28001007: reason.InvalidData,
		28014001: reason.InvalidData,
		28014043: reason.NotSubscribed, 28014036: reason.NotSubscribed,
		28014041: reason.QuotaExceeded,
		28001012: reason.NotPermitted, 28001020: reason.NotPermitted,
		1009: reason.NotPermitted, 28001019: reason.NotPermitted,
		1010:     reason.RateLimited,
		28006003: reason.RateLimited, 28003018: reason.RateLimited,
		28003017: reason.QuotaExceeded,
		28001014: reason.CredentialsInvalid, 28001016: reason.CredentialsInvalid, 28001018: reason.CredentialsInvalid,
		28001021: reason.CredentialsInvalid, 40006: reason.CredentialsInvalid, 40036: reason.CredentialsInvalid,
	})
	platformtest.Reasons(t, "tokenRules", tokenRules, map[Code]reason.Reason{
		-1:    reason.PlatformUnavailable,
		40014: reason.CredentialsInvalid, 40015: reason.CredentialsInvalid, 40017: reason.CredentialsInvalid,
		40020: reason.CredentialsInvalid, 40006: reason.CredentialsInvalid, 10002: reason.CredentialsInvalid,
		10003: reason.CredentialsInvalid, 10013: reason.CredentialsInvalid,
		10020: reason.RateLimited,
	})
	platformtest.Reasons(t, "antidirtRules", antidirtRules, map[Code]reason.Reason{
		401: reason.TokenInvalid, 400: reason.InvalidRequest, 429: reason.RateLimited,
	})
	platformtest.Unknown(t, businessRules, 28999999)
	if !businessRules[CodeQuotaExhausted].Window || businessRules[CodeRequestTooOften].Window {
		t.Error("28003017 (quota) must be a window, 28003018 (frequency) a transient throttle")
	}
}

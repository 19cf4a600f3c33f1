package baidu

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Every Baidu code the client knows has its reason (issue 11), written
// here code by code apart from codes.go.
func TestCodeReasons(t *testing.T) {
	t.Parallel()
	platformtest.Reasons(t, "gatewayRules", gatewayRules, map[GatewayCode]reason.Reason{
		1: reason.PlatformUnavailable, 2: reason.PlatformUnavailable,
		110: reason.TokenInvalid, 111: reason.TokenInvalid,
		18: reason.RateLimited, 4: reason.RateLimited,
		17: reason.QuotaExceeded,
		3:  reason.CredentialsInvalid, 6: reason.CredentialsInvalid,
		100: reason.InvalidRequest,
	})
	platformtest.Reasons(t, "tokenGatewayRules", tokenGatewayRules, map[GatewayCode]reason.Reason{
		1: reason.PlatformUnavailable, 2: reason.PlatformUnavailable,
		18: reason.RateLimited, 4: reason.RateLimited,
		17: reason.QuotaExceeded,
		3:  reason.CredentialsInvalid, 6: reason.CredentialsInvalid, 100: reason.CredentialsInvalid,
		110: reason.CredentialsInvalid, 111: reason.CredentialsInvalid,
	})
	platformtest.Reasons(t, "sendRules", sendRules, map[Errno]reason.Reason{
		2002: reason.InvalidData, 4001: reason.InvalidTemplate, 4007: reason.NotSubscribed, 4010: reason.InvalidRecipient,
	})
	platformtest.Reasons(t, "checkRules", checkRules, map[Errno]reason.Reason{2002: reason.InvalidRequest})
	platformtest.Reasons(t, "oauthRules", oauthRules, map[string]reason.Reason{
		"invalid_request": reason.CredentialsInvalid, "invalid_client": reason.CredentialsInvalid,
		"invalid_grant": reason.CredentialsInvalid, "unauthorized_client": reason.CredentialsInvalid,
		"unsupported_grant_type": reason.CredentialsInvalid, "invalid_scope": reason.CredentialsInvalid,
	})
	platformtest.Unknown(t, sendRules, 9999)
	platformtest.Unknown(t, oauthRules, "server_error")
}

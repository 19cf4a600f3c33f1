package kuaishou

import (
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Every Kuaishou result code the client knows has its reason (issue 11),
// written here code by code apart from codes.go.
func TestCodeReasons(t *testing.T) {
	t.Parallel()
	platformtest.Reasons(t, "sendRules", sendRules, map[Result]reason.Reason{
		100200100: reason.InvalidData,
		100200101: reason.TokenInvalid,
		100200110: reason.NotSubscribed,
		100200111: reason.RiskyContent,
		100200112: reason.RateLimited,
		100200404: reason.CredentialsInvalid,
		100200500: reason.PlatformUnavailable,
	})
	platformtest.Reasons(t, "tokenRules", tokenRules, map[Result]reason.Reason{
		100200100: reason.CredentialsInvalid,
		100200101: reason.CredentialsInvalid,
		100200112: reason.RateLimited,
		100200404: reason.CredentialsInvalid,
		100200500: reason.PlatformUnavailable,
	})
	platformtest.Unknown(t, sendRules, 100200999)
}

package douyin

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Endpoints lists the endpoint names faults and quotas can target.
func (e *Emulator) Endpoints() []string { return Endpoints() }

// DefaultLimits are the call limits of a new app.
func (e *Emulator) DefaultLimits() []quota.Limit { return DefaultLimits() }

// PrepareApp checks a Douyin app: both token endpoints need its AppSecret
// (client_secret is the same secret, client_key the AppID).
func (e *Emulator) PrepareApp(req mockapi.App, _ *store.App) (map[string]any, string, error) {
	if req.Secret == "" {
		return nil, "secret", errors.New("secret (the app's AppSecret) is required for a douyin app")
	}
	return nil, "", nil
}

// CheckKeywordKey: Douyin keys are the template's keyword names (often
// Chinese), so any short single-line name is accepted.
func (e *Emulator) CheckKeywordKey(key string) error {
	if strings.TrimSpace(key) == "" || utf8.RuneCountInString(key) > 64 || strings.ContainsAny(key, "\r\n\t") {
		return fmt.Errorf("keyword %q must be a non-empty name of at most 64 characters on one line", key)
	}
	return nil
}

package wechat

import (
	"errors"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Endpoints lists the endpoint names faults and quotas can target.
func (e *Emulator) Endpoints() []string { return Endpoints() }

// DefaultLimits are the call limits of a new app.
func (e *Emulator) DefaultLimits() []quota.Limit { return DefaultLimits() }

// PrepareApp checks a WeChat app: it needs its AppSecret.
func (e *Emulator) PrepareApp(req mockapi.App, _ *store.App) (map[string]any, string, error) {
	if req.Secret == "" {
		return nil, "secret", errors.New("secret (the app's AppSecret) is required for a wechat app")
	}
	return nil, "", nil
}

// CheckKeywordKey: WeChat keys are a type followed by digits ("thing1").
func (e *Emulator) CheckKeywordKey(key string) error { return keyword.CheckKey(key) }

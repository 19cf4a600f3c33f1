package mockserver

import (
	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/douyin"
	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/wechat"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// emulator is one platform's emulation.
type emulator interface {
	controlapi.Platform
	// Name is the platform name used in the control API ("wechat").
	Name() string
	// Routes registers the platform's paths.
	Routes(r *mux.Router)
	// Reset forgets the platform's own state (tokens, …) and reloads what
	// the seed gives it.
	Reset(seed mockapi.Seed)
}

// emulators lists the platforms one server emulates, all on one listener:
// their real paths do not collide.
func emulators(env *platform.Env) []emulator {
	return []emulator{
		wechat.New(env),
		alipay.New(env),
		douyin.New(env),
		kuaishou.New(env),
		baidu.New(env),
	}
}

package wechat_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
	"github.com/minipush/minipush/sender/internal/tokens"
)

func ExampleClient_Send() {
	// A mock WeChat with one app, user, template and grant.
	mock, _ := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformWeChat, AppID: "wx0123456789abcdef", Secret: "app-secret",
		Templates: []mockapi.Template{{TemplateID: "tmpl-order", Title: "发货通知", Keywords: []string{"thing1"}}},
		Grants:    []mockapi.Grant{{OpenID: "o-user", TemplateID: "tmpl-order", Count: 1}},
	}}}))
	srv := httptest.NewServer(mock.Handler())
	defer srv.Close()

	c, err := wechat.New(wechat.Config{AppID: "wx0123456789abcdef", Secret: "app-secret", BaseURL: srv.URL},
		tokens.NewMemoryStore())
	if err != nil {
		fmt.Println(err)
		return
	}
	send := platform.Send{To: "o-user", TemplateID: "tmpl-order", Data: map[string]string{"thing1": "已发货"}}
	res, err := c.Send(context.Background(), send)
	fmt.Println(res.MsgID != "", err)

	// The one-time grant is used up: 43101, permanent.
	_, err = c.Send(context.Background(), send)
	fmt.Println(platform.Classify(err))
	// Output:
	// true <nil>
	// permanent
}

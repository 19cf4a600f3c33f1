package douyin_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/douyin"
	"github.com/minipush/minipush/sender/internal/tokens"
)

func ExampleClient_Send() {
	// A mock Douyin with one app, a template, a user holding a one-time
	// grant and one holding none. The template's data keys are its keyword
	// names.
	mock, _ := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformDouyin, AppID: "tt0123456789abcdef", Secret: "app-secret",
		Templates: []mockapi.Template{{TemplateID: "MSG-order", Title: "订单发货通知", Keywords: []string{"thing1"},
			KeywordNames: map[string]string{"thing1": "物品名称"}}},
		Users:  []string{"other-open-id"},
		Grants: []mockapi.Grant{{OpenID: "user-open-id", TemplateID: "MSG-order", Count: 1}},
	}}}))
	srv := httptest.NewServer(mock.Handler())
	defer srv.Close()

	// API v2 (client_token + notify_user) is the default.
	c, err := douyin.New(douyin.Config{AppID: "tt0123456789abcdef", Secret: "app-secret", BaseURL: srv.URL},
		tokens.NewMemoryStore())
	if err != nil {
		fmt.Println(err)
		return
	}
	send := platform.Send{To: "user-open-id", TemplateID: "MSG-order", Data: map[string]string{"物品名称": "机械键盘"}}
	res, err := c.Send(context.Background(), send)
	fmt.Println(res.MsgID != "", err)

	// A user who never subscribed: 28014043, permanent.
	send.To = "other-open-id"
	_, err = c.Send(context.Background(), send)
	fmt.Println(platform.Classify(err))
	// Output:
	// true <nil>
	// permanent
}

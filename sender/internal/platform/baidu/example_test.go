package baidu_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/baidu"
	"github.com/minipush/minipush/sender/internal/tokens"
)

func ExampleClient_Send() {
	// A mock Baidu with one app (addressed by its AppKey), a user, a
	// template and two authorizations.
	const appKey = "bdExampleAppKey00000000000000001"
	mock, _ := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformBaidu, AppID: appKey, Secret: "app-secret",
		Templates: []mockapi.Template{{TemplateID: "de300000000000000000000000000001", Title: "预约成功", Keywords: []string{"thing1"}}},
		Grants:    []mockapi.Grant{{OpenID: "bd-user", TemplateID: "de300000000000000000000000000001", Count: 2}},
	}}}))
	srv := httptest.NewServer(mock.Handler())
	defer srv.Close()

	// The mini-program asks users to subscribe under the id "booking".
	c, err := baidu.New(baidu.Config{AppID: appKey, Secret: "app-secret", BaseURL: srv.URL,
		SubscribeIDs: map[string]string{"de300000000000000000000000000001": "booking"}}, tokens.NewMemoryStore())
	if err != nil {
		fmt.Println(err)
		return
	}
	send := platform.Send{To: "bd-user", TemplateID: "de300000000000000000000000000001", Data: map[string]string{"thing1": "体检"}}
	res, err := c.Send(context.Background(), send)
	fmt.Println(res.MsgID != "", err)

	// One authorization under "booking" carries one message: 4007.
	_, err = c.Send(context.Background(), send)
	fmt.Println(platform.Classify(err))

	// A message naming its own subscribe id (e.g. the order number the
	// mini-program subscribed under) spends the second authorization.
	send.Data[baidu.SubscribeIDKey] = "order-42"
	_, err = c.Send(context.Background(), send)
	fmt.Println(err)
	// Output:
	// true <nil>
	// permanent
	// <nil>
}

func ExampleClient_CheckContent() {
	mock, _ := mockserver.New(mockserver.WithSeed(mockapi.Seed{
		Apps:         []mockapi.App{{Platform: mockapi.PlatformBaidu, AppID: "bdExampleAppKey00000000000000001", Secret: "app-secret"}},
		ContentRules: &mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "fake-invoice"}}},
	}))
	srv := httptest.NewServer(mock.Handler())
	defer srv.Close()

	c, _ := baidu.New(baidu.Config{AppID: "bdExampleAppKey00000000000000001", Secret: "app-secret", BaseURL: srv.URL}, nil)
	v, err := c.CheckContent(context.Background(), "", []string{"your order shipped"})
	fmt.Println(v, err)
	v, err = c.CheckContent(context.Background(), "", []string{"buy a fake-invoice"})
	fmt.Println(v, err)
	// Output:
	// {false pass} <nil>
	// {true risk} <nil>
}

package kuaishou_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/kuaishou"
	"github.com/minipush/minipush/sender/internal/tokens"
)

func ExampleClient_Send() {
	// A mock Kuaishou with one app, user, template and one-time grant.
	mock, _ := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformKuaishou, AppID: "ks700000000000000001", Secret: "app-secret",
		Templates: []mockapi.Template{{TemplateID: "tmpl-order", Title: "发货通知", Keywords: []string{"thing01"}}},
		Grants:    []mockapi.Grant{{OpenID: "ks-user", TemplateID: "tmpl-order", Count: 1}},
	}}}))
	srv := httptest.NewServer(mock.Handler())
	defer srv.Close()

	c, err := kuaishou.New(kuaishou.Config{AppID: "ks700000000000000001", Secret: "app-secret", BaseURL: srv.URL,
		DefaultPage: "pages/index/index"}, tokens.NewMemoryStore())
	if err != nil {
		fmt.Println(err)
		return
	}
	send := platform.Send{To: "ks-user", TemplateID: "tmpl-order", Data: map[string]string{"thing01": "已发货"}}
	_, err = c.Send(context.Background(), send)
	fmt.Println(err)

	// The one-time grant is used up: permanent.
	_, err = c.Send(context.Background(), send)
	fmt.Println(platform.Classify(err))
	// Output:
	// <nil>
	// permanent
}

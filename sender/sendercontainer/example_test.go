package sendercontainer_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/minipush/minipush/mockserver/mockcontainer"
	"github.com/minipush/minipush/sender/sendercontainer"
)

// Run starts the sender binary in a container next to a mock container on
// a private network: the sender reaches the mock as http://mock:9100, the
// test reaches both through their mapped ports.
func ExampleRun() {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true") // no reaper image to pull
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	nw, err := network.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = nw.Remove(context.Background()) }()
	mock, err := mockcontainer.Run(ctx, mockcontainer.WithDemo(), mockcontainer.WithNetwork(nw, "mock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = testcontainers.TerminateContainer(mock) }()

	const config = `
api_keys: [{name: example, key: example-key-0001}]
apps:
  - {name: shop, platform: wechat, app_id: wxdemo0000000001, secret: demo-secret, base_url: "http://mock:9100"}
`
	sender, err := sendercontainer.Run(ctx, sendercontainer.WithConfig(config), sendercontainer.WithNetwork(nw, "sender"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = testcontainers.TerminateContainer(sender) }()
	fmt.Println("POST", sender.URL+"/v1/messages", "with Authorization: Bearer example-key-0001")
}

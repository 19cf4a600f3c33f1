package mockcontainer_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mockcontainer"
)

// Run builds the image from the module's source (once per process), starts
// the mock with the demo seed and hands back its URL and a control client.
// Point a platform client at URL; read what it delivered with Control.
func ExampleRun() {
	// No reaper image can be pulled where there is no registry.
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	mock, err := mockcontainer.Run(ctx, mockcontainer.WithDemo(),
		mockcontainer.WithLabels(map[string]string{"org.minipush.example": "true"}))
	if err != nil {
		fmt.Println("start the mock:", err)
		return
	}
	defer func() { _ = testcontainers.TerminateContainer(mock) }()

	apps, err := mock.Control.Apps(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("platform APIs at", mock.URL, "with", len(apps), "demo apps")
	msgs, _ := mock.Control.Messages(ctx, mockclient.MessageFilter{Platform: "wechat"})
	fmt.Println(len(msgs.Messages), "messages delivered so far")
}

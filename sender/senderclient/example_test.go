package senderclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender/senderclient"
)

// Send a subscribe message, follow it until it is delivered, and read a
// refusal's problems. (The example runs its own sender and mock; yours is
// at its configured address, http://127.0.0.1:9200 by default.)
func Example() {
	dir, _ := os.MkdirTemp("", "senderclient-example")
	defer os.RemoveAll(dir)
	stack, err := startStack(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer stack.stop()
	ctx := context.Background()

	c, err := senderclient.New(stack.url, senderclient.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	accepted, err := c.Send(ctx, senderclient.MessageRequest{
		App: "shop-wechat", To: seed.DemoUserAlice, TemplateID: "demo-order-shipped",
		Page: "pages/order/detail?id=42",
		Data: map[string]string{"thing1": "Phone case", "character_string2": "SF1234567890", "date3": "2026-11-25", "phrase4": "已发货"},
		// The same key again answers this message instead of sending twice.
		IdempotencyKey: "order-42-shipped",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted:", accepted.Status)

	var m senderclient.Message
	for m, err = c.Message(ctx, accepted.ID); err == nil && !m.Final(); m, err = c.Message(ctx, accepted.ID) {
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		log.Fatal(err)
	}
	// Attempts list the sends and any token refresh they needed.
	fmt.Println("status:", m.Status, "after", len(m.Sends()), "send")

	// A refusal is an *Error naming each field at fault.
	_, err = c.Send(ctx, senderclient.MessageRequest{App: "shop-wechat", TemplateID: "demo-order-shipped",
		Data: map[string]string{"thing1": "x"}})
	var apiErr *senderclient.Error
	if errors.As(err, &apiErr) {
		p, _ := apiErr.Problem("to")
		fmt.Println(apiErr.StatusCode, p.Field, p.Rule)
	}
	// Output:
	// accepted: queued
	// status: delivered after 1 send
	// 422 to required
}

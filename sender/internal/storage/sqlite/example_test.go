package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "minipush")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "minipush.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Accept: durable once Enqueue returns; a retried request with the same
	// key gets the first message back.
	m := message.Message{App: "wx1", Platform: "wechat", To: "openid-1", TemplateID: "tpl",
		Data: map[string]string{"thing1": "shipped"}, IdempotencyKey: "order-42"}
	if _, _, err := s.Enqueue(ctx, []message.Message{m}); err != nil {
		log.Fatal(err)
	}
	_, dup, err := s.Enqueue(ctx, []message.Message{m})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("duplicate:", dup[0])

	// Deliver: lease what is due, then record the outcome.
	now := time.Now()
	claimed, err := s.Claim(ctx, now, 100, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range claimed {
		a := message.Attempt{At: now, Outcome: message.OutcomeDelivered, Code: "0"}
		if err := s.Record(ctx, c.ID, c.Lease.Fence, &a, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm-1"}); err != nil {
			log.Fatal(err)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("claimed:", len(claimed), "delivered:", counts[message.StatusDelivered])
	// Output:
	// duplicate: true
	// claimed: 1 delivered: 1
}

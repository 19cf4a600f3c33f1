package tokens_test

import (
	"context"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/tokens"
)

func ExampleBroker() {
	fetches := 0
	fetch := func(context.Context) (string, time.Duration, error) {
		fetches++
		return fmt.Sprintf("token-%d", fetches), 2 * time.Hour, nil
	}
	store := tokens.NewMemoryStore()
	b := tokens.New("wechat/wx0123456789abcdef/stable", store, fetch)
	ctx := context.Background()

	tok, _ := b.Get(ctx)
	again, _ := b.Get(ctx) // cached
	fmt.Println(tok, again, fetches)

	// The platform rejected the token (WeChat 40001): drop it and fetch anew.
	b.Invalidate(ctx, tok)
	tok, _ = b.Get(ctx)
	fmt.Println(tok, fetches)

	// A restart finds the token in the store.
	restarted := tokens.New("wechat/wx0123456789abcdef/stable", store, fetch)
	tok, _ = restarted.Get(ctx)
	fmt.Println(tok, fetches)
	// Output:
	// token-1 token-1 1
	// token-2 2
	// token-2 2
}

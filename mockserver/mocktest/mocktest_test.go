package mocktest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestStartGivesIndependentMocks(t *testing.T) {
	t.Parallel()
	a, b := mocktest.Start(t), mocktest.Start(t)
	if a.URL == b.URL {
		t.Fatal("two mocks share a URL")
	}
	ctx := context.Background()
	if _, err := a.Control.AddApp(ctx, mockapi.App{Platform: "wechat", AppID: "wxa", Secret: "s"}); err != nil {
		t.Fatal(err)
	}
	if apps, _ := b.Control.Apps(ctx); len(apps) != 0 {
		t.Fatalf("state leaked between mocks: %+v", apps)
	}
	if err := a.Control.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsABadSeed(t *testing.T) {
	t.Parallel()
	_, err := mocktest.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{{Platform: "wechat", AppID: "wx"}}}))
	if err == nil {
		t.Fatal("a wechat app without a secret was accepted")
	}
}

// Close must not wait for a long GET /_mock/messages?wait= in flight.
func TestCloseCutsWaitingCalls(t *testing.T) {
	t.Parallel()
	m, err := mocktest.New()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{Wait: time.Minute})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	m.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v", took)
	}
	<-errc
	if _, err := http.Get(m.URL + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
}

// A mock started with a control token hands back a control client that
// sends it; callers without it are refused.
func TestStartWithControlToken(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t, mockserver.WithControlToken("shared-env-token-01"))
	ctx := context.Background()
	if _, err := m.Control.AddApp(ctx, mockapi.App{Platform: "wechat", AppID: "wxa", Secret: "s"}); err != nil {
		t.Fatalf("the mocktest client lacks the token: %v", err)
	}
	resp, err := http.Get(m.URL + "/_mock/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /_mock/apps without the token: %d, want 401", resp.StatusCode)
	}
	var e *mockclient.Error
	if _, err := mockclient.New(m.URL).Apps(ctx); !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Field != "Authorization" {
		t.Fatalf("client without the token: %v", err)
	}
}

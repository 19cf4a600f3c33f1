package mockclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestErrorsCarryStatusAndField(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t)
	err := m.Control.AddUser(context.Background(), mockapi.User{Platform: "wechat", AppID: "wxnope", OpenID: "o"})
	var ce *mockclient.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusNotFound || ce.Field != "app_id" || ce.Message == "" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "field app_id") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err text %q", err)
	}
}

func TestNonJSONErrorsKeepTheirText(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway from a proxy", http.StatusBadGateway)
	}))
	defer hs.Close()
	err := mockclient.New(hs.URL).Reset(context.Background())
	var ce *mockclient.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadGateway || ce.Message != "bad gateway from a proxy" || ce.Field != "" {
		t.Fatalf("err = %#v", err)
	}
}

func TestBaseURLTrailingSlashAndBadAnswers(t *testing.T) {
	t.Parallel()
	paths := make(chan string, 10)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		_, _ = w.Write([]byte("not json"))
	}))
	defer hs.Close()
	c := mockclient.New(hs.URL + "/")
	if _, err := c.Stats(context.Background()); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("a non-JSON 200 answer: %v", err)
	}
	if p := <-paths; p != "/_mock/stats" {
		t.Fatalf("path %q, want /_mock/stats (no double slash)", p)
	}
	hs.Close()
	if err := c.Reset(context.Background()); err == nil {
		t.Fatal("no error from a closed server")
	}
}

// Wait for a message that some other part of the system sends later.
func ExampleClient_Messages() {
	m, err := mocktest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	// Nothing arrives: the wait ends with what there is.
	got, err := m.Control.Messages(ctx, mockclient.MessageFilter{OpenID: "o_nobody", Wait: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(got.Messages), "messages")

	// A control API mistake is an *mockclient.Error naming the field.
	err = m.Control.AddUser(ctx, mockapi.User{Platform: "wechat", AppID: "wx_unknown", OpenID: "o"})
	var ce *mockclient.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Field)
	}
	// Output:
	// 0 messages
	// 404 app_id
}

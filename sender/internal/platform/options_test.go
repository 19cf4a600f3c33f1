package platform_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// issuer hands out tok-1, tok-2, … and counts its fetches.
type issuer struct {
	mu      sync.Mutex
	fetches int
	err     error
}

func (i *issuer) fetch(context.Context) (string, time.Duration, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return "", 0, i.err
	}
	i.fetches++
	return "tok-" + strconv.Itoa(i.fetches), time.Hour, nil
}

func TestWithToken(t *testing.T) {
	t.Parallel()
	tokenErr := &platform.Error{Platform: "test", Code: "40001", Class: message.OutcomeToken, Message: "token"}
	otherErr := &platform.Error{Platform: "test", Code: "43101", Class: message.OutcomePermanent, Message: "refused"}
	tests := []struct {
		name        string
		answers     []*platform.Error // fn's answer per call; nil: success
		fetchErr    error
		wantErr     error
		wantTokens  []string // the tokens fn was given
		wantFetches int
	}{
		{name: "success", answers: []*platform.Error{nil}, wantTokens: []string{"tok-1"}, wantFetches: 1},
		{name: "token refused once", answers: []*platform.Error{tokenErr, nil},
			wantTokens: []string{"tok-1", "tok-2"}, wantFetches: 2},
		{name: "token refused twice", answers: []*platform.Error{tokenErr, tokenErr}, wantErr: tokenErr,
			wantTokens: []string{"tok-1", "tok-2"}, wantFetches: 2},
		{name: "another error is not retried", answers: []*platform.Error{otherErr}, wantErr: otherErr,
			wantTokens: []string{"tok-1"}, wantFetches: 1},
		{name: "no token", fetchErr: errors.New("fetch failed"), wantFetches: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is := &issuer{err: tt.fetchErr}
			b := platform.NewOptions(nil).NewBroker("test/app", nil, is.fetch)
			var got []string
			err := platform.WithToken(context.Background(), b, func(token string) *platform.Error {
				got = append(got, token)
				return tt.answers[len(got)-1]
			})
			switch {
			case tt.fetchErr != nil:
				if err == nil {
					t.Fatal("WithToken succeeded without a token")
				}
			case tt.wantErr == nil:
				if err != nil {
					t.Fatalf("WithToken = %v", err)
				}
			case err != error(tt.wantErr):
				t.Fatalf("WithToken = %v, want %v", err, tt.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantTokens) || is.fetches != tt.wantFetches {
				t.Errorf("tokens %v, %d fetches; want %v, %d", got, is.fetches, tt.wantTokens, tt.wantFetches)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Unix(0, 0) }
	var fetched bool
	o := platform.NewOptions([]platform.Option{
		platform.WithClock(now),
		platform.WithTokenOptions(tokens.WithOnFetch(func(error) { fetched = true })),
	})
	if !o.Now().Equal(now()) || len(o.TokenOptions) != 1 {
		t.Fatalf("options = %+v", o)
	}
	if d := platform.NewOptions(nil); d.Now == nil || d.TokenOptions != nil {
		t.Fatalf("defaults = %+v", d)
	}
	// The broker gets the token options.
	is := &issuer{}
	if _, err := o.NewBroker("test/app", nil, is.fetch).Get(context.Background()); err != nil || !fetched {
		t.Fatalf("broker Get: %v, fetch hook ran: %t", err, fetched)
	}
}

func ExampleWithToken() {
	var fetches int
	fetch := func(context.Context) (string, time.Duration, error) {
		fetches++
		return "tok-" + strconv.Itoa(fetches), time.Hour, nil
	}
	b := platform.NewOptions(nil).NewBroker("wechat/wx0123/stable", nil, fetch)
	// The platform refuses the first token (e.g. WeChat's 40001): it is
	// dropped, a new one fetched, and the call made once more.
	err := platform.WithToken(context.Background(), b, func(token string) *platform.Error {
		fmt.Println("call with", token)
		if token == "tok-1" {
			return &platform.Error{Platform: "wechat", Code: "40001", Class: message.OutcomeToken}
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// call with tok-1
	// call with tok-2
	// <nil>
}

package classify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/classify"
)

type code int64

var rules = map[code]classify.Rule{
	1: classify.Permanent,
	2: classify.Token,
	3: classify.Credentials,
	4: classify.Daily,
	5: classify.Throttled(time.Second),
}

func TestCode(t *testing.T) {
	t.Parallel()
	// 23:30 in Beijing is 15:30 UTC.
	now := time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)
	c := classify.Classifier{Platform: "test", Word: "errcode", Scrubber: call.NewScrubber("s3cret"),
		Options: platform.NewOptions([]platform.Option{platform.WithClock(func() time.Time { return now })})}
	tests := []struct {
		code      code
		msg       string
		wantClass message.Outcome
		wantRetry time.Duration
		wantMsg   string
	}{
		{code: 1, msg: "bad", wantClass: message.OutcomePermanent, wantMsg: "bad"},
		{code: 2, msg: "token s3cret", wantClass: message.OutcomeToken, wantMsg: "token REDACTED"},
		{code: 3, wantClass: message.OutcomeCredentials, wantMsg: "errcode 3"},
		{code: 4, wantClass: message.OutcomeThrottled, wantRetry: 30 * time.Minute, wantMsg: "errcode 4"},
		{code: 5, msg: "secret=abc", wantClass: message.OutcomeThrottled, wantRetry: time.Second, wantMsg: "secret=REDACTED"},
		{code: -9, msg: "new", wantClass: message.OutcomeRetryable, wantMsg: "new"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			e := classify.Code(c, rules, tt.code, tt.msg)
			if e.Platform != "test" || e.Code != fmt.Sprint(tt.code) || e.Class != tt.wantClass || e.RetryAfter != tt.wantRetry ||
				e.Message != tt.wantMsg {
				t.Fatalf("Code(%d) = %#v; want %s, %s, %q", tt.code, e, tt.wantClass, tt.wantRetry, tt.wantMsg)
			}
		})
	}
}

func TestUntilBeijingMidnight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		now  time.Time
		want time.Duration
	}{
		{now: time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC), want: 30 * time.Minute},                // 23:30 in Beijing
		{now: time.Date(2025, 3, 1, 16, 0, 0, 0, time.UTC), want: 24 * time.Hour},                   // midnight itself
		{now: time.Date(2025, 3, 1, 15, 59, 30, 0, time.UTC), want: time.Minute},                    // never less than a minute
		{now: time.Date(2024, 12, 31, 16, 30, 0, 0, time.UTC), want: 23*time.Hour + 30*time.Minute}, // across a year
	}
	for _, tt := range tests {
		if got := classify.UntilBeijingMidnight(tt.now); got != tt.want {
			t.Errorf("UntilBeijingMidnight(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
}

func ExampleUntilBeijingMidnight() {
	// 22:00 UTC is 06:00 the next morning in Beijing.
	fmt.Println(classify.UntilBeijingMidnight(time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)))
	// Output: 18h0m0s
}

func ExampleCode() {
	type errcode int64
	rules := map[errcode]classify.Rule{45009: classify.Daily, 40125: classify.Credentials}
	c := classify.Classifier{Platform: "wechat", Word: "errcode", Options: platform.NewOptions(nil)}

	e := classify.Code(c, rules, 40125, "invalid appsecret")
	fmt.Println(e.Class, e.RetryAfter, e)
	// Not in the table: retryable.
	fmt.Println(classify.Code(c, rules, 99999, ""))
	// Output:
	// credentials 0s wechat 40125 (credentials): invalid appsecret
	// wechat 99999 (retryable): errcode 99999
}

package platform_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

func ExampleNonBlank() {
	fmt.Printf("%q\n", platform.NonBlank([]string{"订单已发货", "", " \n\t", "明天送达"}))
	// Output: ["订单已发货" "明天送达"]
}

func TestHTTPStatusError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		wantClass message.Outcome
		wantMsg   string
	}{
		{status: http.StatusTooManyRequests, wantClass: message.OutcomeThrottled, wantMsg: "Too Many Requests"},
		{status: http.StatusBadGateway, wantClass: message.OutcomeRetryable, wantMsg: "Bad Gateway"},
		{status: 493, wantClass: message.OutcomeRetryable, wantMsg: "unexpected HTTP status 493"},
	}
	for _, tt := range tests {
		e := platform.HTTPStatusError("test", tt.status)
		if e.Class != tt.wantClass || e.Message != tt.wantMsg || e.Code != fmt.Sprintf("http %d", tt.status) ||
			platform.Classify(e) != tt.wantClass {
			t.Errorf("HTTPStatusError(%d) = %#v", tt.status, e)
		}
	}
	if platform.Classify(fmt.Errorf("dial: %w", http.ErrHandlerTimeout)) != message.OutcomeRetryable {
		t.Error("a transport error is not retryable")
	}
}

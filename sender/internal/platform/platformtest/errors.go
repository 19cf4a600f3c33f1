package platformtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// CheckError holds an error to the contract every client keeps: a
// classified *platform.Error that names platformName, has a code, a
// message and a reason from the vocabulary, a RetryAfter within a day, and
// contains none of secrets.
func CheckError(t testing.TB, perr *platform.Error, platformName string, secrets ...string) {
	t.Helper()
	switch perr.Class {
	case message.OutcomePermanent, message.OutcomeRetryable, message.OutcomeThrottled, message.OutcomeToken,
		message.OutcomeCredentials:
	default:
		t.Fatalf("error %q has class %q", perr, perr.Class)
	}
	if perr.Platform != platformName || perr.Code == "" || perr.Message == "" {
		t.Fatalf("incomplete error %#v", perr)
	}
	if r := platform.ReasonOf(perr); !r.Valid() {
		t.Fatalf("error %q has reason %q, not in the vocabulary", perr, r)
	}
	for _, s := range secrets {
		if strings.Contains(perr.Error(), s) {
			t.Fatalf("error %q contains a secret or token", perr)
		}
	}
	if perr.RetryAfter < 0 || perr.RetryAfter > 24*time.Hour {
		t.Fatalf("error %q: RetryAfter %s", perr, perr.RetryAfter)
	}
}

// AsError is err as the *platform.Error it must be (not wrapped), or the
// test fails.
func AsError(t testing.TB, err error) *platform.Error {
	t.Helper()
	perr, ok := err.(*platform.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not a *platform.Error", err, err)
	}
	return perr
}

// Want is what a test expects of a failed call.
type Want struct {
	Platform string
	Class    message.Outcome
	Code     string
	// RetryAfter bounds the hint: [min, max].
	RetryAfter [2]time.Duration
}

// SendError checks that err is (or wraps) the *platform.Error want
// describes and returns it.
func SendError(t *testing.T, err error, want Want) *platform.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	var pe *platform.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *platform.Error", err, err)
	}
	if got := platform.Classify(err); got != want.Class || pe.Code != want.Code || pe.Platform != want.Platform {
		t.Errorf("Send error %q: class %s, code %q; want %s, %q", err, got, pe.Code, want.Class, want.Code)
	}
	if pe.RetryAfter < want.RetryAfter[0] || pe.RetryAfter > want.RetryAfter[1] {
		t.Errorf("RetryAfter = %s, want within %s", pe.RetryAfter, want.RetryAfter)
	}
	if wantNS := notSubscribed[pe.Platform][pe.Code]; pe.NotSubscribed != wantNS || platform.NotSubscribed(err) != wantNS {
		t.Errorf("Send error %q: NotSubscribed = %v, want %v (the consent ledger learns from it)", err, pe.NotSubscribed, wantNS)
	}
	return pe
}

// notSubscribed are the codes each platform answers a send to a user
// holding no (remaining) subscription with (features/one_time_grants_zh.feature),
// written here apart from the clients' own tables.
var notSubscribed = map[string]map[string]bool{
	"wechat":   {"43101": true},
	"alipay":   {"40004/USER_NOT_SUBSCRIBED": true},
	"douyin":   {"28014043": true, "28014036": true},
	"kuaishou": {"100200110": true},
	"baidu":    {"4007": true},
}

// WantError checks what a parse function returned for a table row that
// wants an error: an error of class and code that passes check (the
// package's contract check).
func WantError(t *testing.T, what string, perr *platform.Error, class message.Outcome, code string, check func(*testing.T, *platform.Error)) {
	t.Helper()
	if perr == nil {
		t.Fatalf("%s succeeded, want a %s error", what, class)
	}
	check(t, perr)
	if perr.Class != class || perr.Code != code {
		t.Fatalf("%s error %q, want %s %s", what, perr, class, code)
	}
}

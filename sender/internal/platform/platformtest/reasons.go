package platformtest

import (
	"fmt"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform/classify"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Reasons holds a code table to the reasons a test writes out for every
// code in it (issue 11: one error vocabulary across the platforms): a code
// without a reason in want, a reason outside the vocabulary or a reason
// that differs fails the test, and so does a code in want the table lacks.
// table names the table in failures.
func Reasons[C comparable](t *testing.T, table string, rules map[C]classify.Rule, want map[C]reason.Reason) {
	t.Helper()
	for code, r := range rules {
		w, ok := want[code]
		switch {
		case !ok:
			t.Errorf("%s: code %v has no expected reason in the test (reason %q)", table, code, r.Reason)
		case !r.Reason.Valid():
			t.Errorf("%s: code %v has reason %q, not in the vocabulary", table, code, r.Reason)
		case r.Reason != w:
			t.Errorf("%s: code %v has reason %q, want %q", table, code, r.Reason, w)
		}
	}
	for code := range want {
		if _, ok := rules[code]; !ok {
			t.Errorf("%s: the test expects code %v, which the table does not list", table, code)
		}
	}
}

// Unknown checks that a code no table lists is retryable with reason
// platform_error.
func Unknown[C comparable](t *testing.T, rules map[C]classify.Rule, code C) {
	t.Helper()
	if _, ok := rules[code]; ok {
		t.Fatalf("code %v is listed: pick one that is not", code)
	}
	r := classify.Lookup(rules, code)
	if r.Reason != reason.PlatformError || fmt.Sprint(r.Class) != "retryable" {
		t.Errorf("unknown code %v: %+v, want retryable platform_error", code, r)
	}
}

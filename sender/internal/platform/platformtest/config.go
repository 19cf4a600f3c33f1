package platformtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform"
)

// Must is c, or the test fails with err (a client's New).
func Must[C any](t testing.TB, c C, err error) C {
	t.Helper()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// CheckNewError checks New's error for a table row: none when wantErr is
// "", else one naming wantErr; never one quoting secret.
func CheckNewError(t *testing.T, err error, wantErr, secret string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("New: %v", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("New error = %v, want one naming %q", err, wantErr)
	case err != nil && strings.Contains(err.Error(), secret):
		t.Fatalf("New error %q contains the secret", err)
	}
}

// CheckRedacted checks that cfg prints the app id and REDACTED in every
// format, never the secret.
func CheckRedacted(t *testing.T, cfg any, appID, secret string) {
	t.Helper()
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		out := fmt.Sprintf(format, cfg)
		if strings.Contains(out, secret) || !strings.Contains(out, appID) || !strings.Contains(out, "REDACTED") {
			t.Errorf("Sprintf(%q, cfg) = %s: want the app id and REDACTED, never the secret", format, out)
		}
	}
}

// SendConcurrently sends n messages through c at once, send(i) the i-th,
// and fails the test for each send that fails.
func (h *Harness) SendConcurrently(c platform.Client, n int, send func(i int) platform.Send) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := h.Send(c, send(i)); err != nil {
				h.T.Errorf("send: %v", err)
			}
		})
	}
	wg.Wait()
}

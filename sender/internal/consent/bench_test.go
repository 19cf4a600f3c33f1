package consent_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// BenchmarkAdmit is what the ledger adds to a send, over the SQLite store:
// a user it never heard of (one read), a long-term grant (one read), a
// one-time credit (a read and the atomic take, a write through the
// store's writer), and an app without events in observe mode (nothing).
// Compare it with a send's own cost (docs/performance.md).
func BenchmarkAdmit(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "minipush.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name string
		gate *consent.Gate
		prep func(k consent.Key, n int)
	}{
		{"unknown", consent.NewGate("app", consent.ModeEnforce, st, nil), nil},
		{"long-term", consent.NewGate("app", consent.ModeEnforce, st, nil), func(k consent.Key, _ int) {
			_, _, _ = st.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept, LongTerm: true}, t0)
		}},
		{"credit", consent.NewGate("app", consent.ModeEnforce, st, nil), func(k consent.Key, n int) {
			for range n {
				_, _, _ = st.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept}, t0)
			}
		}},
		{"observe-without-events", consent.NewGate("app", consent.ModeObserve, st, nil, consent.WithoutEvents()), nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			user := "u-" + tc.name
			k := consent.Key{App: "app", User: user, TemplateID: "tpl"}
			if tc.prep != nil {
				tc.prep(k, b.N)
			}
			b.ResetTimer()
			for i := range b.N {
				t, err := tc.gate.Admit(ctx, user, "tpl")
				if err != nil || !t.Send {
					b.Fatal(fmt.Sprint("admit ", i, ": ", t, err))
				}
			}
		})
	}
}

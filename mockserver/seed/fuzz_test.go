package seed_test

import (
	"os"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/seed"
)

// FuzzParse feeds arbitrary seed files to the parser and whatever parses to
// a server: neither may panic; a seed either loads or is an error.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"seed.yaml", "seed.json", "unknown-field.yaml", "bad-app.yaml", "two-docs.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name == "seed.json")
	}
	f.Add([]byte("apps: [{platform: wechat, app_id: a, secret: s, quotas: [{endpoint: token, limit: 1, per: day}]}]"), false)
	f.Add([]byte(`{"start":"2030-01-01T00:00:00Z"}`), true)
	f.Fuzz(func(t *testing.T, doc []byte, isJSON bool) {
		s, err := seed.Parse(doc, isJSON)
		if err != nil {
			return
		}
		_, _ = mockserver.New(mockserver.WithSeed(s), mockserver.WithInboxLimit(10), mockserver.WithJournalLimit(10))
	})
}

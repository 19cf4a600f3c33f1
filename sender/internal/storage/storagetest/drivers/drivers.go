// Package drivers opens a store of each storage driver for tests that
// check a behaviour over HTTP on every driver: SQLite in a temporary
// file, Redis on a redis-server of the test's own (skipped without one,
// failed when MINIPUSH_REQUIRE_REDIS=1). Each store is closed at the end
// of the test.
package drivers

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// All opens a store per driver, by the driver's name.
var All = map[string]func(t *testing.T) storage.Store{
	"sqlite": SQLite,
	"redis":  Redis,
}

// SQLite opens a store on a new file.
func SQLite(t *testing.T) storage.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "minipush.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Redis opens a store on a new redis-server.
func Redis(t *testing.T) storage.Store {
	t.Helper()
	srv := redistest.Start(t)
	s, err := redis.Open(context.Background(), redis.Config{URL: srv.URL(), Prefix: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

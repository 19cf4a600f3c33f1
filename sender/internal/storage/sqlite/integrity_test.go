package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// filled is a closed database of n messages: its WAL checkpointed into
// the file, no free pages, so every page past the schema holds rows.
func filled(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "minipush.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]message.Message, n)
	for i := range batch {
		batch[i] = testMsg("app1", fmt.Sprintf("u%06d", i))
		batch[i].Data = map[string]string{"thing1": strings.Repeat("z", 100)}
	}
	if _, _, err := s.Enqueue(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// overwrite writes garbage over n bytes of the file at off.
func overwrite(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, n)
	for i := range junk {
		junk[i] = byte(i*131 + 7)
	}
	if _, err := f.WriteAt(junk, off); err != nil {
		t.Fatal(err)
	}
}

// A database with garbage in the middle is refused at start with a clear
// message pointing at the recovery steps, and so is a file that is not a
// database at all. Before, the sender served from it and answered 202.
func TestDamagedDatabaseRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"garbage in the middle", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			overwrite(t, path, st.Size()/2/4096*4096, 4096) // one whole page
		}},
		{"garbage over the header", func(t *testing.T, path string) { overwrite(t, path, 0, 100) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filled(t, 3000)
			tc.spoil(t, path)
			s, err := sqlite.Open(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("opened a damaged database")
			}
			if !errors.Is(err, sqlite.ErrDamaged) || !strings.Contains(err.Error(), "docs/operations.md#a-damaged-database") ||
				!strings.Contains(err.Error(), path) {
				t.Errorf("error %q: want ErrDamaged naming the file and the recovery steps", err)
			}
		})
	}
	// The check passes a sound database.
	s := openStore(t, filled(t, 100))
	if _, err := s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
}

// A database deleted while its marker remains is not silently recreated
// empty (old idempotency keys would be accepted again); the operator's
// initialize option does, and a first start needs no option.
func TestMissingDatabaseRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "minipush.db")
	s, err := sqlite.Open(ctx, path) // a first start: no marker needed
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	keyed := testMsg("app1", "u1")
	keyed.IdempotencyKey = "k1"
	if _, _, err := s.Enqueue(ctx, []message.Message{keyed}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	marker, err := os.ReadFile(path + ".marker")
	if err != nil || !strings.Contains(string(marker), `"database_id": "db_`) {
		t.Fatalf("marker beside the database: %q, %v", marker, err)
	}
	if st, err := os.Stat(path + ".marker"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("marker mode: %v, %v; want 0600", st.Mode().Perm(), err)
	}

	for _, lose := range []struct {
		name string
		do   func() error
	}{
		{"deleted", func() error { return os.Remove(path) }},
		{"emptied", func() error { return os.WriteFile(path, nil, 0o600) }},
	} {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Remove(p)
		}
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil { // something to lose
			t.Fatal(err)
		}
		if err := lose.do(); err != nil {
			t.Fatal(err)
		}
		s, err := sqlite.Open(ctx, path)
		if err == nil {
			s.Close()
			t.Fatalf("%s database: opened empty", lose.name)
		}
		if !errors.Is(err, sqlite.ErrMissing) || !strings.Contains(err.Error(), "storage.initialize") ||
			!strings.Contains(err.Error(), "docs/operations.md#a-missing-database") {
			t.Errorf("%s database: error %q, want ErrMissing naming storage.initialize and the docs", lose.name, err)
		}
	}

	s, err = sqlite.Open(ctx, path, sqlite.WithInitialize())
	if err != nil {
		t.Fatalf("with initialize: %v", err)
	}
	if _, dup, err := s.Enqueue(ctx, []message.Message{keyed}); err != nil || dup[0] {
		t.Errorf("a fresh database takes the old key as new: dup %v, %v", dup, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(path + ".marker")
	if err != nil || string(again) == string(marker) {
		t.Errorf("the marker names the old database after initialising: %q, %v", again, err)
	}
	// And without the option from now on: the new database is there.
	openStore(t, path)
}

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
)

// A new database, its -wal and -shm and its directory are private to the
// sender's user, whatever the umask: the database holds access tokens in
// clear.
func TestNewDatabaseIsPrivate(t *testing.T) {
	// The umask is process-wide: not parallel.
	old := syscall.Umask(0o002) // a permissive umask, as some systems set
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "data", "minipush.db")
	s := openStore(t, path)
	now := time.Now()
	if _, _, err := s.Enqueue(context.Background(), []message.Message{{ID: message.NewID("msg_", now), App: "a",
		Platform: "wechat", To: "u", TemplateID: "t", Status: message.StatusQueued, NextAttemptAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken(context.Background(), "a", "tok-in-clear", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s is %#o, want 0600", filepath.Base(p), mode)
		}
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v %v, want 0700", st.Mode().Perm(), err)
	}
}

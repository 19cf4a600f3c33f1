package sender_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender"
)

// At start the sender warns, without any secret, about each file holding
// secrets that group or others can read: here the config file (secrets
// inline) and a database created by someone else with 0644. A database
// it creates itself is 0600 and not warned about.
func TestWarnsAboutReadableSecretFiles(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "old.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, cfgPath := loadConfigFile(t, mock.URL, "", nil)
	if err := os.Chmod(cfgPath, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := sender.LoadConfig(cfgPath, func(k string) string {
		return map[string]string{"MINIPUSH_STORAGE_PATH": db}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	svc, err := sender.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_ = svc.Close()
	out := logs.String()
	for _, want := range []string{"file=" + cfgPath, "setting=\"config file\"", "mode=0644", "file=" + db, "setting=storage.path"} {
		if !strings.Contains(out, want) {
			t.Errorf("no warning with %s:\n%s", want, out)
		}
	}
	for _, s := range []string{testAPIKey, shopSecret} {
		if strings.Contains(out, s) {
			t.Errorf("the warning shows a secret:\n%s", out)
		}
	}

	// A fresh database is the sender's own: 0600, no warning.
	fresh := filepath.Join(t.TempDir(), "data", "new.db")
	cfg, err = sender.LoadConfig(cfgPath, func(k string) string { return map[string]string{"MINIPUSH_STORAGE_PATH": fresh}[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	svc, err = sender.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_ = svc.Close()
	if strings.Contains(logs.String(), "storage.path") {
		t.Errorf("warned about a database the sender created:\n%s", logs.String())
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new database: %v %v, want 0600", st.Mode().Perm(), err)
	}
}

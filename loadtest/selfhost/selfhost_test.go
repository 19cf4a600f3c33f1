package selfhost

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/mockclient"
)

// The world comes up with a ready sender wired to a seeded mock, keeps the
// per-run secrets off the disk, and leaves nothing behind.
func TestStartClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, err := Start(ctx, Options{Users: 5, NoGrantUsers: 2, WithSender: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.Users) != 5 || len(w.NoGrantUsers) != 2 || w.SenderURL == "" || w.APIKey == "" || len(w.AppSecret) < 16 {
		t.Fatalf("world: %+v", w)
	}
	resp, err := http.Get(w.SenderURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("sender /readyz: %d", resp.StatusCode)
	}
	grants, err := w.Control.Grants(ctx, Platform, AppID, "")
	if err != nil || len(grants) != 5 {
		t.Errorf("grants: %d, %v; want the 5 granted users", len(grants), err)
	}
	msgs, err := w.Control.Messages(ctx, mockclient.MessageFilter{})
	if err != nil || msgs.Total != 0 {
		t.Errorf("inbox: %+v, %v; want empty", msgs, err)
	}
	err = filepath.WalkDir(w.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "minipush.db") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), w.AppSecret) || strings.Contains(string(b), w.APIKey) {
			t.Errorf("%s holds a per-run secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := w.dir
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind: %v", dir, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestMockOnly(t *testing.T) {
	t.Parallel()
	w, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.SenderURL != "" || w.dir != "" || len(w.Users) != DefaultUsers || len(w.NoGrantUsers) != DefaultNoGrantUsers {
		t.Errorf("mock-only world: sender %q, dir %q, %d/%d users", w.SenderURL, w.dir, len(w.Users), len(w.NoGrantUsers))
	}
	if err := w.Control.Ready(context.Background()); err != nil {
		t.Error(err)
	}
}

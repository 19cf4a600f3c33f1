package alipay_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
)

// The sender's demo configuration (configs/demo.yaml, make run) reads the
// demo keys from files; they must stay the keys the mock's demo app uses.
func TestDemoKeyFilesMatchTheMock(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "..", "configs", "demo-keys")
	for file, want := range map[string]string{
		"app_private.pem":   alipay.DemoAppPrivateKeyPEM,
		"alipay_public.pem": alipay.DemoAlipayPublicKeyPEM,
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) != strings.TrimSpace(want) {
			t.Errorf("%s differs from the mock's demo key: regenerate it from demokeys.go", file)
		}
	}
}

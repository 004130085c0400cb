//go:build linux

package powercut

import (
	"os"
	"testing"
)

// ForTest mounts a layer over a temporary directory for t and unmounts it
// at cleanup, or skips t loudly when the layer cannot be mounted here (no
// root, no /dev/fuse); under CI, which runs as root with /dev/fuse, that
// is a failure.
func ForTest(t testing.TB) *Layer {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("SKIPPING the power-cut layer's tests: %v", err)
	}
	l, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

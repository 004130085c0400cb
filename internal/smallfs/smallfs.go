//go:build linux

// Package smallfs gives the disk-full tests of the reliability campaign
// (docs/reliability.md, research/perf-reliability.md §4 T4) a small
// filesystem of their own: a tmpfs, or an ext4 image on a loop device,
// mounted on a test's temporary directory and unmounted when the test
// ends. Mounting needs root (CAP_SYS_ADMIN). Without it the tests that
// need a small filesystem are skipped, loudly, except in CI (the CI
// environment variable is set), where that is a failure: CI runs as root.
//
// A Filler takes all the space of the filesystem but a given room, in one
// file that the test removes to give the space back while the program
// under test keeps running.
package smallfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// unavailable skips or fails the test: a small filesystem cannot be made.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("smallfs: %s; the disk-full tests need root (mount) in CI", msg)
	}
	t.Skipf("SKIPPING: smallfs: %s; the disk-full tests need root to mount a small filesystem (they run in CI)", msg)
}

// Tmpfs mounts a tmpfs of size bytes on a new directory and returns it;
// the filesystem is unmounted when t ends.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := mountPoint(t)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV,
		"size="+strconv.FormatInt(size, 10)+",mode=0700"); err != nil {
		unavailable(t, "mount -t tmpfs -o size=%d on %s: %v", size, dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

// Ext4 makes an ext4 image of size bytes, attaches it to a loop device,
// mounts it on a new directory and returns that directory; everything is
// undone when t ends. Unlike tmpfs, ext4 has a journal and delayed
// allocation, so a full disk shows at a different moment of a write.
func Ext4(t testing.TB, size int64) string {
	t.Helper()
	for _, tool := range []string{"mkfs.ext4", "losetup"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s not found (e2fsprogs, util-linux)", tool)
		}
	}
	if os.Geteuid() != 0 {
		unavailable(t, "not root (uid %d)", os.Geteuid())
	}
	img := filepath.Join(t.TempDir(), "ext4.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// No reserved blocks (-m 0): root, which the tests run as, would
	// otherwise write past the point where others get ENOSPC.
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=0,lazy_journal_init=0", img).CombinedOutput(); err != nil {
		t.Fatalf("smallfs: mkfs.ext4: %v\n%s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		unavailable(t, "losetup --find --show: %v: %s", err, strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("smallfs: losetup -d %s: %v: %s", dev, err, out)
		}
	})
	dir := mountPoint(t)
	if err := syscall.Mount(dev, dir, "ext4", syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		unavailable(t, "mount -t ext4 %s on %s: %v", dev, dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mountPoint(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "not root (uid %d)", os.Geteuid())
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// unmount unmounts dir, retrying for a while: a child process that has
// just been killed may still hold a file open.
func unmount(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = syscall.Unmount(dir, 0); err == nil || errors.Is(err, syscall.EINVAL) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("smallfs: umount %s: %v; detaching it lazily", dir, err)
	_ = syscall.Unmount(dir, syscall.MNT_DETACH)
}

// Free returns the bytes of dir's filesystem free for root.
func Free(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bfree) * st.Bsize, nil
}

// Filler is a file that takes the space of a filesystem.
type Filler struct {
	Path string
	Size int64 // bytes written
}

// Fill writes a file in dir until the filesystem has no more than room
// bytes free (or no space at all: then the write stops at ENOSPC), syncs
// it, and returns it.
func Fill(t testing.TB, dir string, room int64) *Filler {
	t.Helper()
	free, err := Free(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil {
		t.Fatalf("smallfs: filler: %v", err)
	}
	defer f.Close()
	fl := &Filler{Path: f.Name()}
	chunk := make([]byte, 64<<10)
	for want := free - room; fl.Size < want; {
		n, err := f.Write(chunk[:min(int64(len(chunk)), want-fl.Size)])
		fl.Size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("smallfs: filler %s: %v", fl.Path, err)
		}
	}
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("smallfs: filler %s: %v", fl.Path, err)
	}
	return fl
}

// Remove deletes the filler, giving its space back.
func (fl *Filler) Remove() error { return os.Remove(fl.Path) }

// Shutdown shuts down the ext4 filesystem mounted on dir (the ioctl of
// xfs_io's "shutdown" command, EXT4_IOC_SHUTDOWN, without flushing the
// journal): from then on every write to it fails with EIO, as on a disk
// that died. Only an unmount ends this.
func Shutdown(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	const (
		ext4IocShutdown          = 0x8004587d // _IOR('X', 125, __u32)
		ext4GoingFlagsNoLogFlush = 0x2
	)
	flags := uint32(ext4GoingFlagsNoLogFlush)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), ext4IocShutdown, uintptr(unsafe.Pointer(&flags))); errno != 0 {
		return fmt.Errorf("ioctl EXT4_IOC_SHUTDOWN on %s: %w", dir, errno)
	}
	return nil
}

//go:build linux

package powercut_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/powercut"
)

func cut(t *testing.T, l *powercut.Layer, o powercut.CutOptions) powercut.CutReport {
	t.Helper()
	rep, err := l.Cut(o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// write writes data at off into path (creating it), syncing it if sync.
func write(t *testing.T, path string, data []byte, off int64, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
}

func syncDir(t *testing.T, path string) {
	t.Helper()
	d, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

// content reads path after a cut; nil when it does not exist.
func content(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fill(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// TestCut: what survives a cut and what does not, one scenario a row.
func TestCut(t *testing.T) {
	page := powercut.PageSize
	cases := []struct {
		name  string
		do    func(t *testing.T, dir string)
		check func(t *testing.T, dir string)
	}{
		{
			name: "synced data survives",
			do: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "f"), fill('a', 3*page+100), 0, true)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "f")); !bytes.Equal(got, fill('a', 3*page+100)) {
					t.Errorf("synced file: %d bytes, want %d of 'a'", len(got), 3*page+100)
				}
			},
		},
		{
			name: "unsynced overwrite and append are lost",
			do: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "f")
				write(t, p, fill('a', 2*page), 0, true)
				write(t, p, fill('b', 10), int64(page)+5, false)
				write(t, p, fill('c', page), int64(2*page), false)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "f")); !bytes.Equal(got, fill('a', 2*page)) {
					t.Errorf("after the cut: %q…, %d bytes; want the synced 2 pages of 'a'", got[:min(len(got), 8)], len(got))
				}
			},
		},
		{
			name: "a new file never synced is gone",
			do: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "new"), []byte("never synced"), 0, false)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "new")); got != nil {
					t.Errorf("unsynced new file is back: %q", got)
				}
			},
		},
		{
			name: "a new file synced has its name (as on ext4)",
			do: func(t *testing.T, dir string) {
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(dir, "sub", "new"), []byte("synced"), 0, true)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "sub", "new")); string(got) != "synced" {
					t.Errorf("sub/new = %q, want %q", got, "synced")
				}
			},
		},
		{
			name: "rename without a directory fsync may be lost",
			do: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "old"), []byte("v1"), 0, true)
				syncDir(t, dir)
				write(t, filepath.Join(dir, "tmp"), []byte("v2"), 0, true)
				if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "old")); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "old")); string(got) != "v1" {
					t.Errorf("old = %q, want the durable v1 (the rename was not synced)", got)
				}
				if got := content(t, filepath.Join(dir, "tmp")); string(got) != "v2" {
					t.Errorf("tmp = %q, want v2 back under its synced name", got)
				}
			},
		},
		{
			name: "rename with a directory fsync survives",
			do: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "old"), []byte("v1"), 0, true)
				syncDir(t, dir)
				write(t, filepath.Join(dir, "tmp"), []byte("v2"), 0, true)
				if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "old")); err != nil {
					t.Fatal(err)
				}
				syncDir(t, dir)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "old")); string(got) != "v2" {
					t.Errorf("old = %q, want v2", got)
				}
				if got := content(t, filepath.Join(dir, "tmp")); got != nil {
					t.Errorf("tmp is back: %q", got)
				}
			},
		},
		{
			name: "unlink without a directory fsync comes back",
			do: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "f"), []byte("kept"), 0, true)
				syncDir(t, dir)
				if err := os.Remove(filepath.Join(dir, "f")); err != nil {
					t.Fatal(err)
				}
				// A new file may not take the buried inode's place.
				write(t, filepath.Join(dir, "g"), []byte("other"), 0, true)
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "f")); string(got) != "kept" {
					t.Errorf("f = %q, want it back with %q", got, "kept")
				}
				if got := content(t, filepath.Join(dir, "g")); string(got) != "other" {
					t.Errorf("g = %q, want %q", got, "other")
				}
			},
		},
		{
			name: "unsynced truncate is lost",
			do: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "f")
				write(t, p, fill('a', page+7), 0, true)
				if err := os.Truncate(p, 3); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, dir string) {
				if got := content(t, filepath.Join(dir, "f")); !bytes.Equal(got, fill('a', page+7)) {
					t.Errorf("f: %d bytes, want %d", len(got), page+7)
				}
			},
		},
		{
			name: "truncate then regrow, synced, reads zeros",
			do: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "f")
				write(t, p, fill('a', 2*page), 0, true)
				if err := os.Truncate(p, 10); err != nil {
					t.Fatal(err)
				}
				write(t, p, []byte("z"), int64(2*page-1), true)
			},
			check: func(t *testing.T, dir string) {
				want := append(append(fill('a', 10), make([]byte, 2*page-11)...), 'z')
				if got := content(t, filepath.Join(dir, "f")); !bytes.Equal(got, want) {
					t.Errorf("f: %d bytes, not 10 'a', zeros and 'z'", len(got))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := powercut.ForTest(t)
			c.do(t, l.Dir())
			cut(t, l, powercut.CutOptions{Seed: 1})
			c.check(t, l.Dir())
			// A second cut with nothing written changes nothing.
			cut(t, l, powercut.CutOptions{Seed: 2, Tear: true, Keep: 1})
			c.check(t, l.Dir())
		})
	}
}

// TestTornPage: the last unsynced page reaches the disk as a whole-sector
// prefix, a different one for different seeds, never all or nothing.
func TestTornPage(t *testing.T) {
	l := powercut.ForTest(t)
	p := filepath.Join(l.Dir(), "f")
	prefixes := map[int]bool{}
	for seed := uint64(1); seed <= 12; seed++ {
		write(t, p, fill('o', powercut.PageSize), 0, true)
		write(t, p, fill('n', powercut.PageSize), 0, false)
		rep := cut(t, l, powercut.CutOptions{Seed: seed, Tear: true})
		got := content(t, p)
		n := bytes.IndexByte(got, 'o')
		if len(got) != powercut.PageSize || n <= 0 || n%powercut.SectorSize != 0 ||
			!bytes.Equal(got[:n], fill('n', n)) || !bytes.Equal(got[n:], fill('o', len(got)-n)) {
			t.Fatalf("seed %d: not a whole-sector prefix of the new page over the old (new bytes: %d, size %d; %s)", seed, n, len(got), rep.Torn)
		}
		if rep.Torn == "" {
			t.Errorf("seed %d: the report names no torn page", seed)
		}
		prefixes[n] = true
	}
	if len(prefixes) < 3 {
		t.Errorf("12 seeds tore the page at only %d places: %v", len(prefixes), prefixes)
	}
}

// TestKeepSome: with Keep, some unsynced pages reach the disk, whole, and
// the others are lost, whole.
func TestKeepSome(t *testing.T) {
	l := powercut.ForTest(t)
	p := filepath.Join(l.Dir(), "f")
	const pages = 64
	write(t, p, fill('o', pages*powercut.PageSize), 0, true)
	for i := 0; i < pages; i++ {
		write(t, p, fill('n', powercut.PageSize), int64(i*powercut.PageSize), false)
	}
	rep := cut(t, l, powercut.CutOptions{Seed: 7, Keep: 0.5})
	got := content(t, p)
	if len(got) != pages*powercut.PageSize {
		t.Fatalf("size %d, want %d", len(got), pages*powercut.PageSize)
	}
	kept := 0
	for i := 0; i < pages; i++ {
		pg := got[i*powercut.PageSize : (i+1)*powercut.PageSize]
		switch {
		case bytes.Equal(pg, fill('n', powercut.PageSize)):
			kept++
		case bytes.Equal(pg, fill('o', powercut.PageSize)):
		default:
			t.Fatalf("page %d is neither the old nor the new page", i)
		}
	}
	if kept != rep.KeptPages || kept == 0 || kept == pages || rep.LostPages != pages-kept {
		t.Errorf("kept %d of %d pages; report: kept %d lost %d", kept, pages, rep.KeptPages, rep.LostPages)
	}
}

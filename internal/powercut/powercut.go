//go:build linux

// Package powercut gives the power-cut campaign (docs/reliability.md,
// issue 15) a file system that forgets what a disk may forget when the
// power goes: a FUSE pass-through (github.com/hanwen/go-fuse/v2) over a
// backing directory that keeps, beside the live files, the state a disk
// would hold after a power cut — the durable image — and moves a write
// into it only when the program asks for it with fsync or fdatasync.
// Cut drops everything else, the way a power cut drops the page cache and
// the disk's own write cache, and mounts the layer again showing only the
// durable image. The idea is Jepsen's LazyFS (dsrhaslab/lazyfs); this is
// our own, smaller, with the namespace rules below.
//
// What reaches the durable image, and when:
//
//   - File data and size: at fsync/fdatasync of that file (both are
//     the same here: the size is part of what fdatasync keeps).
//   - A new file's (or directory's) name: at fsync of its parent
//     directory, or at fsync of the file itself while it has never had
//     a durable name (ext4, XFS and btrfs all make a newly created file
//     reachable when it is fsynced; POSIX asks for the directory's fsync).
//   - Rename, unlink, rmdir of a name that is already durable: only at
//     fsync of the directory (of both directories, for a rename across
//     two): before that, a cut brings the old name back, with the data
//     that was last synced under it.
//   - Everything else (unsynced writes, truncates, new names) is lost at
//     a cut, except what CutOptions lets through: a seeded share of the
//     unsynced pages (a disk writes back in any order) and a torn page
//     (a seeded whole-sector prefix of the last unsynced page written).
//
// The live files are the backing directory itself (reads and writes pass
// through to it); the durable image is kept in memory, page by page, which
// suits the small stores of a test. Hard links, symlinks, extended
// attributes and file modes are passed through but not part of the model:
// after a cut a file comes back with mode 0644 and a directory with 0755.
// An unlinked file is moved to a graveyard beside the backing directory
// rather than removed, so that its inode number, the key of the model, is
// never reused while the layer is mounted.
//
// Mounting needs root and /dev/fuse; go-fuse mounts with mount(2)
// directly (DirectMountStrict), so fusermount is not needed.
package powercut

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// PageSize is the unit of the model: a write dirties the pages it
// touches, and a cut keeps or drops whole pages (or tears one).
const PageSize = 4096

// SectorSize is the unit of a torn page: a disk writes at least a whole
// sector or none of it.
const SectorSize = 512

// CutOptions says what, besides the synced state, a cut lets through.
type CutOptions struct {
	// Seed makes Keep and Tear repeatable.
	Seed uint64
	// Keep is the share (0–1) of unsynced pages that reach the disk
	// anyway, chosen at random: the kernel and the disk write back in
	// any order, so any subset may have landed.
	Keep float64
	// Tear lets a seeded prefix (whole sectors, at least one, never the
	// whole page) of the last unsynced page written reach the disk.
	Tear bool
}

// CutReport says what a cut dropped.
type CutReport struct {
	// LostPages is the number of unsynced pages dropped (kept and torn
	// pages not counted).
	LostPages int
	// KeptPages reached the disk under CutOptions.Keep.
	KeptPages int
	// Torn names the torn page ("" when none): file, offset, bytes kept.
	Torn string
	// LostNames is the number of directory entries whose change
	// (creation, rename, removal) was not durable and was undone.
	LostNames int
}

// Layer is one mounted power-cut file system.
type Layer struct {
	base, backing, grave, mnt string

	mu     sync.Mutex
	server *fuse.Server
	files  map[uint64]*file
	dirs   map[uint64]*dir
	rootID uint64
	// last is the last write not yet synced, for Tear.
	last     lastWrite
	graveSeq int
	syncs    int
	// liveNameDiff counts, at a cut, the live names that are not the
	// durable ones.
	liveNameDiff int
}

type lastWrite struct {
	ino uint64
	off int64
	n   int
}

// file is the model of one regular file: its durable image and the
// pages written since it was last synced.
type file struct {
	durable []byte
	dirty   map[int64]struct{}
	// named is true once the file has a durable name somewhere.
	named bool
	// parent and name are where the file was created, for the durable
	// name its first fsync gives it.
	parent uint64
	name   string
}

// dir is the model of one directory: its durable entries.
type dir struct {
	entries map[string]uint64
	named   bool
	parent  uint64
	name    string
}

// New makes a layer in base (which must exist and be empty or missing):
// the backing directory base/disk, the graveyard base/grave and the mount
// point base/mnt, and mounts it. Whatever base/disk already holds counts as
// durable.
func New(base string) (*Layer, error) {
	l := &Layer{
		base:    base,
		backing: filepath.Join(base, "disk"),
		grave:   filepath.Join(base, "grave"),
		mnt:     filepath.Join(base, "mnt"),
	}
	for _, d := range []string{l.backing, l.grave, l.mnt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := l.load(); err != nil {
		return nil, err
	}
	if err := l.mount(); err != nil {
		return nil, err
	}
	return l, nil
}

// Dir is the mount point: the directory to give the program under test.
// Pass it as an argument, never as exec.Cmd.Dir (nor run a binary from it):
// the child would chdir into the layer between fork and exec, while the
// parent, in vfork, can hold up a garbage collection that the layer's own
// goroutines, in this process, are stopped for — and neither moves again.
func (l *Layer) Dir() string { return l.mnt }

// Syncs is the number of fsync/fdatasync calls the layer has served.
func (l *Layer) Syncs() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncs
}

// Close unmounts the layer (without a cut: the backing directory keeps
// the live files).
func (l *Layer) Close() error {
	l.mu.Lock()
	srv := l.server
	l.server = nil
	l.mu.Unlock()
	if srv == nil {
		return nil
	}
	return unmount(srv)
}

func unmount(srv *fuse.Server) error {
	// Processes killed a moment ago may still be closing their files:
	// the unmount is refused (EBUSY) until they have.
	var err error
	for i := 0; i < 100; i++ {
		if err = srv.Unmount(); err == nil {
			srv.Wait()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("powercut: unmount: %w", err)
}

func (l *Layer) mount() error {
	root := &fs.LoopbackRoot{Path: l.backing, NewNode: l.newNode}
	var st syscall.Stat_t
	if err := syscall.Stat(l.backing, &st); err != nil {
		return err
	}
	root.Dev = uint64(st.Dev)
	rootNode := l.newNode(root, nil, "", &st)
	root.RootNode = rootNode
	// Attributes and names are not cached in the kernel: a cut may change
	// them behind its back only between mounts, but a short cache keeps
	// the model's view and the kernel's the same at every call.
	zero := time.Duration(0)
	srv, err := fs.Mount(l.mnt, rootNode, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMountStrict: true,
			FsName:            "powercut",
			Name:              "powercut",
			MaxBackground:     64,
		},
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
	})
	if err != nil {
		return fmt.Errorf("powercut: mount on %s: %w", l.mnt, err)
	}
	l.mu.Lock()
	l.server = srv
	l.mu.Unlock()
	return nil
}

// load makes the model from the backing directory: all of it durable.
func (l *Layer) load() error {
	l.files = map[uint64]*file{}
	l.dirs = map[uint64]*dir{}
	l.last = lastWrite{}
	var walk func(path string, parent uint64, name string) (uint64, error)
	walk = func(path string, parent uint64, name string) (uint64, error) {
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return 0, err
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
			d := &dir{entries: map[string]uint64{}, named: true, parent: parent, name: name}
			l.dirs[st.Ino] = d
			ents, err := os.ReadDir(path)
			if err != nil {
				return 0, err
			}
			for _, e := range ents {
				ino, err := walk(filepath.Join(path, e.Name()), st.Ino, e.Name())
				if err != nil {
					return 0, err
				}
				if ino != 0 {
					d.entries[e.Name()] = ino
				}
			}
		case syscall.S_IFREG:
			data, err := os.ReadFile(path)
			if err != nil {
				return 0, err
			}
			l.files[st.Ino] = &file{durable: data, dirty: map[int64]struct{}{}, named: true, parent: parent, name: name}
		default:
			return 0, nil // not modelled (symlinks, devices)
		}
		return st.Ino, nil
	}
	root, err := walk(l.backing, 0, "")
	l.rootID = root
	return err
}

// Cut is the power cut: the caller has killed every process using the
// layer (a power cut kills them all). The layer is unmounted, the backing
// directory replaced by the durable image (with what o lets through), and
// mounted again.
func (l *Layer) Cut(o CutOptions) (CutReport, error) {
	l.mu.Lock()
	srv := l.server
	l.server = nil
	l.mu.Unlock()
	if srv != nil {
		if err := unmount(srv); err != nil {
			return CutReport{}, err
		}
	}
	l.mu.Lock()
	rep, err := l.cutLocked(o)
	l.mu.Unlock()
	if err != nil {
		return rep, err
	}
	return rep, l.mount()
}

func (l *Layer) cutLocked(o CutOptions) (CutReport, error) {
	var rep CutReport
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	// The live content of every file with unsynced pages, by inode: the
	// pages that get through come from it. Files are found through the
	// live tree and the graveyard.
	live, err := l.liveFiles()
	if err != nil {
		return rep, err
	}
	inos := make([]uint64, 0, len(l.files))
	for ino := range l.files {
		inos = append(inos, ino)
	}
	sort.Slice(inos, func(i, j int) bool { return inos[i] < inos[j] })
	for _, ino := range inos {
		f := l.files[ino]
		pages := make([]int64, 0, len(f.dirty))
		for p := range f.dirty {
			pages = append(pages, p)
		}
		sort.Slice(pages, func(i, j int) bool { return pages[i] < pages[j] })
		cur := live[ino]
		tornPage := int64(-1)
		if o.Tear && l.last.ino == ino && l.last.n > 0 {
			tornPage = (l.last.off + int64(l.last.n) - 1) / PageSize
			if _, ok := f.dirty[tornPage]; !ok {
				tornPage = -1
			}
		}
		for _, p := range pages {
			switch {
			case p == tornPage:
				n := keepPrefix(f, cur, p, rng)
				if n > 0 {
					rep.Torn = fmt.Sprintf("inode %d page %d: %d of %d bytes", ino, p, n, PageSize)
				}
			case o.Keep > 0 && rng.Float64() < o.Keep:
				copyPage(f, cur, p, PageSize)
				rep.KeptPages++
			default:
				rep.LostPages++
			}
		}
	}
	// The durable namespace, from the root, replaces the backing tree.
	for _, p := range []string{l.backing, l.grave} {
		if err := os.RemoveAll(p); err != nil {
			return rep, err
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return rep, err
		}
	}
	rep.LostNames = l.liveNameDiff
	var write func(path string, ino uint64) error
	write = func(path string, ino uint64) error {
		d := l.dirs[ino]
		for name, child := range d.entries {
			p := filepath.Join(path, name)
			if _, ok := l.dirs[child]; ok {
				if err := os.Mkdir(p, 0o755); err != nil {
					return err
				}
				if err := write(p, child); err != nil {
					return err
				}
			} else if f, ok := l.files[child]; ok {
				if err := os.WriteFile(p, f.durable, 0o644); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := write(l.backing, l.rootID); err != nil {
		return rep, err
	}
	return rep, l.load()
}

// keepPrefix copies a seeded whole-sector prefix of live page p onto the
// durable image: at least one sector, never the whole page (nor more than
// the live file holds). It returns the bytes kept.
func keepPrefix(f *file, cur []byte, p int64, rng *rand.Rand) int {
	start := p * PageSize
	avail := int64(len(cur)) - start
	if avail <= 0 {
		return 0
	}
	if avail > PageSize {
		avail = PageSize
	}
	sectors := int((avail + SectorSize - 1) / SectorSize)
	if sectors < 2 {
		return 0 // one sector: all or nothing
	}
	n := int64(1+rng.IntN(sectors-1)) * SectorSize
	if n > avail {
		n = avail
	}
	copyPage(f, cur, p, n)
	return int(n)
}

// copyPage copies the first n bytes of live page p onto the durable image,
// growing it when the page lies past its end.
func copyPage(f *file, cur []byte, p, n int64) {
	start := p * PageSize
	end := start + n
	if end > int64(len(cur)) {
		end = int64(len(cur))
	}
	if end <= start {
		return
	}
	if int64(len(f.durable)) < end {
		f.durable = append(f.durable, make([]byte, end-int64(len(f.durable)))...)
	}
	copy(f.durable[start:end], cur[start:end])
}

// liveFiles reads the live content of every file with unsynced pages, and
// counts, on the way, the live names that are not durable (liveNameDiff).
func (l *Layer) liveFiles() (map[uint64][]byte, error) {
	live := map[uint64][]byte{}
	l.liveNameDiff = 0
	seen := map[string]bool{}
	read := func(path string, ino uint64) error {
		f, ok := l.files[ino]
		if !ok || len(f.dirty) == 0 || live[ino] != nil {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		live[ino] = data
		return nil
	}
	var walk func(path string, ino uint64) error
	walk = func(path string, ino uint64) error {
		ents, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		d := l.dirs[ino]
		for _, e := range ents {
			p := filepath.Join(path, e.Name())
			var st syscall.Stat_t
			if err := syscall.Lstat(p, &st); err != nil {
				return err
			}
			if d != nil {
				seen[fmt.Sprint(ino, "/", e.Name())] = true
				if d.entries[e.Name()] != st.Ino {
					l.liveNameDiff++
				}
			}
			switch st.Mode & syscall.S_IFMT {
			case syscall.S_IFDIR:
				if err := walk(p, st.Ino); err != nil {
					return err
				}
			case syscall.S_IFREG:
				if err := read(p, st.Ino); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(l.backing, l.rootID); err != nil {
		return nil, err
	}
	for ino, d := range l.dirs {
		for name := range d.entries {
			if !seen[fmt.Sprint(ino, "/", name)] {
				l.liveNameDiff++ // a durable name removed or renamed away
			}
		}
	}
	ents, err := os.ReadDir(l.grave)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := filepath.Join(l.grave, e.Name())
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return nil, err
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			if err := read(p, st.Ino); err != nil {
				return nil, err
			}
		}
	}
	return live, nil
}

// The FUSE side: every node is a loopback node that tells the layer what
// it did.

type node struct {
	fs.LoopbackNode
	l *Layer
}

func (l *Layer) newNode(root *fs.LoopbackRoot, parent *fs.Inode, name string, st *syscall.Stat_t) fs.InodeEmbedder {
	return &node{LoopbackNode: fs.LoopbackNode{RootData: root}, l: l}
}

// path is the node's path in the backing directory.
func (n *node) path() string {
	return filepath.Join(n.l.backing, n.EmbeddedInode().Path(nil))
}

func (n *node) ino() uint64 { return n.l.inoOf(n.EmbeddedInode()) }

// inoOf is the backing inode number of a node: the key of the model. The
// mount's root has FUSE's own number 1, not its backing one.
func (l *Layer) inoOf(in *fs.Inode) uint64 {
	if in.IsRoot() {
		return l.rootID
	}
	return in.StableAttr().Ino
}

var (
	_ fs.NodeWriter         = (*node)(nil)
	_ fs.NodeWritever       = (*node)(nil)
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeAllocater      = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeMkdirer        = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRmdirer        = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeCopyFileRanger = (*node)(nil)
	_ fs.NodeLinker         = (*node)(nil)
	_ fs.NodeSymlinker      = (*node)(nil)
	_ fs.NodeMknoder        = (*node)(nil)
	_ fs.FileFsyncdirer     = (*dirHandle)(nil)
	_ fs.FileReaddirenter   = (*dirHandle)(nil)
	_ fs.FileSeekdirer      = (*dirHandle)(nil)
	_ fs.FileReleasedirer   = (*dirHandle)(nil)
)

// dirtied marks the pages of [off, off+n) of the node's file unsynced.
func (n *node) dirtied(off, size int64, write bool) {
	if size <= 0 {
		return
	}
	l := n.l
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.files[n.ino()]
	if f == nil {
		return
	}
	for p := off / PageSize; p <= (off+size-1)/PageSize; p++ {
		f.dirty[p] = struct{}{}
	}
	if write {
		l.last = lastWrite{ino: n.ino(), off: off, n: int(size)}
	}
}

func (n *node) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	w, ok := fh.(fs.FileWriter)
	if !ok {
		return 0, syscall.EBADF
	}
	written, errno := w.Write(ctx, data, off)
	n.dirtied(off, int64(written), true)
	return written, errno
}

func (n *node) Writev(ctx context.Context, fh fs.FileHandle, iov [][]byte, off int64) (uint32, syscall.Errno) {
	var data []byte
	for _, b := range iov {
		data = append(data, b...)
	}
	return n.Write(ctx, fh, data, off)
}

func (n *node) Allocate(ctx context.Context, fh fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	a, ok := fh.(fs.FileAllocater)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	errno := a.Allocate(ctx, off, size, mode)
	if errno == 0 {
		n.dirtied(int64(off), int64(size), false)
	}
	return errno
}

func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	newSize, sized := in.GetSize()
	var old syscall.Stat_t
	if sized {
		if err := syscall.Stat(n.path(), &old); err != nil {
			return fs.ToErrno(err)
		}
	}
	errno := n.LoopbackNode.Setattr(ctx, fh, in, out)
	if errno == 0 && sized && int64(newSize) != old.Size {
		// A truncate changes every page between the old and the new end
		// (shrinking, then growing again, must read zeros).
		lo, hi := old.Size, int64(newSize)
		if lo > hi {
			lo, hi = hi, lo
		}
		n.dirtied(lo, hi-lo, false)
	}
	return errno
}

// Fsync serves fsync and fdatasync of a file and fsync of a directory.
// The backing file is not synced: the durable image is the model's.
func (n *node) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	l := n.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncs++
	ino := n.ino()
	if _, ok := l.dirs[ino]; ok {
		return l.syncDir(n.path(), ino)
	}
	f := l.files[ino]
	if f == nil {
		return 0
	}
	if len(f.dirty) > 0 || !f.named {
		var st syscall.Stat_t
		path := n.path()
		fd, err := syscall.Open(path, syscall.O_RDONLY, 0)
		if err != nil {
			return fs.ToErrno(err)
		}
		defer syscall.Close(fd)
		if err := syscall.Fstat(fd, &st); err != nil {
			return fs.ToErrno(err)
		}
		size := st.Size
		if int64(len(f.durable)) > size {
			f.durable = f.durable[:size]
		} else if int64(len(f.durable)) < size {
			f.durable = append(f.durable, make([]byte, size-int64(len(f.durable)))...)
		}
		for p := range f.dirty {
			start := p * PageSize
			if start >= size {
				continue
			}
			end := min(start+PageSize, size)
			if _, err := syscall.Pread(fd, f.durable[start:end], start); err != nil {
				return fs.ToErrno(err)
			}
		}
		f.dirty = map[int64]struct{}{}
		if l.last.ino == ino {
			l.last = lastWrite{}
		}
	}
	if !f.named {
		// Its name now, which may not be the one it was created under.
		parent, name := f.parent, f.name
		if pname, p := n.EmbeddedInode().Parent(); p != nil {
			parent, name = l.inoOf(p), pname
		}
		l.name(ino, parent, name)
	}
	return 0
}

// name gives a never-named file or directory its creation name in the
// durable image, and its parents theirs (what ext4 does at the fsync of a
// new file).
func (l *Layer) name(ino, parent uint64, name string) {
	for {
		d := l.dirs[parent]
		if d == nil {
			return
		}
		if _, taken := d.entries[name]; !taken {
			d.entries[name] = ino
		}
		if f := l.files[ino]; f != nil {
			f.named = true
		}
		if cd := l.dirs[ino]; cd != nil {
			cd.named = true
		}
		if d.named {
			return
		}
		ino, parent, name = parent, d.parent, d.name
	}
}

// syncDir makes the directory's live entries its durable ones.
func (l *Layer) syncDir(path string, ino uint64) syscall.Errno {
	ents, err := os.ReadDir(path)
	if err != nil {
		return fs.ToErrno(err)
	}
	d := l.dirs[ino]
	d.entries = map[string]uint64{}
	for _, e := range ents {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(path, e.Name()), &st); err != nil {
			return fs.ToErrno(err)
		}
		if f := l.files[st.Ino]; f != nil {
			f.named = true
		} else if cd := l.dirs[st.Ino]; cd != nil {
			cd.named = true
		} else {
			continue // not modelled
		}
		d.entries[e.Name()] = st.Ino
	}
	if !d.named {
		l.name(ino, d.parent, d.name)
	}
	return 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	var old syscall.Stat_t
	existed := syscall.Lstat(filepath.Join(n.path(), name), &old) == nil
	inode, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno == 0 {
		ino := inode.StableAttr().Ino
		f := n.l.files[ino]
		if f == nil {
			f = &file{dirty: map[int64]struct{}{}, parent: n.ino(), name: name}
			n.l.files[ino] = f
		}
		if existed && flags&syscall.O_TRUNC != 0 {
			for p := int64(0); p*PageSize < old.Size; p++ {
				f.dirty[p] = struct{}{}
			}
		}
	}
	return inode, noPassthrough(fh), fuseFlags, errno
}

// Open with O_TRUNC truncates without a Setattr.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	var old syscall.Stat_t
	if flags&syscall.O_TRUNC != 0 {
		if err := syscall.Stat(n.path(), &old); err != nil {
			return nil, 0, fs.ToErrno(err)
		}
	}
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno == 0 && old.Size > 0 {
		n.dirtied(0, old.Size, false)
	}
	return noPassthrough(fh), fuseFlags, errno
}

// handle is a loopback file that the kernel may not bypass: go-fuse
// offers the kernel the backing file descriptor (FUSE passthrough), and
// the kernel would then write to it without telling the layer.
type handle struct {
	*fs.LoopbackFile
}

func (h *handle) PassthroughFd() (int, bool) { return 0, false }

func noPassthrough(fh fs.FileHandle) fs.FileHandle {
	if lf, ok := fh.(*fs.LoopbackFile); ok {
		return &handle{lf}
	}
	return fh
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	inode, errno := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if errno == 0 {
		n.l.dirs[inode.StableAttr().Ino] = &dir{entries: map[string]uint64{}, parent: n.ino(), name: name}
	}
	return inode, errno
}

// bury moves a live name to the graveyard instead of removing it, so that
// its inode number is not reused while the layer is mounted.
func (l *Layer) bury(path string) syscall.Errno {
	l.graveSeq++
	return fs.ToErrno(os.Rename(path, filepath.Join(l.grave, fmt.Sprint(l.graveSeq))))
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	return n.l.bury(filepath.Join(n.path(), name))
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	p := filepath.Join(n.path(), name)
	ents, err := os.ReadDir(p)
	if err != nil {
		return fs.ToErrno(err)
	}
	if len(ents) > 0 {
		return syscall.ENOTEMPTY
	}
	return n.l.bury(p)
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags != 0 {
		return syscall.EINVAL // RENAME_EXCHANGE, RENAME_NOREPLACE: not modelled
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	from := filepath.Join(n.path(), name)
	to := filepath.Join(np.path(), newName)
	var st syscall.Stat_t
	if err := syscall.Lstat(to, &st); err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// The replaced file goes to the graveyard first; rename(2)
		// would free its inode number.
		if errno := n.l.bury(to); errno != 0 {
			return errno
		}
	}
	return fs.ToErrno(os.Rename(from, to))
}

// Hard links, symlinks and special files are outside the model.
func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// CopyFileRange is refused so that the kernel copies with reads and
// writes, which the model sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, size uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

// OpendirHandle wraps the loopback's directory handle so that fsync of
// a directory reaches the model (the bridge asks the handle first).
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{fh: fh, n: n}, fuseFlags, 0
}

type dirHandle struct {
	fh fs.FileHandle
	n  *node
}

func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	return d.n.Fsync(ctx, nil, flags)
}

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if r, ok := d.fh.(fs.FileReaddirenter); ok {
		return r.Readdirent(ctx)
	}
	return nil, syscall.ENOTSUP
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if s, ok := d.fh.(fs.FileSeekdirer); ok {
		return s.Seekdir(ctx, off)
	}
	return syscall.ENOTSUP
}

func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if r, ok := d.fh.(fs.FileReleasedirer); ok {
		r.Releasedir(ctx, flags)
	}
}

// ErrNoFUSE is what Available reports when this machine cannot mount.
var ErrNoFUSE = errors.New("powercut: FUSE is not available (needs root and /dev/fuse)")

// Available says whether a layer can be mounted here.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root (uid %d)", ErrNoFUSE, os.Geteuid())
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("%w: %v", ErrNoFUSE, err)
	}
	return nil
}

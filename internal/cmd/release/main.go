// Command release builds the release archives of kiemphieu (make release,
// scripts/release, .github/workflows/release.yml): for each platform a
// ward office has, one archive holding the binary and the README, and
// SHA256SUMS over them, in dist/.
//
//	go run ./internal/cmd/release [-out dist] [-version V] [-targets windows/amd64,…]
//
// The binaries are static (CGO_ENABLED=0), built with -trimpath and the
// version from `git describe`; the archives' entries carry the commit's
// time, so that the same commit gives the same archives.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// target is a platform released for.
type target struct{ GOOS, GOARCH string }

// targets: Windows office PCs, Linux laptops and small boards (arm64),
// Macs with Apple silicon.
var targets = []target{{"windows", "amd64"}, {"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}}

func (t target) String() string { return t.GOOS + "/" + t.GOARCH }

// binary is the executable's name inside the archive.
func (t target) binary() string {
	if t.GOOS == "windows" {
		return "kiemphieu.exe"
	}
	return "kiemphieu"
}

// archive is the archive's file name: a .zip for Windows (Explorer opens
// it), .tar.gz elsewhere.
func (t target) archive(version string) string {
	base := "kiemphieu-" + version + "-" + t.GOOS + "-" + t.GOARCH
	if t.GOOS == "windows" {
		return base + ".zip"
	}
	return base + ".tar.gz"
}

type options struct {
	Root    string // the repository
	Out     string
	Version string
	Targets []target
	Go      string    // the go command
	Time    time.Time // of the archives' entries
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	out := fs.String("out", "dist", "directory the archives and SHA256SUMS go to (emptied first)")
	version := fs.String("version", "", "version to stamp; default `git describe --tags --always --dirty`")
	list := fs.String("targets", "", "comma-separated GOOS/GOARCH; default "+fmt.Sprint(targets))
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := options{Root: ".", Out: *out, Version: *version, Targets: targets, Go: goCommand()}
	if *list != "" {
		opts.Targets = nil
		for _, s := range strings.Split(*list, ",") {
			goos, goarch, ok := strings.Cut(strings.TrimSpace(s), "/")
			if !ok || goos == "" || goarch == "" {
				return fmt.Errorf("-targets: %q is not GOOS/GOARCH", s)
			}
			opts.Targets = append(opts.Targets, target{goos, goarch})
		}
	}
	if opts.Version == "" {
		v, err := gitOutput(opts.Root, "describe", "--tags", "--always", "--dirty")
		if err != nil {
			return fmt.Errorf("the version from git (or give -version): %w", err)
		}
		opts.Version = v
	}
	opts.Time = commitTime(opts.Root)
	names, err := build(opts)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Println(filepath.Join(opts.Out, n))
	}
	fmt.Println(filepath.Join(opts.Out, "SHA256SUMS"))
	return nil
}

// goCommand is the go command to build with: $GO, else go.
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func gitOutput(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// commitTime is the time of HEAD ($SOURCE_DATE_EPOCH first), else now.
func commitTime(root string) time.Time {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s, _ = gitOutput(root, "log", "-1", "--format=%ct")
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

// checkVersion keeps the version usable in a file name and an -X flag.
func checkVersion(v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_+", r))
	}) {
		return fmt.Errorf("version %q: use letters, digits and . - _ +", v)
	}
	return nil
}

// build makes every archive and SHA256SUMS in opts.Out and returns the
// archives' names.
func build(opts options) ([]string, error) {
	if err := checkVersion(opts.Version); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(opts.Out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "kiemphieu-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	readme, err := os.ReadFile(filepath.Join(opts.Root, "README.md"))
	if err != nil {
		return nil, err
	}
	var sums []string
	var names []string
	for _, t := range opts.Targets {
		exe := filepath.Join(work, t.GOOS+"-"+t.GOARCH, t.binary())
		cmd := exec.Command(opts.Go, "build", "-trimpath", "-ldflags", "-s -w -X main.version="+opts.Version, "-o", exe, "./cmd/kiemphieu")
		cmd.Dir = opts.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s: %w", t, err)
		}
		bin, err := os.ReadFile(exe)
		if err != nil {
			return nil, err
		}
		name := t.archive(opts.Version)
		dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz") + "/"
		files := []file{{dir + t.binary(), bin, 0o755}, {dir + "README.md", readme, 0o644}}
		var data []byte
		if t.GOOS == "windows" {
			data, err = zipOf(files, opts.Time)
		} else {
			data, err = tarGzOf(files, opts.Time)
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(opts.Out, name), data, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		sums = append(sums, hex.EncodeToString(sum[:])+"  "+name+"\n")
		names = append(names, name)
	}
	slices.SortFunc(sums, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return names, os.WriteFile(filepath.Join(opts.Out, "SHA256SUMS"), []byte(strings.Join(sums, "")), 0o644)
}

type file struct {
	name string
	data []byte
	mode os.FileMode
}

func zipOf(files []file, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: at}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	// Close first: it writes the central directory.
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func tarGzOf(files []file, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	gz.ModTime = at
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: int64(f.mode), Size: int64(len(f.data)), ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The release archives, cross-compiled into a temporary directory: one per
// platform, SHA256SUMS matching each, each holding its binary for the
// right system and processor, stamped with the version. Building four
// binaries takes minutes on a small machine: skipped with -short.
func TestReleaseArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles four binaries; skipped with -short")
	}
	out := t.TempDir()
	const version = "v0.0.0-test"
	names, err := build(options{Root: filepath.Join("..", "..", ".."), Out: out, Version: version, Targets: targets,
		Go: goCommand(), Time: time.Date(2026, 5, 14, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		binary string
		check  func(t *testing.T, bin []byte)
	}{
		"kiemphieu-" + version + "-windows-amd64.zip":   {"kiemphieu.exe", peOf(pe.IMAGE_FILE_MACHINE_AMD64)},
		"kiemphieu-" + version + "-linux-amd64.tar.gz":  {"kiemphieu", elfOf(elf.EM_X86_64)},
		"kiemphieu-" + version + "-linux-arm64.tar.gz":  {"kiemphieu", elfOf(elf.EM_AARCH64)},
		"kiemphieu-" + version + "-darwin-arm64.tar.gz": {"kiemphieu", machoOf(macho.CpuArm64)},
	}
	if len(names) != len(want) {
		t.Errorf("archives %v, want %d", names, len(want))
	}

	sums := readSums(t, filepath.Join(out, "SHA256SUMS"))
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok && e.Name() != "SHA256SUMS" {
			t.Errorf("unexpected file in dist: %s", e.Name())
		}
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); sums[name] != got {
				t.Errorf("SHA256SUMS says %q, the file is %s", sums[name], got)
			}
			files := unpack(t, name, data)
			dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz")
			bin, ok := files[dir+"/"+w.binary]
			if !ok {
				t.Fatalf("%s holds %v, not %s/%s", name, keys(files), dir, w.binary)
			}
			if _, ok := files[dir+"/README.md"]; !ok {
				t.Errorf("%s has no README.md", name)
			}
			w.check(t, bin)
			if !bytes.Contains(bin, []byte(version)) {
				t.Errorf("the binary is not stamped with %s", version)
			}
		})
	}
	if len(sums) != len(want) {
		t.Errorf("SHA256SUMS has %d lines, want %d", len(sums), len(want))
	}
}

// readSums parses SHA256SUMS as sha256sum -c reads it.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS line %q is not \"<sha256>  <file>\"", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func unpack(t *testing.T, name string, data []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		return files
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == strings.TrimSuffix(name, ".tar.gz")+"/kiemphieu" && h.Mode&0o111 == 0 {
			t.Errorf("%s is not executable (mode %o)", h.Name, h.Mode)
		}
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func peOf(machine uint16) func(*testing.T, []byte) {
	return func(t *testing.T, bin []byte) {
		f, err := pe.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("not a Windows executable: %v", err)
		}
		if f.Machine != machine {
			t.Errorf("machine %#x, want %#x", f.Machine, machine)
		}
	}
}

func elfOf(machine elf.Machine) func(*testing.T, []byte) {
	return func(t *testing.T, bin []byte) {
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("not an ELF executable: %v", err)
		}
		if f.Machine != machine {
			t.Errorf("machine %v, want %v", f.Machine, machine)
		}
		// CGO_ENABLED=0: static, no interpreter to load.
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary is dynamically linked (it has an interpreter)")
			}
		}
	}
}

func machoOf(cpu macho.Cpu) func(*testing.T, []byte) {
	return func(t *testing.T, bin []byte) {
		f, err := macho.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("not a macOS executable: %v", err)
		}
		if f.Cpu != cpu {
			t.Errorf("cpu %v, want %v", f.Cpu, cpu)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{"v1.2.0": true, "v1.2.0-3-gabc123-dirty": true, "abc123": true, "": false, "v1 2": false, "v1;rm": false, "../x": false} {
		if err := checkVersion(v); (err == nil) != ok {
			t.Errorf("checkVersion(%q) = %v", v, err)
		}
	}
}

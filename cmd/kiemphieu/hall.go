package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
)

// version is the release's, set by scripts/release with
// -ldflags "-X main.version=…" from `git describe`.
var version = "dev"

// doubleClickArgs are the arguments a run with none stands for. On Windows
// a ward office starts kiemphieu.exe from Explorer, where no arguments can
// be given: it serves the hall (every address, unless KIEMPHIEU_ADDR says
// otherwise), keeps its data beside the executable and opens the browser.
// Elsewhere a run with no arguments prints the usage.
func doubleClickArgs(goos string, env func(string) (string, bool)) []string {
	if goos != "windows" {
		return nil
	}
	args := []string{"serve", "--open"}
	if _, ok := env("KIEMPHIEU_ADDR"); !ok {
		args = append(args, "--addr", "0.0.0.0:8080")
	}
	return args
}

// defaultDataDir is where the embedded store lives when neither --data
// nor KIEMPHIEU_DATA says: on Windows beside the executable (a program
// started from Explorer has no meaningful working directory; a copy on a
// USB stick carries its data with it), elsewhere ./data.
func defaultDataDir(goos string, executable func() (string, error)) string {
	if goos == "windows" {
		if exe, err := executable(); err == nil {
			return filepath.Join(filepath.Dir(exe), "data")
		}
	}
	return "./data"
}

// waitBeforeClosing keeps the console window of a double-clicked run open
// after a failure (the port taken, say), so that the message can be read.
func waitBeforeClosing(stdin io.Reader, stderr io.Writer) {
	fmt.Fprintln(stderr, "\nNhấn Enter để đóng cửa sổ. (Press Enter to close.)")
	bufio.NewReader(stdin).ReadString('\n')
}

// announceFirstRun logs the first-run link (api.Server.FirstRun): the
// log is what the person who started the service sees (its terminal, the
// console window of a double-clicked kiemphieu.exe, journalctl).
func announceFirstRun(log *slog.Logger, link string) {
	log.Warn("first run: no account yet; open this link once to create the secretary's admin account (it works once, for 24 hours or until the next start)",
		slog.String("setup_url", link))
}

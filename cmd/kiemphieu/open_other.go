//go:build !windows

package main

import (
	"os/exec"
	"runtime"
)

// openBrowser opens url in the default browser: `open` on macOS,
// xdg-open on the other systems (it fails on a server without one, which
// serve only logs).
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	return exec.Command(name, url).Start()
}

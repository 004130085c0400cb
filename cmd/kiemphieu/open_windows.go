package main

import "os/exec"

// openBrowser opens url in the default browser: url.dll's handler, as
// Explorer does (no console window, unlike `cmd /c start`, and no quoting
// trouble with the '&' a URL may carry).
func openBrowser(url string) error {
	if err := exec.Command("rundll32", "url.dll,FileProtocolHandler", url).Start(); err != nil {
		// `start` needs an empty title first, or a quoted URL is taken as one.
		return exec.Command("cmd", "/c", "start", "", url).Start()
	}
	return nil
}

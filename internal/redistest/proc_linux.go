package redistest

import "syscall"

// sysProcAttr makes the kernel kill the server if the test process dies
// first (a test binary killed by a timeout), so that no redis-server
// outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

package main

import "syscall"

// childSysProcAttr makes the kernel kill a server child if the test
// process dies first (a test binary killed by its timeout), so that no
// server outlives its test holding a port or a data directory.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

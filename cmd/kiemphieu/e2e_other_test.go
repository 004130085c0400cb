//go:build unix && !linux

package main

import "syscall"

func childSysProcAttr() *syscall.SysProcAttr { return nil }

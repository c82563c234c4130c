//go:build !linux

package pgcluster

import "syscall"

// setParentDeathSignal does nothing where the kernel has no parent-death signal (darwin): a
// private cluster left behind by a crash is stopped by the next start instead.
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

package pgcluster

import "syscall"

// setParentDeathSignal asks the kernel to send sig to the child when this process dies.
func setParentDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) { a.Pdeathsig = sig }

package chaos

import "syscall"

// procAttr makes a child die with the test process: a test killed by a
// timeout or a signal leaves no sender behind holding ports and files.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// postmasterAlive reads dataDir/postmaster.pid and reports whether the
// process it names is alive, as pg_ctl status decides: no file, or a
// process that is gone, is not running (a crash leaves the file behind).
// Beyond pg_ctl, on Linux the process must also be a postgres one, so a
// stale file whose pid was reused by something else does not count.
// known is false when the file exists but cannot be read (permissions):
// the caller then asks pg_ctl.
func postmasterAlive(dataDir string) (alive, known bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, true
	case err != nil:
		return false, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if pid < 0 {
		pid = -pid // a single-user server writes its pid negated
	}
	if err != nil || pid == 0 || pid == os.Getpid() || pid == os.Getppid() {
		return false, true // being written, or not a server
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false, true
	}
	if comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm")); err == nil {
		return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres"), true
	}
	return true, true
}

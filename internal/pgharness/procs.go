package pgharness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processesUnder returns the PIDs of processes whose working directory is dir
// or below it. PostgreSQL's postmaster and all its children chdir into the
// data directory, so this finds every process of an instance, even after the
// postmaster is gone and they were reparented.
func processesUnder(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue
		}
		if cwd == dir || strings.HasPrefix(cwd, dir+string(filepath.Separator)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ProcessesUnder is processesUnder for callers outside the harness (test
// hooks that signal every process of an instance).
func ProcessesUnder(dir string) []int { return processesUnder(dir) }

// processAlive reports whether pid exists (and is not a zombie we could not
// reap: those count as gone).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may contain spaces.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// postmasterPIDFromFile reads the first line of dataDir/postmaster.pid, or 0.
func postmasterPIDFromFile(dataDir string) int {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil {
		return 0
	}
	return pid
}

// killAllUnder SIGKILLs every process working under dir, and each postmaster
// named by a dataDirs/postmaster.pid whose working directory is that data
// directory, then waits until they are gone or ctx ends.
func killAllUnder(ctx context.Context, dir string, dataDirs ...string) error {
	for {
		pids := processesUnder(dir)
		for _, dataDir := range dataDirs {
			pid := postmasterPIDFromFile(dataDir)
			if pid <= 0 || !processAlive(pid) {
				continue
			}
			if cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "cwd")); err == nil && cwd == dataDir {
				pids = append(pids, pid)
			}
		}
		alive := pids[:0]
		for _, pid := range pids {
			if processAlive(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		for _, pid := range alive {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgharness: processes %v under %s still alive: %w", alive, dir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// LeftoverProcesses returns the PIDs of processes still working under dir
// (a pair's or node's directory). Tests use it to prove cleanup is complete.
func LeftoverProcesses(dir string) []int {
	var alive []int
	for _, pid := range processesUnder(dir) {
		if processAlive(pid) {
			alive = append(alive, pid)
		}
	}
	return alive
}

// ProcessAlive reports whether a process with this PID exists and is not a
// zombie.
func ProcessAlive(pid int) bool { return processAlive(pid) }

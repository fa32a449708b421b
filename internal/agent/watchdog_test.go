package agent

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without a watchdog device, arming fails naming the device (the agent logs
// it and keeps the lease rules), and disarming — what a restarted agent does
// on a node that is no longer primary — has nothing to undo.
func TestDevWatchdogWithoutADevice(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "watchdog")
	w := &DevWatchdog{Path: missing}
	if err := w.Arm(5 * time.Second); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Arm without a device: %v, want an error naming %s", err, missing)
	}
	if err := w.Disarm(); err != nil {
		t.Errorf("Disarm without a device: %v, want nil", err)
	}
	if err := w.Pet(); err != nil {
		t.Errorf("Pet of an unopened watchdog: %v, want nil", err)
	}
}

// A file that is not a watchdog device refuses the timeout ioctl: Arm must
// say so rather than pretend the host is protected.
func TestDevWatchdogRefusesANonDevice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-watchdog")
	if err := writeLikeDir(path, ""); err != nil {
		t.Fatal(err)
	}
	w := &DevWatchdog{Path: path}
	if err := w.Arm(5 * time.Second); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("Arm on a regular file: %v, want the timeout ioctl's error", err)
	}
	if err := w.Disarm(); err != nil {
		t.Errorf("Disarm after a failed Arm: %v", err)
	}
}

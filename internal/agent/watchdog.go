package agent

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Watchdog takes PostgreSQL down when the agent stops checking in. Arm
// starts it (or changes its timeout), Pet resets its timer, Disarm stops it
// on purpose (only when the node stops being the writable primary).
// Stopping or killing the agent must leave it running.
type Watchdog interface {
	Arm(timeout time.Duration) error
	Pet() error
	Disarm() error
}

// NoWatchdog is for hosts without one. Without a watchdog a hung agent
// cannot stop its PostgreSQL: the lease still expires, so the state
// machine's lease-based fence is not safe on its own there; fence with a
// hard stop (docs/safety.md).
type NoWatchdog struct{}

// Arm does nothing.
func (NoWatchdog) Arm(time.Duration) error { return nil }

// Pet does nothing.
func (NoWatchdog) Pet() error { return nil }

// Disarm does nothing.
func (NoWatchdog) Disarm() error { return nil }

// Linux watchdog ioctls (linux/watchdog.h).
const (
	wdiocSetTimeout = 0xC0045706 // _IOWR('W', 6, int)
	wdiocKeepAlive  = 0x80045705 // _IOR('W', 5, int)
)

// DevWatchdog drives a Linux watchdog device (/dev/watchdog, e.g. the
// softdog module): once opened, the kernel resets the host unless the
// device is written to within the timeout. Disarm writes the magic 'V'
// before closing; a crash of the agent closes it without, and the timer
// keeps running.
type DevWatchdog struct {
	Path string // default /dev/watchdog

	mu sync.Mutex
	f  *os.File
}

// Arm opens the device (once) and sets its timeout in whole seconds.
func (w *DevWatchdog) Arm(timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); err != nil {
		return err
	}
	secs := int32(timeout / time.Second)
	if secs < 1 {
		secs = 1
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, w.f.Fd(), wdiocSetTimeout, uintptr(unsafe.Pointer(&secs))); e != 0 {
		return fmt.Errorf("setting watchdog timeout to %ds: %w", secs, e)
	}
	return nil
}

// openLocked opens the device once (opening it arms it).
func (w *DevWatchdog) openLocked() error {
	if w.f != nil {
		return nil
	}
	path := w.Path
	if path == "" {
		path = "/dev/watchdog"
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening watchdog %s: %w", path, err)
	}
	w.f = f
	return nil
}

// Pet keeps the host alive for another timeout.
func (w *DevWatchdog) Pet() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	var dummy int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, w.f.Fd(), wdiocKeepAlive, uintptr(unsafe.Pointer(&dummy))); e != 0 {
		return fmt.Errorf("petting the watchdog: %w", e)
	}
	return nil
}

// Disarm stops the watchdog with the magic close. When this process did not
// open it, a previous agent process may have left it armed: it is opened
// (which arms it) and closed at once with the magic character.
func (w *DevWatchdog) Disarm() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); errors.Is(err, os.ErrNotExist) {
		return nil // no watchdog device: nothing can be armed
	} else if err != nil {
		return err
	}
	_, err := w.f.Write([]byte("V"))
	cerr := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("disarming the watchdog: %w", err)
	}
	return cerr
}

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// procStat is what the benchmark reads from /proc/<pid>/stat (proc(5)).
// Times are in clock ticks (clockTicks).
type procStat struct {
	UTime, STime   int64 // the process's own user and system time (fields 14, 15)
	CUTime, CSTime int64 // its waited-for children's (fields 16, 17)
	Threads        int   // field 20
}

// Own is the process's own CPU time in ticks.
func (s procStat) Own() int64 { return s.UTime + s.STime }

// Children is the CPU time of its waited-for children in ticks.
func (s procStat) Children() int64 { return s.CUTime + s.CSTime }

// parseStat reads /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(data []byte) (procStat, error) {
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("stat: no ')' closing the command name")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): field n is f[n-3]
	if len(f) < 18 {
		return procStat{}, fmt.Errorf("stat: %d fields after the command name, want at least 18", len(f))
	}
	field := func(n int) (int64, error) {
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: field %d: %w", n, err)
		}
		return v, nil
	}
	var st procStat
	var err error
	for _, x := range []struct {
		n int
		p *int64
	}{{14, &st.UTime}, {15, &st.STime}, {16, &st.CUTime}, {17, &st.CSTime}} {
		if *x.p, err = field(x.n); err != nil {
			return procStat{}, err
		}
	}
	threads, err := field(20)
	if err != nil {
		return procStat{}, err
	}
	st.Threads = int(threads)
	return st, nil
}

// procStatus is what the benchmark reads from /proc/<pid>/status.
type procStatus struct {
	RSSKiB int64 // VmRSS: resident set now
	HWMKiB int64 // VmHWM: the peak resident set since the process started
}

// parseStatus reads VmRSS and VmHWM from /proc/<pid>/status; both must be
// there (a zombie has neither).
func parseStatus(data []byte) (procStatus, error) {
	var st procStatus
	var haveRSS, haveHWM bool
	for _, line := range strings.Split(string(data), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return procStatus{}, fmt.Errorf("status: %s is %q, want \"<n> kB\"", key, strings.TrimSpace(rest))
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return procStatus{}, fmt.Errorf("status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			st.RSSKiB, haveRSS = v, true
		} else {
			st.HWMKiB, haveHWM = v, true
		}
	}
	if !haveRSS || !haveHWM {
		return procStatus{}, errors.New("status: no VmRSS or VmHWM (has the process exited?)")
	}
	return st, nil
}

// atClkTck is the auxiliary vector entry holding the kernel's USER_HZ, the
// unit of the times in /proc/<pid>/stat (getauxval(AT_CLKTCK), which is
// what sysconf(_SC_CLK_TCK) returns).
const atClkTck = 17

// clockTicksFromAuxv finds AT_CLKTCK in the contents of /proc/self/auxv:
// pairs of native-endian words of wordSize bytes, ending with AT_NULL.
func clockTicksFromAuxv(auxv []byte, wordSize int) (int64, error) {
	word := func(b []byte) uint64 {
		if wordSize == 4 {
			return uint64(binary.NativeEndian.Uint32(b))
		}
		return binary.NativeEndian.Uint64(b)
	}
	for i := 0; i+2*wordSize <= len(auxv); i += 2 * wordSize {
		key, val := word(auxv[i:]), word(auxv[i+wordSize:])
		if key == 0 {
			break
		}
		if key == atClkTck {
			if val == 0 {
				return 0, errors.New("auxv: AT_CLKTCK is 0")
			}
			return int64(val), nil
		}
	}
	return 0, errors.New("auxv: no AT_CLKTCK entry")
}

// clockTicks is USER_HZ of the running kernel.
func clockTicks() (int64, error) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, fmt.Errorf("reading the clock tick rate: %w", err)
	}
	hz, err := clockTicksFromAuxv(auxv, strconv.IntSize/8)
	if err != nil {
		return 0, fmt.Errorf("reading the clock tick rate from /proc/self/auxv: %w", err)
	}
	return hz, nil
}

// cpuTimes is the machine's aggregate "cpu" line of /proc/stat, in ticks.
type cpuTimes struct {
	Busy, Total int64
}

// parseCPULine reads the first line of /proc/stat ("cpu  user nice system
// idle iowait irq softirq steal ..."): idle and iowait are not busy; guest
// times are already part of user and nice, so they are not added again.
func parseCPULine(data []byte) (cpuTimes, error) {
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("/proc/stat: first line %q is not the aggregate cpu line", line)
	}
	var t cpuTimes
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are counted in user and nice
			break
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat: cpu field %d: %w", i+1, err)
		}
		t.Total += v
		if i != 3 && i != 4 { // idle, iowait
			t.Busy += v
		}
	}
	return t, nil
}

// busyPercent is the share of the whole machine (all cores) that was busy
// between a and b.
func busyPercent(a, b cpuTimes) float64 {
	if b.Total <= a.Total {
		return 0
	}
	return 100 * float64(b.Busy-a.Busy) / float64(b.Total-a.Total)
}

// cpuPercent turns ticks spent over elapsed into a percentage of one core.
func cpuPercent(ticks, hz int64, elapsed time.Duration) float64 {
	if hz <= 0 || elapsed <= 0 {
		return 0
	}
	return 100 * float64(ticks) / float64(hz) / elapsed.Seconds()
}

// sample is one reading of a process.
type sample struct {
	At     time.Time
	Stat   procStat
	Status procStatus
}

// readSample reads /proc/<pid>/stat and /proc/<pid>/status.
func readSample(pid int) (sample, error) {
	s := sample{At: time.Now()}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
	}
	if s.Stat, err = parseStat(data); err != nil {
		return s, fmt.Errorf("pid %d: %w", pid, err)
	}
	if data, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err != nil {
		return s, fmt.Errorf("reading /proc/%d/status: %w", pid, err)
	}
	if s.Status, err = parseStatus(data); err != nil {
		return s, fmt.Errorf("pid %d: %w", pid, err)
	}
	return s, nil
}

// usage summarises one process's samples, oldest first.
type usage struct {
	Samples      int
	RSSMiBMedian float64
	RSSMiBMax    float64
	// PeakMiB is VmHWM at the last sample, or the largest sampled VmRSS
	// when that is larger: the kernel updates the high-water mark lazily,
	// so it can lag a VmRSS read.
	PeakMiB        float64
	CPUPct         float64 // own CPU over the whole run, % of one core
	CPUPctMax1s    float64 // the busiest interval between two samples
	ChildrenCPUPct float64 // waited-for children (pg_ctl status, runuser)
	Threads        int     // at the last sample
}

// summarise reduces samples (at least two) with the kernel's tick rate hz.
func summarise(samples []sample, hz int64) (usage, error) {
	if len(samples) < 2 {
		return usage{}, fmt.Errorf("%d samples: need at least two", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	elapsed := last.At.Sub(first.At)
	u := usage{
		Samples:        len(samples),
		CPUPct:         cpuPercent(last.Stat.Own()-first.Stat.Own(), hz, elapsed),
		ChildrenCPUPct: cpuPercent(last.Stat.Children()-first.Stat.Children(), hz, elapsed),
		Threads:        last.Stat.Threads,
	}
	rss := make([]float64, len(samples))
	for i, s := range samples {
		rss[i] = mib(s.Status.RSSKiB)
		if i > 0 {
			p := samples[i-1]
			if pct := cpuPercent(s.Stat.Own()-p.Stat.Own(), hz, s.At.Sub(p.At)); pct > u.CPUPctMax1s {
				u.CPUPctMax1s = pct
			}
		}
	}
	u.RSSMiBMedian = median(rss)
	u.RSSMiBMax = rss[0]
	for _, r := range rss {
		u.RSSMiBMax = max(u.RSSMiBMax, r)
	}
	u.PeakMiB = max(mib(last.Status.HWMKiB), u.RSSMiBMax)
	return u, nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// median of xs (not modified); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

package main

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
)

// A /proc/<pid>/stat line whose command name holds spaces and parentheses;
// utime 1234, stime 567, cutime 89, cstime 10, 9 threads.
const statLine = "4242 (node probe) (x)) S 1 4242 4242 0 -1 4194560 1500 0 0 0 1234 567 89 10 20 0 9 0 987654 1272000000 3800 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	st, err := parseStat([]byte(statLine))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{UTime: 1234, STime: 567, CUTime: 89, CSTime: 10, Threads: 9}
	if st != want {
		t.Fatalf("parseStat = %+v, want %+v", st, want)
	}
	if st.Own() != 1801 || st.Children() != 99 {
		t.Errorf("Own, Children = %d, %d; want 1801, 99", st.Own(), st.Children())
	}
}

func TestParseStatRejectsBrokenLines(t *testing.T) {
	for _, line := range []string{
		"",
		"4242 (nodeprobe S 1 2 3",          // no closing parenthesis
		"4242 (nodeprobe) S 1 4242 4242 0", // truncated
		strings.Replace(statLine, " 1234 ", " x ", 1),
	} {
		if _, err := parseStat([]byte(line)); err == nil {
			t.Errorf("parseStat(%q) succeeded", line)
		}
	}
}

const statusText = `Name:	nodeprobe
Umask:	0022
State:	S (sleeping)
VmPeak:	 1262400 kB
VmSize:	 1262400 kB
VmHWM:	   21504 kB
VmRSS:	   18432 kB
RssAnon:	    9000 kB
Threads:	9
`

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte(statusText))
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSKiB != 18432 || st.HWMKiB != 21504 {
		t.Fatalf("parseStatus = %+v, want VmRSS 18432, VmHWM 21504", st)
	}
	// A zombie has no Vm* lines; a unit other than kB is not understood.
	for _, text := range []string{"Name:\tnodeprobe\nState:\tZ (zombie)\n", strings.Replace(statusText, "18432 kB", "18432 MB", 1)} {
		if _, err := parseStatus([]byte(text)); err == nil {
			t.Errorf("parseStatus(%q) succeeded", text)
		}
	}
}

func auxv(wordSize int, pairs ...uint64) []byte {
	b := make([]byte, 0, len(pairs)*wordSize)
	for _, v := range pairs {
		if wordSize == 4 {
			b = binary.NativeEndian.AppendUint32(b, uint32(v))
		} else {
			b = binary.NativeEndian.AppendUint64(b, v)
		}
	}
	return b
}

func TestClockTicksFromAuxv(t *testing.T) {
	for _, ws := range []int{8, 4} {
		// AT_PAGESZ 4096, AT_CLKTCK 250, AT_NULL.
		hz, err := clockTicksFromAuxv(auxv(ws, 6, 4096, 17, 250, 0, 0), ws)
		if err != nil || hz != 250 {
			t.Errorf("word size %d: clockTicksFromAuxv = %d, %v; want 250", ws, hz, err)
		}
		// An AT_CLKTCK after AT_NULL is not read.
		if hz, err := clockTicksFromAuxv(auxv(ws, 6, 4096, 0, 0, 17, 100), ws); err == nil {
			t.Errorf("word size %d: found %d past AT_NULL", ws, hz)
		}
	}
	if hz, err := clockTicks(); err != nil || hz <= 0 {
		t.Errorf("clockTicks of this kernel = %d, %v", hz, err)
	}
}

func TestParseCPULineAndBusyPercent(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	a, err := parseCPULine([]byte("cpu  100 0 50 800 50 0 0 0 40 0\ncpu0 1 2 3 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Busy != 150 || a.Total != 1000 {
		t.Fatalf("parseCPULine = %+v, want busy 150 of 1000 (guest is inside user)", a)
	}
	b, err := parseCPULine([]byte("cpu  250 0 100 1500 150 0 0 0 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := busyPercent(a, b); math.Abs(got-20) > 1e-9 {
		t.Errorf("busyPercent = %v, want 20 (200 busy of 1000 ticks)", got)
	}
	if _, err := parseCPULine([]byte("intr 1 2 3\n")); err == nil {
		t.Error("parseCPULine accepted a line that is not the cpu line")
	}
}

func TestCPUPercent(t *testing.T) {
	if got := cpuPercent(150, 100, time.Minute); math.Abs(got-2.5) > 1e-9 {
		t.Errorf("150 ticks at 100 Hz over a minute = %v%%, want 2.5", got)
	}
	if got := cpuPercent(10, 100, 0); got != 0 {
		t.Errorf("no elapsed time gave %v", got)
	}
}

func TestSummarise(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	mk := func(sec int, own, children, rss, hwm int64) sample {
		return sample{At: t0.Add(time.Duration(sec) * time.Second),
			Stat:   procStat{UTime: own, CUTime: children, Threads: 8},
			Status: procStatus{RSSKiB: rss, HWMKiB: hwm}}
	}
	samples := []sample{
		mk(0, 100, 0, 10240, 20480),
		mk(1, 101, 2, 11264, 20480),
		mk(2, 105, 4, 30720, 30720), // a burst: 4 ticks in one second
		mk(3, 106, 6, 10240, 30720),
		mk(4, 108, 8, 12288, 30720),
	}
	u, err := summarise(samples, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := usage{Samples: 5, RSSMiBMedian: 11, RSSMiBMax: 30, PeakMiB: 30, CPUPct: 2, CPUPctMax1s: 4, ChildrenCPUPct: 2, Threads: 8}
	if u != want {
		t.Fatalf("summarise = %+v\nwant        %+v", u, want)
	}
	// VmHWM lagging a sampled VmRSS: the peak is the larger.
	samples[4].Status.HWMKiB = 25600
	if u, _ := summarise(samples, 100); u.PeakMiB != 30 {
		t.Errorf("peak with a lagging VmHWM = %v MiB, want 30 (the sampled VmRSS)", u.PeakMiB)
	}
	samples[4].Status.HWMKiB = 40960
	if u, _ := summarise(samples, 100); u.PeakMiB != 40 {
		t.Errorf("peak = %v MiB, want 40 (VmHWM, above every sample)", u.PeakMiB)
	}
	if _, err := summarise(samples[:1], 100); err == nil {
		t.Error("summarise of one sample succeeded")
	}
}

func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 3, 2}
	if got := median(xs); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
	if xs[0] != 5 {
		t.Error("median sorted its argument")
	}
	if got := median([]float64{7, 1, 4}); got != 4 {
		t.Errorf("median = %v, want 4", got)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/demo"
)

func TestCountsBucketsAcknowledgements(t *testing.T) {
	zero := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	acks := []time.Time{zero.Add(-150 * time.Millisecond), zero.Add(-120 * time.Millisecond), zero.Add(450 * time.Millisecond), zero.Add(5 * time.Second)}
	xy := counts(acks, zero, zero.Add(-200*time.Millisecond), zero.Add(time.Second))
	if len(xy) != 13 || xy[0].X != -0.2 || xy[0].Y != 2 || xy[6].Y != 1 || xy[1].Y != 0 {
		t.Fatalf("buckets %v", xy)
	}
	total := 0.0
	for _, v := range xy {
		total += v.Y
	}
	if total != 3 {
		t.Errorf("%v writes counted, want the 3 inside the window", total)
	}
}

func TestDrawWritesAnSVGWithThePhases(t *testing.T) {
	zero := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	res := demo.Result{Crash: zero, ExecutionStart: zero.Add(300 * time.Millisecond), FirstWriteAt: zero.Add(700 * time.Millisecond),
		Steps: []demo.Step{{Name: "Fence", Start: zero.Add(310 * time.Millisecond), End: zero.Add(500 * time.Millisecond)}}}
	for i := -40; i < 60; i++ {
		if i < 0 || i > 14 {
			res.AckTimes = append(res.AckTimes, zero.Add(time.Duration(i)*50*time.Millisecond))
		}
	}
	path := filepath.Join(t.TempDir(), "t.svg")
	if err := drawTimeline(res, "test", path); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "fault +0.00s", "execution +0.30s", "Fence done +0.50s", "first write +0.70s"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

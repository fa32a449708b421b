package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/switchyard/switchyard/internal/demo"
)

// bucket is the width of one bar of the picture.
const bucket = 100 * time.Millisecond

// marker is one phase boundary drawn as a vertical line.
type marker struct {
	at    time.Time
	label string
}

// markers lists the phases of a run that happened.
func markers(res demo.Result) []marker {
	var ms []marker
	add := func(at time.Time, label string) {
		if !at.IsZero() {
			ms = append(ms, marker{at, label})
		}
	}
	zero := "fault"
	if res.Switchover {
		zero = "switchover requested"
	}
	add(res.Crash, zero)
	add(res.AlarmAt, "alarm")
	add(res.ExecutionStart, "execution")
	for _, s := range res.Steps {
		switch s.Name {
		case "Fence", "Promote", "Reroute":
			add(s.End, s.Name+" done")
		}
	}
	add(res.FirstWriteAt, "first write")
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].at.Before(ms[j].at) })
	return ms
}

// counts buckets the acknowledgements from start to end, relative to zero.
func counts(acks []time.Time, zero, start, end time.Time) plotter.XYs {
	n := int(end.Sub(start)/bucket) + 1
	xy := make(plotter.XYs, n)
	for i := range xy {
		xy[i].X = start.Add(time.Duration(i) * bucket).Sub(zero).Seconds()
	}
	for _, t := range acks {
		if t.Before(start) || !t.Before(end) {
			continue
		}
		xy[int(t.Sub(start)/bucket)].Y++
	}
	return xy
}

// drawTimeline writes the timeline of res as an SVG at path.
func drawTimeline(res demo.Result, title, path string) error {
	zero := res.Crash
	// From 2 s before the fault to 2 s after the first write, or the
	// client's last write if it stopped sooner.
	start, end := zero.Add(-2*time.Second), res.FirstWriteAt.Add(2*time.Second)
	if n := len(res.AckTimes); n > 0 && res.AckTimes[n-1].Add(bucket).Before(end) {
		end = res.AckTimes[n-1].Add(bucket)
	}
	xy := counts(res.AckTimes, zero, start, end)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds from the fault"
	if res.Switchover {
		p.X.Label.Text = "seconds from the switchover request"
	}
	p.Y.Label.Text = "acknowledged writes per 100 ms"
	line, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("plotting the writes: %w", err)
	}
	line.StepStyle = plotter.PostStep
	line.FillColor = color.NRGBA{R: 70, G: 130, B: 180, A: 140}
	line.Color = color.NRGBA{R: 30, G: 80, B: 140, A: 255}
	p.Add(line)
	top := 0.0
	for _, v := range xy {
		top = max(top, v.Y)
	}
	top = max(top+1, 2)
	p.Y.Max = top * 1.45
	var labels plotter.XYLabels
	for i, m := range markers(res) {
		x := m.at.Sub(zero).Seconds()
		v, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top}})
		if err != nil {
			return err
		}
		v.Color = color.NRGBA{R: 200, G: 60, B: 40, A: 255}
		v.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		p.Add(v)
		// Stagger the labels so that close phases stay readable.
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: top * (1.02 + float64(i%4)*0.1)})
		labels.Labels = append(labels.Labels, fmt.Sprintf("%s %+.2fs", m.label, x))
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(7)
		l.TextStyle[i].XAlign = draw.XLeft
	}
	p.Add(l)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if err := p.Save(9*vg.Inch, 3.5*vg.Inch, path); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return nil
}

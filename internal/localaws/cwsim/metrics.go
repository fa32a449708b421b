package cwsim

import (
	"math"
	"sort"
	"strings"
	"time"
)

// Dimension is a name/value pair that is part of a metric's identity.
type Dimension struct {
	Name, Value string
}

// Metric identifies a metric. Dimension order does not matter.
type Metric struct {
	Namespace  string
	Name       string
	Dimensions []Dimension
}

func (m Metric) key() string {
	dims := append([]Dimension(nil), m.Dimensions...)
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, d := range dims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte('=')
		b.WriteString(d.Value)
	}
	return b.String()
}

// Datapoint is one stored statistic set: every value published for a metric
// with one unit at one timestamp of its storage resolution (the second for
// high-resolution data, the minute otherwise).
type Datapoint struct {
	Timestamp   time.Time
	Unit        string
	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
}

// Statistic names the service computes.
const (
	statAverage     = "Average"
	statSum         = "Sum"
	statMinimum     = "Minimum"
	statMaximum     = "Maximum"
	statSampleCount = "SampleCount"
)

func validStatistic(s string) bool {
	switch s {
	case statAverage, statSum, statMinimum, statMaximum, statSampleCount:
		return true
	}
	return false
}

// stats is a statistic set; it merges exactly.
type stats struct {
	count, sum, min, max float64
}

func (a *stats) merge(b stats) {
	if a.count == 0 {
		*a = b
		return
	}
	a.count += b.count
	a.sum += b.sum
	a.min = math.Min(a.min, b.min)
	a.max = math.Max(a.max, b.max)
}

func (a stats) value(stat string) float64 {
	switch stat {
	case statAverage:
		return a.sum / a.count
	case statSum:
		return a.sum
	case statMinimum:
		return a.min
	case statMaximum:
		return a.max
	default:
		return a.count
	}
}

type slot struct {
	ts   int64 // unix seconds
	unit string
	st   stats
}

// series holds the datapoints of one metric, sorted by timestamp.
type series struct {
	metric Metric
	slots  []slot
}

// add merges st into the slot of (ts, unit).
func (sr *series) add(ts int64, unit string, st stats) {
	i := sort.Search(len(sr.slots), func(i int) bool { return sr.slots[i].ts >= ts })
	for j := i; j < len(sr.slots) && sr.slots[j].ts == ts; j++ {
		if sr.slots[j].unit == unit {
			sr.slots[j].st.merge(st)
			return
		}
	}
	sr.slots = append(sr.slots, slot{})
	copy(sr.slots[i+1:], sr.slots[i:])
	sr.slots[i] = slot{ts: ts, unit: unit, st: st}
}

// aggregate merges the slots with from <= ts < to and, when unit is not
// empty, that unit. ok is false when there are none.
func (sr *series) aggregate(from, to int64, unit string) (st stats, ok bool) {
	i := sort.Search(len(sr.slots), func(i int) bool { return sr.slots[i].ts >= from })
	for ; i < len(sr.slots) && sr.slots[i].ts < to; i++ {
		if unit != "" && sr.slots[i].unit != unit {
			continue
		}
		st.merge(sr.slots[i].st)
		ok = true
	}
	return st, ok
}

// trim drops slots older than before.
func (sr *series) trim(before int64) {
	i := sort.Search(len(sr.slots), func(i int) bool { return sr.slots[i].ts >= before })
	if i > 0 {
		sr.slots = append(sr.slots[:0:0], sr.slots[i:]...)
	}
}

// Datapoints returns the stored datapoints of metric, oldest first; none
// when nothing was published for it.
func (s *Service) Datapoints(metric Metric) []Datapoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr := s.metrics[metric.key()]
	if sr == nil {
		return nil
	}
	out := make([]Datapoint, 0, len(sr.slots))
	for _, sl := range sr.slots {
		out = append(out, Datapoint{
			Timestamp: time.Unix(sl.ts, 0).UTC(), Unit: sl.unit,
			SampleCount: sl.st.count, Sum: sl.st.sum, Minimum: sl.st.min, Maximum: sl.st.max,
		})
	}
	return out
}

// Metrics returns the metrics that have datapoints, sorted by namespace,
// name and dimensions.
func (s *Service) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.metrics))
	for k := range s.metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Metric, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.metrics[k].metric)
	}
	return out
}

package cwsim

import (
	"sort"
	"time"
)

// sample is the statistic of one period of an alarm's evaluation range.
type sample struct {
	start       time.Time
	present     bool
	value       float64
	sampleCount float64
}

// verdict is the outcome of one alarm evaluation.
type verdict struct {
	state     string   // new state; "" keeps the current one (ignore with no usable data)
	samples   []sample // the whole evaluation range, newest first
	evaluated []sample // the real datapoints evaluated, newest first
	breaching int      // breaching real datapoints among evaluated
	filled    int      // missing datapoints filled in per TreatMissingData
	treat     string
	n, m      int
}

// decide applies the rules of "How alarm state is evaluated when data is
// missing" (CloudWatch user guide) to an evaluation range, newest first:
//
//   - with at least n real datapoints, the n most recent are evaluated and
//     TreatMissingData is not used;
//   - otherwise every real datapoint is evaluated and the missing ones are
//     filled in, only as many as needed to reach n: as breaching, as not
//     breaching, or (missing, ignore) not at all;
//   - the alarm goes to ALARM when at least m evaluated datapoints breach,
//     else to OK; with missing/ignore and no real non-breaching datapoint it
//     cannot tell OK, so it goes to INSUFFICIENT_DATA (missing) or keeps its
//     state (ignore).
func decide(samples []sample, n, m int, treat string, breaches func(float64) bool) verdict {
	v := verdict{samples: samples, treat: treat, n: n, m: m}
	for _, s := range samples {
		if s.present && len(v.evaluated) < n {
			v.evaluated = append(v.evaluated, s)
		}
	}
	for _, s := range v.evaluated {
		if breaches(s.value) {
			v.breaching++
		}
	}
	v.filled = n - len(v.evaluated)
	bad, good := v.breaching, len(v.evaluated)-v.breaching
	switch {
	case v.filled == 0:
	case treat == treatBreaching:
		bad += v.filled
	case treat == treatNotBreaching:
		good += v.filled
	}
	switch {
	case bad >= m:
		v.state = StateAlarm
	case good > 0:
		v.state = StateOK
	case treat == treatIgnore:
		v.state = ""
	default:
		v.state = StateInsufficientData
	}
	return v
}

// evaluationRangeLocked reads the statistic of the alarm's metric for the most
// recent complete periods before now, newest first. Periods are aligned to
// multiples of the period since the epoch. s.mu must be held.
func (s *Service) evaluationRangeLocked(a *alarm, now time.Time) []sample {
	p := a.period
	end := now.Unix() - mod(now.Unix(), p)
	count := a.evaluationPeriods + s.opts.ExtraEvaluationPeriods
	sr := s.metrics[a.metric.key()]
	out := make([]sample, 0, count)
	for k := 1; k <= count; k++ {
		from := end - int64(k)*p
		smp := sample{start: time.Unix(from, 0).UTC()}
		if sr != nil {
			if st, ok := sr.aggregate(from, from+p, a.unit); ok {
				smp.present, smp.value, smp.sampleCount = true, st.value(a.statistic), st.count
			}
		}
		out = append(out, smp)
	}
	return out
}

// EvaluateNow evaluates every alarm as of now, changes the state of those
// whose outcome differs from their state, and publishes one state change
// event per change, in alarm name order. Evaluation is deterministic in now
// and the stored datapoints, which lets tests drive alarms with a synthetic
// clock; Start calls it on a ticker with the service clock.
func (s *Service) EvaluateNow(now time.Time) {
	now = now.UTC()
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	s.mu.Lock()
	names := make([]string, 0, len(s.alarms))
	for n := range s.alarms {
		names = append(names, n)
	}
	sort.Strings(names)
	var events [][]byte
	for _, n := range names {
		a := s.alarms[n]
		v := decide(s.evaluationRangeLocked(a, now), a.evaluationPeriods, a.requiredBreaches(), a.treatment(), a.breaches)
		if v.state == "" || v.state == a.state.Value {
			continue
		}
		next := AlarmState{Value: v.state, Updated: now}
		next.Reason = stateReason(a, v)
		next.ReasonData = stateReasonData(a, v, now)
		events = append(events, s.transitionLocked(a, next))
	}
	s.mu.Unlock()
	s.publish(events)
}

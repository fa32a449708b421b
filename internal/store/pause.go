package store

import (
	"context"
	"fmt"
	"time"
)

// Pause is maintenance mode: while it is active, automatic triggers (the
// alarms, the fast path) are acknowledged and recorded but change nothing,
// and the agents neither restart a stopped PostgreSQL nor rejoin a former
// primary. Manual failovers and switchovers still run, and the agents
// still enforce the primary lease: a pause never lets two nodes write.
type Pause struct {
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
	// Until ends the pause by itself; zero pauses until resumed.
	Until time.Time `json:"until,omitzero"`
}

// Active reports whether the pause holds at now.
func (p *Pause) Active(now time.Time) bool {
	return p != nil && (p.Until.IsZero() || now.Before(p.Until))
}

// Paused reports whether maintenance mode holds at now.
func (r Record) Paused(now time.Time) bool { return r.Pause.Active(now) }

// SetPause turns maintenance mode on (or changes it) and records it in the
// history.
func (s *Store) SetPause(ctx context.Context, cluster string, p Pause) (Record, error) {
	if p.By == "" || p.Since.IsZero() {
		return Record{}, fmt.Errorf("pausing cluster %q: who and since when are required", cluster)
	}
	if !p.Until.IsZero() && !p.Until.After(p.Since) {
		return Record{}, fmt.Errorf("pausing cluster %q: the pause would end (%s) before it starts (%s)", cluster,
			p.Until.Format(time.RFC3339), p.Since.Format(time.RFC3339))
	}
	return s.update(ctx, "pausing", cluster, withHistory, func(rec *Record) (bool, error) {
		c := p
		rec.Pause = &c
		until := "until resumed"
		if !p.Until.IsZero() {
			until = "until " + p.Until.UTC().Format(time.RFC3339)
		}
		reason := fmt.Sprintf("by %s, %s: %s", p.By, until, p.Reason)
		rec.History = appendHistory(rec.History, bounded(HistoryEntry{Action: ActionPause, Outcome: OutcomeSucceeded,
			Execution: p.By, Epoch: rec.Epoch, Reason: reason, StartedAt: p.Since.UTC(), FinishedAt: p.Since.UTC()}))
		return true, nil
	})
}

// ClearPause ends maintenance mode and records it; resuming a cluster that
// is not paused changes nothing.
func (s *Store) ClearPause(ctx context.Context, cluster, by string, now time.Time) (Record, error) {
	return s.update(ctx, "resuming", cluster, withHistory, func(rec *Record) (bool, error) {
		if rec.Pause == nil {
			return false, nil
		}
		rec.Pause = nil
		rec.History = appendHistory(rec.History, bounded(HistoryEntry{Action: ActionResume, Outcome: OutcomeSucceeded,
			Execution: by, Epoch: rec.Epoch, Reason: "by " + by, StartedAt: now.UTC(), FinishedAt: now.UTC()}))
		return true, nil
	})
}

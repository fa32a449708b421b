package store

import (
	"regexp"
	"unicode/utf8"
)

// appendHistory returns hist with entry recorded, under the retention rules
// of the record:
//
//   - A routine entry (Routine: refused or not-needed, nothing changed)
//     whose kind equals the newest entry's (sameKind) is merged into it:
//     the merged entry describes the latest attempt and counts them all,
//     with the first attempt's epoch, execution and finish time. A refusal
//     repeated every 31 s for an hour is one entry, "refused ×116 since …".
//   - Routine and important entries are bounded separately: the oldest
//     routine entry goes when there are more than MaxRoutine of them, the
//     oldest important one when there are more than MaxHistory. Routine
//     outcomes therefore never push out a primary change or a failure.
//
// The order stays oldest first. hist is not modified.
func appendHistory(hist []HistoryEntry, entry HistoryEntry) []HistoryEntry {
	out := make([]HistoryEntry, 0, len(hist)+1)
	out = append(out, hist...)
	if n := len(out); n > 0 && entry.Routine() && out[n-1].Routine() && sameKind(out[n-1], entry) {
		out[n-1] = coalesce(out[n-1], entry)
	} else {
		out = append(out, entry)
	}
	return retain(out)
}

// coalesce merges next into prev, both routine and of the same kind.
func coalesce(prev, next HistoryEntry) HistoryEntry {
	merged := next
	merged.Count = prev.Occurrences() + next.Occurrences()
	merged.FirstEpoch, merged.FirstExecution, merged.FirstFinishedAt = prev.Epoch, prev.Execution, prev.FinishedAt
	if prev.Occurrences() > 1 {
		merged.FirstEpoch, merged.FirstExecution, merged.FirstFinishedAt = prev.FirstEpoch, prev.FirstExecution, prev.FirstFinishedAt
	}
	return merged
}

// retain drops the oldest entries of each class beyond its bound.
func retain(hist []HistoryEntry) []HistoryEntry {
	routine, important := 0, 0
	keep := make([]bool, len(hist))
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Routine() {
			routine++
			keep[i] = routine <= MaxRoutine
		} else {
			important++
			keep[i] = important <= MaxHistory
		}
	}
	out := hist[:0]
	for i, h := range hist {
		if keep[i] {
			out = append(out, h)
		}
	}
	return out
}

// sameKind reports whether two entries record the same situation: the same
// action, outcome and nodes, nothing committed, and reasons that differ at
// most in their numbers (ages, byte counts, LSNs, times, identifiers), so
// that "heartbeat 45s old" and "heartbeat 76s old" coalesce while "no
// healthy standby" and "stale evidence" do not.
func sameKind(a, b HistoryEntry) bool {
	return a.Action == b.Action && a.Outcome == b.Outcome && a.From == b.From && a.To == b.To &&
		a.Committed == b.Committed && reasonShape(a.Reason) == reasonShape(b.Reason)
}

// numeric matches a run of digits, hexadecimal digits and dots holding at
// least one decimal digit: 45, 1.5, 0/3000060's halves, 2026, b2e761d3.
var numeric = regexp.MustCompile(`[0-9A-Fa-f.]*[0-9][0-9A-Fa-f.]*`)

// reasonShape is a reason with every number replaced by "#".
func reasonShape(reason string) string {
	return numeric.ReplaceAllString(reason, "#")
}

// bounded returns entry with every field cut to its bound (maxReasonLen,
// maxNameLen, maxSteps, maxStepLen, maxExecutionLen).
func bounded(entry HistoryEntry) HistoryEntry {
	entry.Reason = clip(entry.Reason, maxReasonLen)
	entry.Action = clip(entry.Action, maxNameLen)
	entry.Trigger = clip(entry.Trigger, maxTriggerLen)
	entry.Outcome = clip(entry.Outcome, maxNameLen)
	entry.From = clip(entry.From, maxNameLen)
	entry.To = clip(entry.To, maxNameLen)
	entry.Execution = clip(entry.Execution, maxExecutionLen)
	if len(entry.Steps) > maxSteps {
		entry.Steps = entry.Steps[:maxSteps]
	}
	steps := make([]string, len(entry.Steps))
	for i, s := range entry.Steps {
		steps[i] = clip(s, maxStepLen)
	}
	if entry.Steps != nil {
		entry.Steps = steps
	}
	if entry.StepMs != nil {
		ms := make(map[string]int64, len(entry.StepMs))
		for _, s := range entry.Steps {
			if v, ok := entry.StepMs[s]; ok {
				ms[s] = v
			}
		}
		entry.StepMs = ms
	}
	return entry
}

// clip cuts s to at most n bytes, at a UTF-8 character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

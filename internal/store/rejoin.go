package store

import (
	"context"
	"fmt"
)

// RecordRejoin appends a rejoin entry (ActionRejoin) to the history for
// the agent of node, a former primary that rewound its data directory and
// follows the recorded primary. Only a node that is not the recorded
// primary may write it; the entry's From is node and To the primary it
// follows. Rejoins never change the primary, the lease or the lock.
func (s *Store) RecordRejoin(ctx context.Context, cluster, node string, entry HistoryEntry) (Record, error) {
	return s.update(ctx, "recording the rejoin of "+node, cluster, func(rec *Record) (bool, error) {
		if rec.Primary == node {
			return false, fmt.Errorf("recording the rejoin of %s in cluster %q: it is the recorded primary", node, cluster)
		}
		entry.Action, entry.From, entry.To, entry.Epoch = ActionRejoin, node, rec.Primary, rec.Epoch
		if entry.Execution == "" {
			entry.Execution = "agent-" + node
		}
		if entry.FinishedAt.IsZero() {
			entry.FinishedAt = s.Now().UTC()
		}
		entry.Count, entry.FirstEpoch, entry.FirstExecution = 0, 0, ""
		rec.History = appendHistory(rec.History, bounded(entry))
		return true, nil
	})
}

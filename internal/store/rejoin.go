package store

import (
	"context"
	"fmt"
	"time"
)

// RecordRejoin appends a rejoin entry (ActionRejoin) to the history for
// the agent of node, a former primary that rewound its data directory and
// follows the recorded primary. Only a node that is not the recorded
// primary may write it; the entry's From is node and To the primary it
// follows. Rejoins never change the primary, the lease or the lock.
func (s *Store) RecordRejoin(ctx context.Context, cluster, node string, entry HistoryEntry) (Record, error) {
	return s.update(ctx, "recording the rejoin of "+node, cluster, withHistory, func(rec *Record) (bool, error) {
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
		if r := rec.RejoinRequest; r != nil && r.Node == node {
			rec.RejoinRequest = nil
		}
		return true, nil
	})
}

// RejoinRequest is an operator's request that node rejoin as a standby.
type RejoinRequest struct {
	Node string    `json:"node"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// RequestRejoin records that node should rejoin (its agent acts on it even
// with automatic rejoin off). The recorded primary cannot be asked to.
func (s *Store) RequestRejoin(ctx context.Context, cluster, node, by string, now time.Time) (Record, error) {
	return s.update(ctx, "requesting the rejoin of "+node, cluster, stateOnly, func(rec *Record) (bool, error) {
		if rec.Primary == node {
			return false, fmt.Errorf("requesting the rejoin of %s in cluster %q: it is the recorded primary; only a former primary rejoins", node, cluster)
		}
		rec.RejoinRequest = &RejoinRequest{Node: node, By: by, At: now.UTC()}
		return true, nil
	})
}

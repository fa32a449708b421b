package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// historySuffix turns a cluster name into the key of its history item.
// Cluster names are lower-case letters, digits and dashes, so no cluster's
// record item can have this key.
const historySuffix = "#history"

// Attributes of the history item besides cluster (its key) and history.
const (
	// attrRecordVersion is the record item's version written in the same
	// transaction as the history item.
	attrRecordVersion = "recordVersion"
)

// HistoryKey is the key ("cluster" attribute) of the item holding the
// cluster's history, next to its record item keyed by the cluster name.
func HistoryKey(cluster string) string { return cluster + historySuffix }

// ParseHistoryKey reports whether key is a history item's key, and the
// cluster it belongs to.
func ParseHistoryKey(key string) (cluster string, ok bool) {
	return strings.CutSuffix(key, historySuffix)
}

// snapshot is what the store read of a cluster: the record, with the
// history when it was asked for, and the history the record item itself
// held (the layout of versions that kept the history inline).
type snapshot struct {
	rec Record
	// inline is the history found inside the record item: written by an
	// earlier version, moved to the history item by the next write that
	// changes the history. A write that leaves the history alone writes it
	// back as it was.
	inline []HistoryEntry
	// withHistory says rec.History is the cluster's whole history (the
	// history item was read, or the record item held it); otherwise it is
	// at most the inline part and must not be changed.
	withHistory bool
}

// load reads the record item and, withHistory, the history item, both
// with ConsistentRead. The two reads are not one snapshot: when the
// history item was written after the record item was read (its
// recordVersion is newer), both are read again.
func (s *Store) load(ctx context.Context, cluster string, withHistory bool) (snapshot, error) {
	for attempt := 1; attempt <= maxCASAttempts; attempt++ {
		rec, err := s.getItem(ctx, cluster, cluster)
		if err != nil {
			return snapshot{}, err
		}
		if rec == nil {
			return snapshot{}, &ErrNoRecord{Cluster: cluster}
		}
		r, err := unmarshal(rec)
		if err != nil {
			return snapshot{}, fmt.Errorf("cluster %q in table %s: %w", cluster, s.table, err)
		}
		snap := snapshot{rec: r, inline: r.History}
		if !withHistory {
			return snap, nil
		}
		hist, err := s.getItem(ctx, cluster, HistoryKey(cluster))
		if err != nil {
			return snapshot{}, err
		}
		snap.withHistory = true
		if hist == nil {
			return snap, nil // no history yet, or all of it inline
		}
		h, err := decodeHistoryItem(hist)
		if err != nil {
			return snapshot{}, fmt.Errorf("cluster %q in table %s: %w", cluster, s.table, err)
		}
		if h.Version > r.Version {
			continue // a write landed between the two reads
		}
		// Entries inline next to a history item were appended by an
		// earlier version's writer after the move (during an upgrade):
		// they are newer.
		snap.rec.History = retain(append(h.History, r.History...))
		return snap, nil
	}
	return snapshot{}, &ErrContended{Cluster: cluster, Attempts: maxCASAttempts}
}

// getItem reads one item of the cluster by key, nil when there is none.
func (s *Store) getItem(ctx context.Context, cluster, k string) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(k),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		what := "reading cluster record"
		if k != cluster {
			what = "reading cluster history"
		}
		return nil, s.wrap(what, cluster, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// write stores next, read as snap, conditioned on the record item still
// having version read. When the history is what was read, only the record
// item is written (a lease renewal's one small PutItem), with any inline
// history as it was. Otherwise the record item (without history) and the
// history item are written in one transaction: the record's condition
// guards both, so the history item needs none.
func (s *Store) write(ctx context.Context, snap snapshot, next Record, read int64) error {
	cond := aws.String("#v = :v")
	names := map[string]string{"#v": attrVersion}
	values := item{":v": num(read)}
	if historyEqual(snap.rec.History, next.History) {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(s.table),
			Item:                      marshalRecord(next, snap.inline),
			ConditionExpression:       cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		return err
	}
	if !snap.withHistory {
		// A change function of an operation that reads no history changed
		// it: writing would replace the history with a fragment.
		return fmt.Errorf("internal error: the history of cluster %q changed but was not read", next.Cluster)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: marshalRecord(next, nil),
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: marshalHistory(next)}},
	}})
	return err
}

// historyEqual reports whether two histories hold the same entries.
func historyEqual(a, b []HistoryEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// marshalHistory is the history item of a record: its history, the
// version the record item gets in the same write, and the record's
// primary and epoch after it, so that a stream image of the history item
// alone tells who is primary.
func marshalHistory(r Record) item {
	it := item{
		attrCluster:       str(HistoryKey(r.Cluster)),
		attrRecordVersion: num(r.Version),
		attrEpoch:         num(r.Epoch),
		attrHistory:       marshalEntries(r.History),
	}
	if r.Primary != "" {
		it[attrPrimary] = str(r.Primary)
	}
	return it
}

// decodeHistoryItem reads a history item into a Record holding the
// cluster name, the primary, the epoch, the history and, as Version, the
// record version written with it.
func decodeHistoryItem(it item) (Record, error) {
	d := decoder{it: it}
	k := d.str(attrCluster)
	cluster, ok := ParseHistoryKey(k)
	if d.err == nil && !ok {
		return Record{}, fmt.Errorf("decoding cluster history: key %q is not a history item's", k)
	}
	r := Record{Cluster: cluster, Primary: d.str(attrPrimary), Epoch: d.num(attrEpoch), Version: d.num(attrRecordVersion)}
	if d.err != nil {
		return Record{}, d.err
	}
	hist, err := unmarshalEntries(d.list(attrHistory))
	if err != nil {
		return Record{}, err
	}
	if d.err != nil {
		return Record{}, d.err
	}
	r.History = hist
	return r, nil
}

package ddbsim

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Stream view types (StreamSpecification.StreamViewType).
const (
	ViewKeysOnly       = "KEYS_ONLY"
	ViewNewImage       = "NEW_IMAGE"
	ViewOldImage       = "OLD_IMAGE"
	ViewNewAndOldImage = "NEW_AND_OLD_IMAGES"
)

// streamRetention is how long DynamoDB Streams keeps a record.
const streamRetention = 24 * time.Hour

type streamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType"`
}

// stream is a table's change log: one record per item-level change, in
// order, as DynamoDB Streams keeps it (a single shard here).
type stream struct {
	viewType string
	label    string
	arn      string

	mu      sync.Mutex
	records []StreamRecord
	next    uint64        // sequence number of the next record
	changed chan struct{} // closed and replaced on every append
}

// StreamRecord is one change as DynamoDB Streams' GetRecords returns it.
type StreamRecord struct {
	// Seq orders the records of a stream; JSON carries it as the
	// SequenceNumber string.
	Seq  uint64
	At   time.Time
	JSON json.RawMessage
}

func newStream(viewType, tableArn string, created time.Time) *stream {
	label := created.UTC().Format("2006-01-02T15:04:05.000")
	return &stream{viewType: viewType, label: label, arn: tableArn + "/stream/" + label, next: 100, changed: make(chan struct{})}
}

func validStreamSpec(spec *streamSpecification) error {
	if spec == nil || !spec.StreamEnabled {
		if spec != nil && spec.StreamViewType != "" {
			return validation("One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false")
		}
		return nil
	}
	switch spec.StreamViewType {
	case ViewKeysOnly, ViewNewImage, ViewOldImage, ViewNewAndOldImage:
		return nil
	case "":
		return validation("One or more parameter values were invalid: Must specify a StreamViewType when StreamEnabled is true")
	}
	return validation("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", spec.StreamViewType)
}

// record appends the change of one item (old or cur nil for an insert or
// a removal); an unchanged item is no record, as in DynamoDB.
func (st *stream) record(region string, keys, old, cur item, now time.Time) {
	if st == nil || (old == nil && cur == nil) || (old != nil && cur != nil && itemsEqual(old, cur)) {
		return
	}
	event := "MODIFY"
	switch {
	case old == nil:
		event = "INSERT"
	case cur == nil:
		event = "REMOVE"
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	seq := st.next
	st.next++
	body := map[string]any{
		"ApproximateCreationDateTime": now.Unix(),
		"Keys":                        keys,
		"SequenceNumber":              fmt.Sprintf("%021d", seq),
		"SizeBytes":                   itemBytes(keys) + itemBytes(old) + itemBytes(cur),
		"StreamViewType":              st.viewType,
	}
	if cur != nil && (st.viewType == ViewNewImage || st.viewType == ViewNewAndOldImage) {
		body["NewImage"] = cur.clone()
	}
	if old != nil && (st.viewType == ViewOldImage || st.viewType == ViewNewAndOldImage) {
		body["OldImage"] = old.clone()
	}
	raw, err := json.Marshal(map[string]any{
		"eventID": fmt.Sprintf("%032x", seq), "eventName": event, "eventVersion": "1.1",
		"eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": body,
	})
	if err != nil {
		panic(fmt.Sprintf("ddbsim: encoding a stream record: %v", err)) // items always encode
	}
	st.records = append(st.records, StreamRecord{Seq: seq, At: now, JSON: raw})
	for len(st.records) > 0 && now.Sub(st.records[0].At) > streamRetention {
		st.records = st.records[1:]
	}
	close(st.changed)
	st.changed = make(chan struct{})
}

func itemBytes(it item) int {
	n := 0
	for name, a := range it {
		size, _ := a.size()
		n += len(name) + size
	}
	return n
}

// StreamReader reads a table's stream in process, as Lambda's event
// source mapping polls it.
type StreamReader struct{ st *stream }

// Stream returns a reader of the table's stream, or an error when the
// table does not exist or has no stream.
func (s *Service) Stream(tableName string) (*StreamReader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[tableName]
	switch {
	case !ok:
		return nil, fmt.Errorf("ddbsim: no table %s", tableName)
	case t.stream == nil:
		return nil, fmt.Errorf("ddbsim: table %s has no stream", tableName)
	}
	return &StreamReader{st: t.stream}, nil
}

// Arn is the stream's ARN (LatestStreamArn).
func (r *StreamReader) Arn() string { return r.st.arn }

// Latest is the sequence number the next record will have: reading from
// it is StartingPosition LATEST.
func (r *StreamReader) Latest() uint64 {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return r.st.next
}

// Read returns up to max records with sequence numbers from on, and a
// channel closed when a record is appended after them.
func (r *StreamReader) Read(from uint64, max int) ([]StreamRecord, <-chan struct{}) {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	var out []StreamRecord
	for _, rec := range r.st.records {
		if rec.Seq >= from && len(out) < max {
			out = append(out, rec)
		}
	}
	return out, r.st.changed
}

func itemsEqual(a, b item) bool {
	if len(a) != len(b) {
		return false
	}
	for name, av := range a {
		bv, ok := b[name]
		if !ok || !av.equal(bv) {
			return false
		}
	}
	return true
}

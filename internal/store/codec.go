package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the item.
const (
	attrCluster   = "cluster"
	attrEpoch     = "epoch"
	attrPrimary   = "primary"
	attrLock      = "failoverLock"
	attrHolder    = "holder"
	attrExpires   = "expires"
	attrUpdatedAt = "updatedAt"
	attrVersion   = "version"
	attrHistory   = "history"
	attrPrimLease = "primaryLease"
	attrStandby   = "standby"
	attrPause     = "pause"
	attrRejoinReq = "rejoinRequest"
)

type item = map[string]types.AttributeValue

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func timeAttr(t time.Time) types.AttributeValue { return str(t.UTC().Format(time.RFC3339Nano)) }

// key is the primary key of an item: a cluster's record item (the cluster
// name) or its history item (HistoryKey).
func key(k string) item { return item{attrCluster: str(k)} }

// marshalRecord turns a record into its record item, without r.History
// (the history item holds it, see marshalHistory) but with inline, the
// history an earlier version kept inside the record item, when there is
// any. Empty strings and zero times are left out rather than stored empty.
func marshalRecord(r Record, inline []HistoryEntry) item {
	it := item{
		attrCluster:   str(r.Cluster),
		attrEpoch:     num(r.Epoch),
		attrVersion:   num(r.Version),
		attrUpdatedAt: timeAttr(r.UpdatedAt),
	}
	if r.Primary != "" {
		it[attrPrimary] = str(r.Primary)
	}
	if r.Lock != nil {
		it[attrLock] = &types.AttributeValueMemberM{Value: item{
			attrHolder:  str(r.Lock.Holder),
			attrExpires: num(r.Lock.Expires.UnixMilli()),
		}}
	}
	if l := r.PrimaryLease; l != nil {
		m := item{"node": str(l.Node), "term": num(l.Term), "renewed": num(l.Renewed.UnixMilli()),
			"expires": num(l.Expires.UnixMilli()), "lsn": &types.AttributeValueMemberN{Value: strconv.FormatUint(l.LSN, 10)},
			"hardFenced": &types.AttributeValueMemberBOOL{Value: l.HardFenced}}
		if l.SyncStandby != "" {
			m["syncStandby"] = str(l.SyncStandby)
		}
		if l.RevokedBy != "" {
			m["revokedBy"], m["revokedAt"] = str(l.RevokedBy), timeAttr(l.RevokedAt)
		}
		if l.DetachedBy != "" {
			m["detachedBy"], m["detachedAt"] = str(l.DetachedBy), timeAttr(l.DetachedAt)
		}
		if l.GrantedBy != "" {
			m["grantedBy"], m["grantedFrom"] = str(l.GrantedBy), str(l.GrantedFrom)
		}
		if l.Planned {
			m["planned"] = &types.AttributeValueMemberBOOL{Value: true}
		}
		if !l.DemotedAt.IsZero() {
			m["demotedAt"] = timeAttr(l.DemotedAt)
			m["finalLsn"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(l.FinalLSN, 10)}
		}
		if l.Timeline > 0 {
			m["timeline"] = num(int64(l.Timeline))
		}
		if len(l.Replicas) > 0 {
			reps := make([]types.AttributeValue, len(l.Replicas))
			for i, rp := range l.Replicas {
				reps[i] = &types.AttributeValueMemberM{Value: item{"node": str(rp.Node), "state": str(rp.State), "sync": str(rp.Sync),
					"replayLsn": &types.AttributeValueMemberN{Value: strconv.FormatUint(rp.ReplayLSN, 10)}, "replayLagMs": num(rp.ReplayLagMs)}}
			}
			m["replicas"] = &types.AttributeValueMemberL{Value: reps}
		}
		it[attrPrimLease] = &types.AttributeValueMemberM{Value: m}
	}
	if st := r.Standby; st != nil {
		m := item{"node": str(st.Node), "eligible": &types.AttributeValueMemberBOOL{Value: st.Eligible}, "changed": timeAttr(st.Changed)}
		if st.Reason != "" {
			m["reason"] = str(st.Reason)
		}
		it[attrStandby] = &types.AttributeValueMemberM{Value: m}
	}
	if p := r.Pause; p != nil {
		m := item{"by": str(p.By), "since": timeAttr(p.Since)}
		if p.Reason != "" {
			m["reason"] = str(p.Reason)
		}
		if !p.Until.IsZero() {
			m["until"] = timeAttr(p.Until)
		}
		it[attrPause] = &types.AttributeValueMemberM{Value: m}
	}
	if q := r.RejoinRequest; q != nil {
		it[attrRejoinReq] = &types.AttributeValueMemberM{Value: item{"node": str(q.Node), "by": str(q.By), "at": timeAttr(q.At)}}
	}
	if len(inline) > 0 {
		it[attrHistory] = marshalEntries(inline)
	}
	return it
}

func marshalEntries(hist []HistoryEntry) types.AttributeValue {
	l := make([]types.AttributeValue, 0, len(hist))
	for _, h := range hist {
		l = append(l, marshalEntry(h))
	}
	return &types.AttributeValueMemberL{Value: l}
}

func marshalEntry(h HistoryEntry) types.AttributeValue {
	m := item{
		"epoch":     num(h.Epoch),
		"committed": &types.AttributeValueMemberBOOL{Value: h.Committed},
	}
	for name, v := range map[string]string{
		"action": h.Action, "trigger": h.Trigger, "from": h.From, "to": h.To, "execution": h.Execution,
		"outcome": h.Outcome, "reason": h.Reason,
	} {
		if v != "" {
			m[name] = str(v)
		}
	}
	if !h.StartedAt.IsZero() {
		m["startedAt"] = timeAttr(h.StartedAt)
	}
	if !h.FinishedAt.IsZero() {
		m["finishedAt"] = timeAttr(h.FinishedAt)
	}
	if h.Count > 1 {
		m["count"] = num(int64(h.Count))
		m["firstEpoch"] = num(h.FirstEpoch)
		if h.FirstExecution != "" {
			m["firstExecution"] = str(h.FirstExecution)
		}
		if !h.FirstFinishedAt.IsZero() {
			m["firstFinishedAt"] = timeAttr(h.FirstFinishedAt)
		}
	}
	if len(h.Steps) > 0 {
		steps := make([]types.AttributeValue, len(h.Steps))
		for i, s := range h.Steps {
			steps[i] = str(s)
		}
		m["steps"] = &types.AttributeValueMemberL{Value: steps}
	}
	if len(h.StepMs) > 0 {
		ms := item{}
		for name, v := range h.StepMs {
			ms[name] = num(v)
		}
		m["stepMs"] = &types.AttributeValueMemberM{Value: ms}
	}
	return &types.AttributeValueMemberM{Value: m}
}

// EncodeRecord is the record item of a record as the store writes it:
// everything but the history (see EncodeHistory).
func EncodeRecord(r Record) map[string]types.AttributeValue { return marshalRecord(r, nil) }

// EncodeHistory is the history item of a record as the store writes it
// with a change of the history: the history, with the record's primary,
// epoch and version.
func EncodeHistory(r Record) map[string]types.AttributeValue { return marshalHistory(r) }

// DecodeRecord reads a record from an item of the cluster table, such as a
// stream record's image, of either kind: a record item decodes to the
// record without its history (unless an earlier version kept the history
// inside it); a history item (key HistoryKey(cluster)) to a Record holding
// only Cluster, Primary, Epoch, History and, as Version, the version of
// the record item written with it.
func DecodeRecord(it map[string]types.AttributeValue) (Record, error) {
	if k, ok := it[attrCluster].(*types.AttributeValueMemberS); ok {
		if _, isHistory := ParseHistoryKey(k.Value); isHistory {
			return decodeHistoryItem(it)
		}
	}
	return unmarshal(it)
}

// unmarshal reads a record from its record item, with the history an
// earlier version kept inside it, if any.
func unmarshal(it item) (Record, error) {
	d := decoder{it: it}
	r := Record{
		Cluster:   d.str(attrCluster),
		Epoch:     d.num(attrEpoch),
		Primary:   d.str(attrPrimary),
		Version:   d.num(attrVersion),
		UpdatedAt: d.time(attrUpdatedAt),
	}
	if m, ok := d.mapAttr(attrLock); ok {
		ld := decoder{it: m, path: attrLock + "."}
		r.Lock = &FailoverLock{Holder: ld.str(attrHolder), Expires: time.UnixMilli(ld.num(attrExpires)).UTC()}
		if ld.err != nil {
			d.err = ld.err
		}
	}
	if m, ok := d.mapAttr(attrPrimLease); ok {
		ld := decoder{it: m, path: attrPrimLease + "."}
		r.PrimaryLease = &PrimaryLease{Node: ld.str("node"), Term: ld.num("term"),
			Renewed: time.UnixMilli(ld.num("renewed")).UTC(), Expires: time.UnixMilli(ld.num("expires")).UTC(),
			LSN: ld.unsigned("lsn"), SyncStandby: ld.str("syncStandby"), RevokedBy: ld.str("revokedBy"),
			RevokedAt: ld.time("revokedAt"), HardFenced: ld.boolean("hardFenced"),
			DetachedBy: ld.str("detachedBy"), DetachedAt: ld.time("detachedAt"),
			GrantedBy: ld.str("grantedBy"), GrantedFrom: ld.str("grantedFrom"),
			Planned: ld.boolean("planned"), DemotedAt: ld.time("demotedAt"), FinalLSN: ld.unsigned("finalLsn"),
			Timeline: uint32(ld.num("timeline"))}
		for i, av := range ld.list("replicas") {
			rm, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return Record{}, fmt.Errorf("decoding cluster record: %sreplicas[%d] is not a map", ld.path, i)
			}
			rd := decoder{it: rm.Value, path: fmt.Sprintf("%sreplicas[%d].", ld.path, i)}
			r.PrimaryLease.Replicas = append(r.PrimaryLease.Replicas, ReplicaState{Node: rd.str("node"), State: rd.str("state"),
				Sync: rd.str("sync"), ReplayLSN: rd.unsigned("replayLsn"), ReplayLagMs: rd.num("replayLagMs")})
			if rd.err != nil {
				return Record{}, rd.err
			}
		}
		if ld.err != nil {
			d.err = ld.err
		}
	}
	if m, ok := d.mapAttr(attrStandby); ok {
		sd := decoder{it: m, path: attrStandby + "."}
		r.Standby = &StandbyState{Node: sd.str("node"), Eligible: sd.boolean("eligible"), Reason: sd.str("reason"), Changed: sd.time("changed")}
		if sd.err != nil {
			d.err = sd.err
		}
	}
	if m, ok := d.mapAttr(attrPause); ok {
		pd := decoder{it: m, path: attrPause + "."}
		r.Pause = &Pause{By: pd.str("by"), Reason: pd.str("reason"), Since: pd.time("since"), Until: pd.time("until")}
		if pd.err != nil {
			d.err = pd.err
		}
	}
	if m, ok := d.mapAttr(attrRejoinReq); ok {
		qd := decoder{it: m, path: attrRejoinReq + "."}
		r.RejoinRequest = &RejoinRequest{Node: qd.str("node"), By: qd.str("by"), At: qd.time("at")}
		if qd.err != nil {
			d.err = qd.err
		}
	}
	hist, err := unmarshalEntries(d.list(attrHistory))
	if err != nil {
		return Record{}, err
	}
	r.History = hist
	if d.err != nil {
		return Record{}, d.err
	}
	if r.Cluster == "" {
		return Record{}, fmt.Errorf("decoding cluster record: attribute %q is missing", attrCluster)
	}
	return r, nil
}

// unmarshalEntries reads a history list.
func unmarshalEntries(l []types.AttributeValue) ([]HistoryEntry, error) {
	var out []HistoryEntry
	for i, av := range l {
		m, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("decoding cluster record: history[%d] is not a map", i)
		}
		hd := decoder{it: m.Value, path: fmt.Sprintf("history[%d].", i)}
		h := HistoryEntry{
			Epoch: hd.num("epoch"), Action: hd.str("action"), Trigger: hd.str("trigger"), From: hd.str("from"), To: hd.str("to"),
			Execution: hd.str("execution"), Outcome: hd.str("outcome"), Reason: hd.str("reason"),
			Committed: hd.boolean("committed"), StartedAt: hd.time("startedAt"), FinishedAt: hd.time("finishedAt"),
			Count: int(hd.num("count")), FirstEpoch: hd.num("firstEpoch"), FirstExecution: hd.str("firstExecution"),
			FirstFinishedAt: hd.time("firstFinishedAt"),
		}
		for _, s := range hd.list("steps") {
			if sv, ok := s.(*types.AttributeValueMemberS); ok {
				h.Steps = append(h.Steps, sv.Value)
			}
		}
		if ms, ok := hd.mapAttr("stepMs"); ok {
			md := decoder{it: ms, path: hd.path + "stepMs."}
			h.StepMs = map[string]int64{}
			for name := range ms {
				h.StepMs[name] = md.num(name)
			}
			if md.err != nil {
				return nil, md.err
			}
		}
		if hd.err != nil {
			return nil, hd.err
		}
		out = append(out, h)
	}
	return out, nil
}

// decoder reads typed attributes and remembers the first type mismatch.
// Missing attributes read as zero values.
type decoder struct {
	it   item
	path string
	err  error
}

func (d *decoder) fail(name, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("decoding cluster record: attribute %s%s is not %s", d.path, name, want)
	}
}

func (d *decoder) str(name string) string {
	av, ok := d.it[name]
	if !ok {
		return ""
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		d.fail(name, "a string")
		return ""
	}
	return s.Value
}

// number returns the text of a number attribute ("" when missing).
func (d *decoder) number(name string) string {
	av, ok := d.it[name]
	if !ok {
		return ""
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		d.fail(name, "a number")
		return ""
	}
	return n.Value
}

func (d *decoder) num(name string) int64 {
	text := d.number(name)
	if text == "" {
		return 0
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		d.fail(name, "an integer")
	}
	return v
}

func (d *decoder) unsigned(name string) uint64 {
	text := d.number(name)
	if text == "" {
		return 0
	}
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		d.fail(name, "an unsigned integer")
	}
	return v
}

func (d *decoder) boolean(name string) bool {
	av, ok := d.it[name]
	if !ok {
		return false
	}
	b, ok := av.(*types.AttributeValueMemberBOOL)
	if !ok {
		d.fail(name, "a boolean")
		return false
	}
	return b.Value
}

func (d *decoder) time(name string) time.Time {
	s := d.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(name, "an RFC 3339 time")
	}
	return t
}

func (d *decoder) mapAttr(name string) (item, bool) {
	av, ok := d.it[name]
	if !ok {
		return nil, false
	}
	if _, isNull := av.(*types.AttributeValueMemberNULL); isNull {
		return nil, false
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		d.fail(name, "a map")
		return nil, false
	}
	return m.Value, true
}

func (d *decoder) list(name string) []types.AttributeValue {
	av, ok := d.it[name]
	if !ok {
		return nil
	}
	l, ok := av.(*types.AttributeValueMemberL)
	if !ok {
		d.fail(name, "a list")
		return nil
	}
	return l.Value
}

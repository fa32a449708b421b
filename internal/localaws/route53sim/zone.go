package route53sim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// recordKey identifies a resource record set in a zone: without routing
// policies, a name and a type name exactly one record set.
type recordKey struct {
	name  string // canonical
	rtype string
}

// recordSet is a stored resource record set.
type recordSet struct {
	Name   string // canonical
	Type   string
	TTL    int64
	Values []string
}

func (r recordSet) key() recordKey { return recordKey{r.Name, r.Type} }

// sameContent reports whether r and o have the same TTL and values, in any
// order: what a DELETE must match.
func (r recordSet) sameContent(o recordSet) bool {
	if r.TTL != o.TTL || len(r.Values) != len(o.Values) {
		return false
	}
	a, b := slices.Clone(r.Values), slices.Clone(o.Values)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (r recordSet) clone() recordSet {
	r.Values = slices.Clone(r.Values)
	return r
}

// lessRecord is Route 53's listing order: reversed-label name, then type.
func lessRecord(a, b recordKey) bool {
	ka, kb := sortKey(a.name), sortKey(b.name)
	if ka != kb {
		return ka < kb
	}
	return a.rtype < b.rtype
}

// mutation is one planned effect of a change batch: set the record, or
// delete it when set is nil.
type mutation struct {
	key recordKey
	set *recordSet
}

// pendingBatch is an accepted change batch the data plane has not seen yet.
type pendingBatch struct {
	change    *change
	mutations []mutation
}

// zone is one emulated hosted zone. Its fields are guarded by Service.mu.
type zone struct {
	id        string // bare, "Z..."
	name      string // canonical
	private   bool
	callerRef string
	vpcs      []string                // a private zone's associated VPCs
	region    string                  // their region
	records   map[recordKey]recordSet // what the API lists: every accepted change
	served    map[recordKey]recordSet // what the name servers answer: INSYNC changes only
	pending   []pendingBatch          // accepted, not yet propagated, in submission order
}

func newZone(seed localaws.HostedZone) (*zone, error) {
	z := &zone{
		id:        bareZoneID(seed.ID),
		name:      canonicalName(seed.Name),
		private:   seed.Private,
		callerRef: "switchyard-local-" + bareZoneID(seed.ID),
		vpcs:      slices.Clone(seed.VPCs),
		records:   map[recordKey]recordSet{},
	}
	if z.id == "" || seed.Name == "" {
		return nil, fmt.Errorf("hosted zone %q %q: id and name are required", seed.ID, seed.Name)
	}
	for _, rec := range seed.Records {
		rs := recordSet{Name: canonicalName(rec.Name), Type: strings.ToUpper(rec.Type), TTL: rec.TTL, Values: slices.Clone(rec.Values)}
		if rs.TTL == 0 {
			rs.TTL = 300
		}
		if !recordTypes[rs.Type] {
			return nil, fmt.Errorf("hosted zone %s: record %s has unknown type %q", z.id, rs.Name, rec.Type)
		}
		if !inZone(rs.Name, z.name) {
			return nil, fmt.Errorf("hosted zone %s: record %s is not in zone %s", z.id, rs.Name, z.name)
		}
		if len(rs.Values) == 0 {
			return nil, fmt.Errorf("hosted zone %s: record %s %s has no values", z.id, rs.Name, rs.Type)
		}
		if _, dup := z.records[rs.key()]; dup {
			return nil, fmt.Errorf("hosted zone %s: record %s %s is declared twice", z.id, rs.Name, rs.Type)
		}
		z.records[rs.key()] = rs
	}
	z.addApexDefaults()
	z.served = cloneRecords(z.records)
	return z, nil
}

// addApexDefaults adds the NS and SOA records Route 53 creates with every
// hosted zone, unless the seed declares them.
func (z *zone) addApexDefaults() {
	ns := []string{"ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk.", "ns-3.awsdns-03.com.", "ns-4.awsdns-04.net."}
	if _, ok := z.records[recordKey{z.name, "NS"}]; !ok {
		z.records[recordKey{z.name, "NS"}] = recordSet{Name: z.name, Type: "NS", TTL: 172800, Values: ns}
	}
	if _, ok := z.records[recordKey{z.name, "SOA"}]; !ok {
		z.records[recordKey{z.name, "SOA"}] = recordSet{Name: z.name, Type: "SOA", TTL: 900,
			Values: []string{ns[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}}
	}
}

func cloneRecords(m map[recordKey]recordSet) map[recordKey]recordSet {
	out := make(map[recordKey]recordSet, len(m))
	for k, v := range m {
		out[k] = v.clone()
	}
	return out
}

// sortedRecords returns the zone's record sets (API view) in listing order.
func (z *zone) sortedRecords() []recordSet {
	out := make([]recordSet, 0, len(z.records))
	for _, r := range z.records {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return lessRecord(out[i].key(), out[j].key()) })
	return out
}

// changeRequest is one requested change, already decoded and canonical.
type changeRequest struct {
	Action string // CREATE, DELETE, UPSERT
	Record recordSet
}

// plan validates a change batch against the zone as it would be after each
// earlier change of the same batch, and returns the mutations to apply, or
// the InvalidChangeBatch messages when any change is refused. Nothing is
// modified: a batch applies completely or not at all.
func (z *zone) plan(changes []changeRequest) ([]mutation, []string) {
	overlay := map[recordKey]*recordSet{} // nil value: deleted in this batch
	lookup := func(k recordKey) (recordSet, bool) {
		if v, ok := overlay[k]; ok {
			if v == nil {
				return recordSet{}, false
			}
			return *v, true
		}
		r, ok := z.records[k]
		return r, ok
	}
	typesAt := func(name string) []string {
		seen := map[string]bool{}
		for k := range z.records {
			if k.name == name {
				seen[k.rtype] = true
			}
		}
		for k, v := range overlay {
			if k.name == name {
				seen[k.rtype] = v != nil
			}
		}
		var out []string
		for t, present := range seen {
			if present {
				out = append(out, t)
			}
		}
		return out
	}
	lastAction := map[recordKey]string{}
	var muts []mutation
	var msgs []string
	for _, ch := range changes {
		r := ch.Record
		k := r.key()
		if prev, seen := lastAction[k]; seen && !(prev == "DELETE" && ch.Action != "DELETE") {
			msgs = append(msgs, fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", r.Type, r.Name))
			continue
		}
		lastAction[k] = ch.Action
		if problem := z.recordProblem(ch, typesAt); problem != "" {
			msgs = append(msgs, problem)
			continue
		}
		current, exists := lookup(k)
		switch ch.Action {
		case "CREATE":
			if exists {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", r.Name, r.Type))
				continue
			}
		case "DELETE":
			if !exists {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", r.Name, r.Type))
				continue
			}
			if !current.sameContent(r) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", r.Name, r.Type))
				continue
			}
			overlay[k] = nil
			muts = append(muts, mutation{key: k})
			continue
		}
		set := r.clone()
		overlay[k] = &set
		muts = append(muts, mutation{key: k, set: &set})
	}
	if len(msgs) > 0 {
		return nil, msgs
	}
	return muts, nil
}

// recordProblem checks a CREATE or UPSERT against the zone's rules (name in
// the zone, CNAME exclusivity, valid values) and returns Route 53's message
// for the first rule it breaks, or "". DELETEs are only checked for the zone.
func (z *zone) recordProblem(ch changeRequest, typesAt func(string) []string) string {
	r := ch.Record
	if !inZone(r.Name, z.name) {
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", r.Name, z.name)
	}
	if ch.Action == "DELETE" {
		return ""
	}
	for _, v := range r.Values {
		if p := valueProblem(r.Type, v); p != "" {
			return p
		}
	}
	if r.Type == "CNAME" {
		if r.Name == z.name {
			return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", r.Name, z.name)
		}
		for _, t := range typesAt(r.Name) {
			if t != "CNAME" {
				return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", r.Name, z.name)
			}
		}
		return ""
	}
	if slices.Contains(typesAt(r.Name), "CNAME") {
		return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", r.Type, r.Name, z.name)
	}
	return ""
}

// apply makes planned mutations visible to the API at once and queues them
// for the data plane.
func (z *zone) apply(c *change, muts []mutation) {
	applyTo(z.records, muts)
	z.pending = append(z.pending, pendingBatch{change: c, mutations: muts})
}

// propagate hands the data plane every pending batch whose propagation time
// has come, in submission order, and marks those changes INSYNC.
func (z *zone) propagate(now time.Time) {
	n := 0
	for _, p := range z.pending {
		if now.Before(p.change.insyncAt) {
			break
		}
		applyTo(z.served, p.mutations)
		p.change.insync = true
		n++
	}
	z.pending = z.pending[n:]
}

func applyTo(m map[recordKey]recordSet, muts []mutation) {
	for _, mu := range muts {
		if mu.set == nil {
			delete(m, mu.key)
		} else {
			m[mu.key] = mu.set.clone()
		}
	}
}

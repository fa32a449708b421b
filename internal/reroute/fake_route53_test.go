package reroute

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// fakeRoute53 is a test-only Route 53 with simple records. A change turns
// INSYNC after insyncAfter GetChange calls; never when neverInSync.
type fakeRoute53 struct {
	mu          sync.Mutex
	zones       map[string]map[string]fakeRecord // zone id → "name.|TYPE" → record
	changes     map[string]int                   // change id → GetChange calls left
	insyncAfter int
	neverInSync bool
	failNext    map[string][]error
	changeCalls map[string]int // zone → ChangeResourceRecordSets calls
	nextChange  int
}

type fakeRecord struct {
	name, typ string
	ttl       int64
	values    []string
}

var _ awsapi.Route53API = (*fakeRoute53)(nil)

func newFakeRoute53(zones ...string) *fakeRoute53 {
	f := &fakeRoute53{zones: map[string]map[string]fakeRecord{}, changes: map[string]int{}, insyncAfter: 2,
		failNext: map[string][]error{}, changeCalls: map[string]int{}}
	for _, z := range zones {
		f.zones[z] = map[string]fakeRecord{}
	}
	return f
}

func fqdn(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") + "." }

func (f *fakeRoute53) put(zone, name string, ttl int64, values ...string) {
	f.zones[zone][fqdn(name)+"|A"] = fakeRecord{name: fqdn(name), typ: "A", ttl: ttl, values: values}
}

func (f *fakeRoute53) values(zone, name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.zones[zone][fqdn(name)+"|A"].values
}

func (f *fakeRoute53) enter(op string) error {
	if errs := f.failNext[op]; len(errs) > 0 {
		f.failNext[op] = errs[1:]
		return errs[0]
	}
	return nil
}

func noSuchZone(id string) error {
	return &smithy.GenericAPIError{Code: "NoSuchHostedZone", Message: "No hosted zone found with ID: " + id}
}

func (f *fakeRoute53) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListResourceRecordSets"); err != nil {
		return nil, err
	}
	zone, ok := f.zones[aws.ToString(in.HostedZoneId)]
	if !ok {
		return nil, noSuchZone(aws.ToString(in.HostedZoneId))
	}
	keys := make([]string, 0, len(zone))
	for k := range zone {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start := fqdn(aws.ToString(in.StartRecordName)) + "|" + string(in.StartRecordType)
	limit := int(aws.ToInt32(in.MaxItems))
	if limit == 0 {
		limit = 300
	}
	out := &route53.ListResourceRecordSetsOutput{MaxItems: aws.Int32(int32(limit))}
	for _, k := range keys {
		if k < start {
			continue
		}
		if len(out.ResourceRecordSets) == limit {
			out.IsTruncated = true
			break
		}
		r := zone[k]
		rrs := types.ResourceRecordSet{Name: aws.String(r.name), Type: types.RRType(r.typ), TTL: aws.Int64(r.ttl)}
		for _, v := range r.values {
			rrs.ResourceRecords = append(rrs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, rrs)
	}
	return out, nil
}

func (f *fakeRoute53) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ChangeResourceRecordSets"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.HostedZoneId)
	zone, ok := f.zones[id]
	if !ok {
		return nil, noSuchZone(id)
	}
	f.changeCalls[id]++
	for _, c := range in.ChangeBatch.Changes {
		if c.Action != types.ChangeActionUpsert {
			return nil, apiErr("InvalidChangeBatch")
		}
		rrs := c.ResourceRecordSet
		rec := fakeRecord{name: fqdn(aws.ToString(rrs.Name)), typ: string(rrs.Type), ttl: aws.ToInt64(rrs.TTL)}
		for _, v := range rrs.ResourceRecords {
			rec.values = append(rec.values, aws.ToString(v.Value))
		}
		zone[rec.name+"|"+rec.typ] = rec
	}
	f.nextChange++
	change := fmt.Sprintf("/change/C%04d", f.nextChange)
	f.changes[change] = f.insyncAfter
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String(change), Status: types.ChangeStatusPending}}, nil
}

func (f *fakeRoute53) GetChange(_ context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetChange"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.Id)
	left, ok := f.changes[id]
	if !ok {
		return nil, apiErr("NoSuchChange")
	}
	status := types.ChangeStatusPending
	if left--; left <= 0 && !f.neverInSync {
		status = types.ChangeStatusInsync
	}
	f.changes[id] = left
	return &route53.GetChangeOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String(id), Status: status}}, nil
}

func (f *fakeRoute53) ListHostedZones(context.Context, *route53.ListHostedZonesInput, ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error) {
	return nil, errors.New("fakeRoute53: ListHostedZones not implemented")
}

func (f *fakeRoute53) ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	return nil, errors.New("fakeRoute53: ListHostedZonesByName not implemented")
}

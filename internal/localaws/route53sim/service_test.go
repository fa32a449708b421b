package route53sim_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
)

func TestResolveAnswersAsTheVPCResolver(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	s.sim.SetPropagationDelay(0)

	cases := []struct {
		name, rtype string
		want        []string
	}{
		{"PG.Example.COM", "a", []string{"10.0.0.100"}},                // any case, no trailing dot
		{"pg.example.com.", "A", []string{"10.0.0.100"}},               // trailing dot
		{"primary.db.internal.example.com", "A", []string{"10.0.2.1"}}, // the more specific zone answers
		{"www.example.com", "A", nil},                                  // the private zone shadows the public one
		{"nothing.example.net", "A", nil},                              // zone without such a record
		{"pg.example.org", "A", nil},                                   // no zone at all
		{"pg.example.com", "AAAA", nil},                                // other type
	}
	for _, c := range cases {
		if got := s.sim.Resolve(c.name, c.rtype); !slices.Equal(got, c.want) {
			t.Errorf("Resolve(%q, %q) = %v, want %v", c.name, c.rtype, got, c.want)
		}
	}

	// A CNAME is followed across zones unless the CNAME itself is asked for.
	_, err := s.change(ctx, private, change(types.ChangeActionCreate, rrset("writer.example.com", types.RRTypeCname, 10, "primary.db.internal.example.com")))
	if err != nil {
		t.Fatalf("CREATE CNAME: %v", err)
	}
	if got := s.sim.Resolve("writer.example.com", "A"); !slices.Equal(got, []string{"10.0.2.1"}) {
		t.Fatalf("A through the CNAME: %v", got)
	}
	if got := s.sim.Resolve("writer.example.com", "CNAME"); !slices.Equal(got, []string{"primary.db.internal.example.com"}) {
		t.Fatalf("the CNAME itself: %v", got)
	}
}

func TestResolveIsSafeDuringChanges(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	s.srv.SetThrottling(false)
	s.sim.SetPropagationDelay(0)
	values := []string{"10.0.0.101", "10.0.0.102", "10.0.0.103", "10.0.0.104", "10.0.0.105"}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan []string, 1)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := s.sim.Resolve("pg.example.com", "A")
				if len(got) != 1 || (got[0] != "10.0.0.100" && !slices.Contains(values, got[0])) {
					select {
					case bad <- got:
					default:
					}
				}
			}
		})
	}
	for _, v := range values {
		if _, err := s.change(ctx, private, change(types.ChangeActionUpsert, rrset("pg.example.com", types.RRTypeA, 10, v))); err != nil {
			t.Errorf("UPSERT %s: %v", v, err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case got := <-bad:
		t.Fatalf("Resolve answered %v during changes", got)
	default:
	}
	if got := s.sim.Resolve("pg.example.com", "A"); !slices.Equal(got, values[len(values)-1:]) {
		t.Fatalf("after the last UPSERT: %v", got)
	}
}

func TestRecordsReturnsTheAPIView(t *testing.T) {
	s := newStack(t)
	recs, ok := s.sim.Records("/hostedzone/ZSUB00000000000003")
	if !ok {
		t.Fatal("Records of a seeded zone: not found")
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Name+" "+r.Type)
	}
	want := []string{"db.internal.example.com. NS", "db.internal.example.com. SOA", "primary.db.internal.example.com. A"}
	if !slices.Equal(got, want) {
		t.Fatalf("Records: %q, want %q", got, want)
	}
	if _, ok := s.sim.Records("ZNOSUCHZONE"); ok {
		t.Fatal("Records of an unknown zone reported ok")
	}
}

func TestThrottlingAnswersRateExceeded(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	s.srv.SetBucket(localaws.BucketRoute53, 2, 0.001)

	for i := range 2 {
		if _, err := s.client.ListHostedZones(ctx, &route53.ListHostedZonesInput{}); err != nil {
			t.Fatalf("call %d within the bucket: %v", i+1, err)
		}
	}
	_, err := s.client.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	apiError(t, err, "Throttling", 400)
	if !strings.Contains(err.Error(), "Rate exceeded") {
		t.Fatalf("throttling message: %v", err)
	}
	calls := s.srv.Calls()
	if last := &calls[len(calls)-1]; last.ErrorCode != "Throttling" || last.Operation != route53sim.OpListHostedZones {
		t.Fatalf("call log: last call %s answered %q", last.Operation, last.ErrorCode)
	}
}

func TestCallLogRecordsOperationsResourcesAndErrors(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	_, _ = s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(public)})
	_, _ = s.change(ctx, public, change(types.ChangeActionUpsert, rrset("API.example.com", types.RRTypeA, 60, "10.0.7.7")))
	_, _ = s.change(ctx, public, change(types.ChangeActionCreate, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.10")))
	_, _ = s.change(ctx, "ZNOSUCHZONE", change(types.ChangeActionUpsert, rrset("x.example.com", types.RRTypeA, 30, "10.0.1.10")))
	_, _ = s.client.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE")})

	type entry struct {
		op, resources, code string
	}
	var got []entry
	calls := s.srv.Calls()
	for i := range calls {
		c := &calls[i] // Call holds a mutex: index, do not copy
		if c.Service != "route53" || c.AccessKeyID != "AKIDROUTE53TEST" || c.Region != "us-east-1" {
			t.Fatalf("call %s: service %q caller %q region %q", c.Operation, c.Service, c.AccessKeyID, c.Region)
		}
		got = append(got, entry{c.Operation, strings.Join(c.Resources, " "), c.ErrorCode})
	}
	want := []entry{
		{route53sim.OpListResourceRecordSets, public, ""},
		{route53sim.OpChangeResourceRecordSets, public + " api.example.com.", ""},
		{route53sim.OpChangeResourceRecordSets, public + " db.example.com.", "InvalidChangeBatch"},
		{route53sim.OpChangeResourceRecordSets, "ZNOSUCHZONE x.example.com.", "NoSuchHostedZone"},
		{route53sim.OpGetChange, "CNOSUCHCHANGE", "NoSuchChange"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("call log:\n got %+v\nwant %+v", got, want)
	}
}

func TestNewRefusesBadSeeds(t *testing.T) {
	cases := map[string]localaws.HostedZone{
		"record outside zone": {ID: "Z1", Name: "example.com", Records: []localaws.Record{{Name: "a.example.org", Type: "A", Values: []string{"10.0.0.1"}}}},
		"unknown type":        {ID: "Z1", Name: "example.com", Records: []localaws.Record{{Name: "a.example.com", Type: "AXFR", Values: []string{"x"}}}},
		"no values":           {ID: "Z1", Name: "example.com", Records: []localaws.Record{{Name: "a.example.com", Type: "A"}}},
		"duplicate record": {ID: "Z1", Name: "example.com", Records: []localaws.Record{
			{Name: "a.example.com", Type: "A", Values: []string{"10.0.0.1"}}, {Name: "A.example.com.", Type: "a", Values: []string{"10.0.0.2"}}}},
		"no name": {ID: "Z1"},
	}
	for name, z := range cases {
		if _, err := route53sim.New(&localaws.Topology{HostedZones: []localaws.HostedZone{z}}); err == nil {
			t.Errorf("%s: New accepted the seed", name)
		}
	}
	if _, err := route53sim.New(nil); err != nil {
		t.Fatalf("New(nil): %v", err)
	}
}

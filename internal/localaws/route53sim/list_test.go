package route53sim_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func zoneIDs(zones []types.HostedZone) []string {
	var out []string
	for _, z := range zones {
		out = append(out, aws.ToString(z.Id))
	}
	return out
}

func TestListHostedZonesPaginatesByMarker(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	first, err := s.client.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(3)})
	if err != nil {
		t.Fatalf("ListHostedZones: %v", err)
	}
	want := []string{"/hostedzone/ZNET00000000000004", "/hostedzone/ZPRIVATE0000000002", "/hostedzone/ZPUBLIC00000000001"}
	if got := zoneIDs(first.HostedZones); !slices.Equal(got, want) {
		t.Fatalf("first page: got %v, want %v", got, want)
	}
	if !first.IsTruncated || aws.ToString(first.NextMarker) != "ZSUB00000000000003" || aws.ToInt32(first.MaxItems) != 3 {
		t.Fatalf("first page: truncated=%v next=%q max=%d", first.IsTruncated, aws.ToString(first.NextMarker), aws.ToInt32(first.MaxItems))
	}
	second, err := s.client.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(3), Marker: first.NextMarker})
	if err != nil {
		t.Fatalf("ListHostedZones page 2: %v", err)
	}
	if got := zoneIDs(second.HostedZones); !slices.Equal(got, []string{"/hostedzone/ZSUB00000000000003"}) || second.IsTruncated || second.NextMarker != nil {
		t.Fatalf("second page: got %v truncated=%v next=%v", got, second.IsTruncated, second.NextMarker)
	}

	pub := first.HostedZones[2]
	if aws.ToString(pub.Name) != "example.com." || pub.Config.PrivateZone {
		t.Fatalf("public zone: name %q private %v", aws.ToString(pub.Name), pub.Config.PrivateZone)
	}
	// Five seeded records plus the NS and SOA Route 53 creates at the apex.
	if aws.ToInt64(pub.ResourceRecordSetCount) != 7 {
		t.Fatalf("public zone: %d record sets, want 7", aws.ToInt64(pub.ResourceRecordSetCount))
	}
	if priv := first.HostedZones[1]; !priv.Config.PrivateZone {
		t.Fatalf("zone %s should be private", aws.ToString(priv.Id))
	}
}

func TestListHostedZonesFiltersPrivateZones(t *testing.T) {
	s := newStack(t)
	out, err := s.client.ListHostedZones(context.Background(), &route53.ListHostedZonesInput{HostedZoneType: types.HostedZoneTypePrivateHostedZone})
	if err != nil {
		t.Fatalf("ListHostedZones: %v", err)
	}
	want := []string{"/hostedzone/ZPRIVATE0000000002", "/hostedzone/ZSUB00000000000003"}
	if got := zoneIDs(out.HostedZones); !slices.Equal(got, want) {
		t.Fatalf("private zones: got %v, want %v", got, want)
	}
}

func TestListHostedZonesByNameOrdersByReversedLabelsThenID(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	// com.example. (two zones, by id) < com.example.internal.db. < net.example.
	want := []string{"/hostedzone/ZPRIVATE0000000002", "/hostedzone/ZPUBLIC00000000001", "/hostedzone/ZSUB00000000000003", "/hostedzone/ZNET00000000000004"}

	all, err := s.client.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{})
	if err != nil {
		t.Fatalf("ListHostedZonesByName: %v", err)
	}
	if got := zoneIDs(all.HostedZones); !slices.Equal(got, want) {
		t.Fatalf("order: got %v, want %v", got, want)
	}

	var paged []string
	in := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1)}
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("pagination does not end: %v", paged)
		}
		out, err := s.client.ListHostedZonesByName(ctx, in)
		if err != nil {
			t.Fatalf("ListHostedZonesByName page %d: %v", pages, err)
		}
		paged = append(paged, zoneIDs(out.HostedZones)...)
		if !out.IsTruncated {
			break
		}
		in = &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1), DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged: got %v, want %v", paged, want)
	}

	from, err := s.client.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("f.example.com")})
	if err != nil {
		t.Fatalf("ListHostedZonesByName from f.example.com: %v", err)
	}
	if got := zoneIDs(from.HostedZones); !slices.Equal(got, want[2:]) {
		t.Fatalf("from f.example.com: got %v, want %v", got, want[2:])
	}
	if aws.ToString(from.DNSName) != "f.example.com" {
		t.Fatalf("DNSName not echoed: %q", aws.ToString(from.DNSName))
	}
}

func TestListHostedZonesByNameRefusesIDWithoutName(t *testing.T) {
	s := newStack(t)
	_, err := s.client.ListHostedZonesByName(context.Background(), &route53.ListHostedZonesByNameInput{HostedZoneId: aws.String("ZPUBLIC00000000001")})
	apiError(t, err, "InvalidInput", 400)
}

func TestListResourceRecordSetsOrdersByReversedNameThenType(t *testing.T) {
	s := newStack(t)
	// "db-1" sorts before "db" because '-' comes before the trailing '.'.
	want := []string{
		"example.com. NS ns-1.awsdns-01.org.,ns-2.awsdns-02.co.uk.,ns-3.awsdns-03.com.,ns-4.awsdns-04.net.",
		"example.com. SOA ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
		`example.com. TXT "v=spf1 -all"`,
		"db-1.example.com. A 10.0.1.11",
		"db.example.com. A 10.0.1.10",
		"reader.example.com. CNAME db.example.com.",
		"www.example.com. A 203.0.113.10",
	}
	if got := s.listAll(context.Background(), t, "ZPUBLIC00000000001"); !slices.Equal(got, want) {
		t.Fatalf("records:\n got %q\nwant %q", got, want)
	}
}

func TestListResourceRecordSetsPaginates(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	full := s.listAll(ctx, t, "ZPUBLIC00000000001")

	var paged []string
	pages := 0
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("/hostedzone/ZPUBLIC00000000001"), MaxItems: aws.Int32(2)}
	for {
		pages++
		if pages > len(full) {
			t.Fatalf("pagination does not end")
		}
		out, err := s.client.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatalf("ListResourceRecordSets page %d: %v", pages, err)
		}
		if len(out.ResourceRecordSets) > 2 {
			t.Fatalf("page %d has %d record sets, MaxItems is 2", pages, len(out.ResourceRecordSets))
		}
		paged = append(paged, describe(out.ResourceRecordSets)...)
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
	}
	if !slices.Equal(paged, full) || pages != 4 {
		t.Fatalf("paged over %d pages:\n got %q\nwant %q", pages, paged, full)
	}
}

func TestListResourceRecordSetsStartsAtNameAndType(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	zone := aws.String("ZPUBLIC00000000001")

	byName, err := s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zone, StartRecordName: aws.String("DB.example.com")})
	if err != nil {
		t.Fatalf("from db.example.com: %v", err)
	}
	if got := describe(byName.ResourceRecordSets); len(got) != 3 || got[0] != "db.example.com. A 10.0.1.10" {
		t.Fatalf("from db.example.com: %q", got)
	}

	byType, err := s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zone,
		StartRecordName: aws.String("example.com."), StartRecordType: types.RRTypeSoa, MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatalf("from example.com SOA: %v", err)
	}
	got := describe(byType.ResourceRecordSets)
	if len(got) != 1 || byType.ResourceRecordSets[0].Type != types.RRTypeSoa {
		t.Fatalf("from example.com SOA: %q", got)
	}
	if !byType.IsTruncated || aws.ToString(byType.NextRecordName) != "example.com." || byType.NextRecordType != types.RRTypeTxt {
		t.Fatalf("next after SOA: truncated=%v %q %q", byType.IsTruncated, aws.ToString(byType.NextRecordName), byType.NextRecordType)
	}
}

func TestListResourceRecordSetsErrorsAndLimits(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	_, err := s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZPUBLIC00000000001"), StartRecordType: types.RRTypeA})
	apiError(t, err, "InvalidInput", 400)

	_, err = s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOSUCHZONE")})
	apiError(t, err, "NoSuchHostedZone", 404)

	out, err := s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNET00000000000004"), MaxItems: aws.Int32(5000)})
	if err != nil {
		t.Fatalf("MaxItems 5000: %v", err)
	}
	if aws.ToInt32(out.MaxItems) != 300 {
		t.Fatalf("MaxItems above the limit: answered %d, want 300", aws.ToInt32(out.MaxItems))
	}
	if got := describe(out.ResourceRecordSets); len(got) != 2 {
		t.Fatalf("a zone seeded without records lists its NS and SOA only, got %q", got)
	}
}

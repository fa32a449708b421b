package reroute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
)

// DNSResult lists what DNS did to each record.
type DNSResult struct {
	Records    []DNSRecordResult `json:"records"`
	DurationMs int64             `json:"durationMs"`
}

// DNSRecordResult is one A record.
type DNSRecordResult struct {
	HostedZoneID string   `json:"hostedZoneId"`
	Name         string   `json:"name"`
	Previous     []string `json:"previous"` // values before, empty if the record did not exist
	Value        string   `json:"value"`
	TTL          int64    `json:"ttl"`
	// Changed is false when the record held the target's address already.
	Changed  bool   `json:"changed"`
	ChangeID string `json:"changeId,omitempty"`
}

// zoneBatch is the records of one hosted zone.
type zoneBatch struct {
	zone    string
	indexes []int // into DNSResult.Records
}

// DNS points each record (an A record) at target's private IP with the
// record's TTL: one ChangeResourceRecordSets UPSERT per hosted zone for the
// records that differ, then GetChange until INSYNC (bounded by ctx:
// *ErrDNSNotInSync), then ListResourceRecordSets to verify. Records already
// right are not changed.
func DNS(ctx context.Context, r53 awsall.Route53API, recs []cluster.DNSRecord, target cluster.Node, opts ...Option) (DNSResult, error) {
	o := apply(opts)
	start := time.Now()
	res := DNSResult{Records: make([]DNSRecordResult, len(recs))}
	done := func(err error) (DNSResult, error) {
		res.DurationMs = time.Since(start).Milliseconds()
		return res, err
	}
	if target.PrivateIP == "" {
		return done(fmt.Errorf("rerouting DNS to node %s: it has no private IP", target.Name))
	}
	var batches []*zoneBatch
	byZone := map[string]*zoneBatch{}
	for i, rec := range recs {
		res.Records[i] = DNSRecordResult{HostedZoneID: rec.HostedZoneID, Name: rec.Name, Value: target.PrivateIP, TTL: rec.TTL}
		b := byZone[rec.HostedZoneID]
		if b == nil {
			b = &zoneBatch{zone: rec.HostedZoneID}
			byZone[rec.HostedZoneID] = b
			batches = append(batches, b)
		}
		b.indexes = append(b.indexes, i)
	}
	// A zone that fails does not hold back the others: each is changed,
	// waited for and verified on its own, and every failure is reported.
	type pending struct{ zone, id string }
	var changes []pending
	var errs []error
	failed := map[string]bool{}
	for _, b := range batches {
		id, err := upsertZone(ctx, r53, b, res.Records, o)
		if err != nil {
			errs, failed[b.zone] = append(errs, err), true
			continue
		}
		if id != "" {
			changes = append(changes, pending{b.zone, id})
		}
	}
	for _, c := range changes {
		if err := waitInSync(ctx, r53, c.zone, c.id, o); err != nil {
			errs, failed[c.zone] = append(errs, err), true
		}
	}
	var verify []DNSRecordResult
	for _, r := range res.Records {
		if !failed[r.HostedZoneID] {
			verify = append(verify, r)
		}
	}
	if len(verify) > 0 {
		errs = append(errs, verifyRecords(ctx, r53, verify, o))
	}
	return done(errors.Join(errs...))
}

// upsertZone reads the zone's records, UPSERTs those that differ and
// returns the change id ("" when nothing had to change).
func upsertZone(ctx context.Context, r53 awsall.Route53API, b *zoneBatch, out []DNSRecordResult, o options) (string, error) {
	var changes []types.Change
	var changed []int
	for _, i := range b.indexes {
		r := &out[i]
		var values []string
		var ttl int64
		err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
			values, ttl, err = lookupA(ctx, r53, r.HostedZoneID, r.Name)
			return err
		})
		if err != nil {
			return "", err
		}
		r.Previous = values
		if slices.Equal(values, []string{r.Value}) && ttl == r.TTL {
			continue
		}
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{
			Name: aws.String(r.Name), Type: types.RRTypeA, TTL: aws.Int64(r.TTL),
			ResourceRecords: []types.ResourceRecord{{Value: aws.String(r.Value)}},
		}})
		changed = append(changed, i)
	}
	if len(changes) == 0 {
		return "", nil
	}
	var resp *route53.ChangeResourceRecordSetsOutput
	err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		resp, err = r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(b.zone),
			ChangeBatch:  &types.ChangeBatch{Comment: aws.String("switchyard reroute"), Changes: changes},
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("changing records in hosted zone %s: %w", b.zone, err)
	}
	id := ""
	if resp.ChangeInfo != nil {
		id = aws.ToString(resp.ChangeInfo.Id)
	}
	for _, i := range changed {
		out[i].Changed = true
		out[i].ChangeID = id
	}
	return id, nil
}

// waitInSync polls GetChange until the change is INSYNC or ctx ends.
func waitInSync(ctx context.Context, r53 awsall.Route53API, zone, id string, o options) error {
	var last error
	for {
		out, err := r53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		switch {
		case err == nil:
			last = nil
			if out.ChangeInfo != nil && out.ChangeInfo.Status == types.ChangeStatusInsync {
				return nil
			}
		case backoff.Transient(err) || ctx.Err() != nil:
			last = err
		default:
			return fmt.Errorf("waiting for Route 53 change %s: %w", id, err)
		}
		if werr := backoff.Wait(ctx, o.pollInterval); werr != nil {
			return &ErrDNSNotInSync{HostedZoneID: zone, ChangeID: id, Err: errors.Join(werr, last)}
		}
	}
}

// verifyRecords polls ListResourceRecordSets until every record holds its value and TTL.
func verifyRecords(ctx context.Context, r53 awsall.Route53API, recs []DNSRecordResult, o options) error {
	var wrong []string
	timedOut, err := o.poll(ctx, func(ctx context.Context) (bool, error) {
		wrong = wrong[:0]
		for _, r := range recs {
			values, ttl, err := lookupA(ctx, r53, r.HostedZoneID, r.Name)
			if err != nil {
				return false, err
			}
			if !slices.Equal(values, []string{r.Value}) || ttl != r.TTL {
				wrong = append(wrong, fmt.Sprintf("%s=%v ttl %d", r.Name, values, ttl))
			}
		}
		return len(wrong) == 0, nil
	})
	switch {
	case err == nil:
		return nil
	case timedOut:
		return &ErrNotConverged{Target: TargetDNS, Detail: strings.Join(wrong, ", "), Err: err}
	default:
		return fmt.Errorf("verifying DNS records: %w", err)
	}
}

// lookupA returns the values and TTL of the simple A record name in zone;
// no values when there is none.
func lookupA(ctx context.Context, r53 awsall.Route53Reader, zone, name string) ([]string, int64, error) {
	out, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(zone),
		StartRecordName: aws.String(name),
		StartRecordType: types.RRTypeA,
		MaxItems:        aws.Int32(1),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading record %s in hosted zone %s: %w", name, zone, err)
	}
	for _, rrs := range out.ResourceRecordSets {
		if rrs.Type != types.RRTypeA || rrs.SetIdentifier != nil || canonicalName(aws.ToString(rrs.Name)) != canonicalName(name) {
			continue
		}
		values := make([]string, 0, len(rrs.ResourceRecords))
		for _, rr := range rrs.ResourceRecords {
			values = append(values, aws.ToString(rr.Value))
		}
		slices.Sort(values)
		return values, aws.ToInt64(rrs.TTL), nil
	}
	return nil, 0, nil
}

// canonicalName lower-cases a DNS name, drops the trailing dot and decodes
// the \ooo octal escapes Route 53 uses for special characters.
func canonicalName(name string) string {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) {
			if v, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

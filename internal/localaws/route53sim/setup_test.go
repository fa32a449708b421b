package route53sim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
)

// seedYAML is a small account: a public and a private zone for the same
// domain, a sub-zone and an unrelated zone.
const seedYAML = `
region: us-east-1
hostedZones:
  - id: ZPUBLIC00000000001
    name: example.com
    records:
      - {name: www.example.com, type: A, ttl: 60, values: [203.0.113.10]}
      - {name: db.example.com., type: A, ttl: 30, values: [10.0.1.10]}
      - {name: db-1.example.com, type: A, ttl: 30, values: [10.0.1.11]}
      - {name: reader.example.com, type: CNAME, ttl: 30, values: [db.example.com.]}
      - {name: example.com, type: TXT, ttl: 300, values: ['"v=spf1 -all"']}
  - id: /hostedzone/ZPRIVATE0000000002
    name: example.com.
    private: true
    vpcs: [vpc-1]
    records:
      - {name: pg.example.com, type: A, ttl: 10, values: [10.0.0.100]}
  - id: ZSUB00000000000003
    name: db.internal.example.com
    private: true
    records:
      - {name: primary.db.internal.example.com, type: A, ttl: 5, values: [10.0.2.1]}
  - id: ZNET00000000000004
    name: example.net
`

// stack is one emulated Route 53 behind a real HTTP server, with a real SDK
// client pointed at it.
type stack struct {
	srv    *localaws.Server
	sim    *route53sim.Service
	client *route53.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	topo, err := localaws.ParseTopology([]byte(seedYAML))
	if err != nil {
		t.Fatalf("parsing seed topology: %v", err)
	}
	sim, err := route53sim.New(topo)
	if err != nil {
		t.Fatalf("route53sim.New: %v", err)
	}
	srv := localaws.NewServer()
	srv.Register(sim)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "AKIDROUTE53TEST"), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	return &stack{srv: srv, sim: sim, client: route53.NewFromConfig(cfg)}
}

// apiError asserts err is an AWS API error with the code and HTTP status.
func apiError(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got success", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d for %s, got %d", status, code, re.HTTPStatusCode())
	}
}

// batchMessages asserts err is InvalidChangeBatch (HTTP 400) and returns its messages.
func batchMessages(t *testing.T, err error) []string {
	t.Helper()
	apiError(t, err, "InvalidChangeBatch", 400)
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Fatalf("want *types.InvalidChangeBatch, got %T", err)
	}
	return icb.Messages
}

func rrset(name string, rtype types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: rtype, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func change(action types.ChangeAction, rs *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: rs}
}

func (s *stack) change(ctx context.Context, zoneID string, changes ...types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	return s.client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes, Comment: aws.String("test")},
	})
}

// listAll lists every record set of a zone as "name type value,value".
func (s *stack) listAll(ctx context.Context, t *testing.T, zoneID string) []string {
	t.Helper()
	out, err := s.client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	if err != nil {
		t.Fatalf("ListResourceRecordSets %s: %v", zoneID, err)
	}
	if out.IsTruncated {
		t.Fatalf("listing %s is truncated at the default page size", zoneID)
	}
	return describe(out.ResourceRecordSets)
}

func describe(sets []types.ResourceRecordSet) []string {
	var out []string
	for _, rs := range sets {
		line := aws.ToString(rs.Name) + " " + string(rs.Type)
		for i, v := range rs.ResourceRecords {
			sep := ","
			if i == 0 {
				sep = " "
			}
			line += sep + aws.ToString(v.Value)
		}
		out = append(out, line)
	}
	return out
}

// waitInsync polls GetChange until the change is INSYNC or the deadline passes.
func (s *stack) waitInsync(ctx context.Context, t *testing.T, changeID string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := s.client.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(changeID)})
		if err != nil {
			t.Fatalf("GetChange %s: %v", changeID, err)
		}
		if out.ChangeInfo.Status == types.ChangeStatusInsync {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("change %s still %s after %v", changeID, out.ChangeInfo.Status, within)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not synchronisation
	}
}

package localstack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localstack"
)

// TestDriftCheckReportsMisroutedTargets: the scheduled drift check finds
// every target on the recorded primary and publishes nothing; once the
// overlay route is edited by hand to point at the standby it names the
// route table and publishes how many targets drifted. It changes nothing, and its calls are
// allowed by DriftFunction's policy (resources and conditions).
func TestDriftCheckReportsMisroutedTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startStack(t, localstack.Options{})
	check := func() failover.DriftResult {
		t.Helper()
		out, err := s.Invoke(ctx, "DriftFunction", []byte(`{"source":"aws.events","detail-type":"Scheduled Event"}`))
		if err != nil {
			t.Fatal(err)
		}
		var res failover.DriftResult
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	metric := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: failover.MetricRoutingDrift,
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}}}
	if res := check(); res.Primary != "node1" || len(res.Drifted) != 0 {
		t.Fatalf("steady cluster: %+v", res)
	}
	if dps := s.CW.Datapoints(metric); len(dps) > 0 {
		t.Errorf("a check that found no drift published RoutingDrift: %+v", dps)
	}
	c := s.Client("operator")
	var rts []string
	for rt := range s.EC2.RouteTargets(localstack.OverlayCIDR) {
		rts = append(rts, rt)
		if _, err := c.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rt),
			DestinationCidrBlock: aws.String(localstack.OverlayCIDR), NetworkInterfaceId: aws.String(s.Nodes["node2"].ENI)}); err != nil {
			t.Fatal(err)
		}
	}
	res := check()
	if len(res.Drifted) != len(rts) || !strings.Contains(res.Summary, rts[0]) || !strings.Contains(res.Summary, "node2") {
		t.Errorf("route tables %v moved to node2 by hand: %+v", rts, res)
	}
	if n, err := s.RoutedNode(); err != nil || n != "node2" {
		t.Errorf("the drift check changed the route back (routed to %s, %v)", n, err)
	}
	// Source/destination check switched back on for node2's interface:
	// a failover to node2 would route the overlay IP into a drop.
	eni2 := s.Nodes["node2"].ENI
	if _, err := c.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni2),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if res := check(); len(res.Drifted) != len(rts)+1 || !strings.Contains(res.Summary, eni2+" of node2: source/destination check is on") {
		t.Errorf("source/destination check on: %+v", res)
	}
	// Two values published, by the two checks that found drift (stored per
	// minute: count, minimum, maximum).
	var count, lo, hi float64 = 0, 1e9, -1
	for _, dp := range s.CW.Datapoints(metric) {
		count, lo, hi = count+dp.SampleCount, min(lo, dp.Minimum), max(hi, dp.Maximum)
	}
	if count != 2 || lo != float64(len(rts)) || hi != float64(len(rts)+1) {
		t.Errorf("RoutingDrift: %v values from %v to %v, want 2 values, %d to %d", count, lo, hi, len(rts), len(rts)+1)
	}
	// The primary's agent publishes how long its lease has left only while
	// renewing fails (agent: TestPrimaryCutOffFromRecordAndStandbyStopsWithinLease):
	// a healthy primary's renewals leave no such series to pay for.
	lease := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: agent.MetricLeaseSecondsLeft,
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}, {Name: "Node", Value: "node1"}}}
	if dps := s.CW.Datapoints(lease); len(dps) > 0 {
		t.Errorf("LeaseSecondsLeft of a healthy primary published: %+v", dps)
	}
	assertCallsAllowed(t, s)
}

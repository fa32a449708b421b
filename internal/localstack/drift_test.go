package localstack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localstack"
)

// TestDriftCheckReportsMisroutedTargets: the scheduled drift check finds
// every target on the recorded primary and publishes RoutingDrift 0; once
// the overlay route is edited by hand to point at the standby it names the
// route table and publishes 1. It changes nothing, and its calls are
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
	// Three values published (stored per minute: count, minimum, maximum).
	var count, lo, hi float64 = 0, 1e9, -1
	for _, dp := range s.CW.Datapoints(metric) {
		count, lo, hi = count+dp.SampleCount, min(lo, dp.Minimum), max(hi, dp.Maximum)
	}
	if count != 3 || lo != 0 || hi != float64(len(rts)+1) {
		t.Errorf("RoutingDrift: %v values from %v to %v, want 3 values, 0 to %d", count, lo, hi, len(rts)+1)
	}
	// The primary's agent publishes how long its lease has left (the
	// dashboard's lease graph): between 0 and one lease.
	lease := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: agent.MetricLeaseSecondsLeft,
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}, {Name: "Node", Value: "node1"}}}
	waitFor(t, 15*time.Second, "node1's LeaseSecondsLeft in CloudWatch", func() bool { return len(s.CW.Datapoints(lease)) > 0 })
	for _, dp := range s.CW.Datapoints(lease) {
		if dp.Minimum < 0 || dp.Maximum > s.Config.LeaseDuration().Seconds() {
			t.Errorf("LeaseSecondsLeft of node1 outside 0..%s: %+v", s.Config.LeaseDuration(), dp)
		}
	}
	assertCallsAllowed(t, s)
}

package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/reroute"
)

// MetricRoutingDrift is what the drift check publishes under {Cluster}
// when it finds drift: how many client-facing targets (overlay route
// tables, the Elastic IP, DNS records) do not point at the recorded
// primary, or could not be read, plus, with an overlay IP, the nodes'
// network interfaces whose source/destination check is on. A check that
// finds none publishes nothing (the drift alarm treats missing data as
// not breaching): a metric and a request every minute would cost $0.73 a
// month for a series of zeros.
const MetricRoutingDrift = "RoutingDrift"

// DriftCheck runs on a schedule (an EventBridge schedule → DriftFunction)
// and never repairs anything: it reads the record and where every target
// points (reroute.Where, describe calls only), and publishes
// MetricRoutingDrift, which the drift alarm watches. While a failover holds
// the lock, targets are expected to move, so it publishes nothing.
type DriftCheck struct {
	*Readers
	// Metrics publishes MetricRoutingDrift: monitoring, the check's one
	// write.
	Metrics awsapi.MetricPublisher
}

// DriftResult is what one check found.
type DriftResult struct {
	Primary string   `json:"primary"`
	Drifted []string `json:"drifted"` // "<target> <what> → <node or error>"
	Skipped string   `json:"skipped,omitempty"`
	Summary string   `json:"summary"`
}

// Handle is the Lambda handler; the scheduled event's content is ignored.
func (h *DriftCheck) Handle(ctx context.Context, _ json.RawMessage) (DriftResult, error) {
	rec, err := h.Records.GetState(ctx, h.Config.Name) // every minute: not the history
	if err != nil {
		return DriftResult{}, classify("drift: reading the cluster record", err)
	}
	res := DriftResult{Primary: rec.Primary}
	if rec.LockActive(h.now()) {
		res.Skipped = "a failover holds the lock (" + rec.Lock.Holder + "): targets may be moving"
		res.Summary = "drift check skipped: " + res.Skipped
		return res, nil
	}
	for _, w := range reroute.Where(ctx, reroute.ReadClients{EC2: h.EC2, Route53: h.Route53}, h.Config) {
		if w.Error != "" || w.Drift != "" || w.Node != rec.Primary {
			res.Drifted = append(res.Drifted, w.String())
		}
	}
	if h.Config.Routing.OverlayIP != nil {
		res.Drifted = append(res.Drifted, h.sourceDestChecks(ctx)...)
	}
	if len(res.Drifted) > 0 {
		_, err = h.Metrics.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace: aws.String(h.Config.Detection.Namespace),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(MetricRoutingDrift), Value: aws.Float64(float64(len(res.Drifted))),
				Unit: cwtypes.StandardUnitCount, Timestamp: aws.Time(h.now()),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("Cluster"), Value: aws.String(h.Config.Name)}}}},
		})
		if err != nil {
			return res, classify("drift: publishing "+MetricRoutingDrift, err)
		}
	}
	res.Summary = fmt.Sprintf("every client-facing target points at the recorded primary %s", rec.Primary)
	if len(res.Drifted) > 0 {
		res.Summary = fmt.Sprintf("%d target(s) not on the recorded primary %s: %s", len(res.Drifted), rec.Primary, strings.Join(res.Drifted, "; "))
		h.logger("drift", State{}).Warn("routing drift", "primary", rec.Primary, "drifted", res.Drifted)
	}
	return res, nil
}

// sourceDestChecks reports each node's network interface whose
// source/destination check is on (switched back on by hand or by
// automation): EC2 then drops the packets to the overlay IP, so a failover
// to that node would leave its clients without a route.
func (h *DriftCheck) sourceDestChecks(ctx context.Context) []string {
	var out []string
	for _, n := range h.Config.Nodes {
		res, err := h.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{n.NetworkInterfaceID}})
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("network-interface %s of %s: could not be read: %v", n.NetworkInterfaceID, n.Name, err))
		case len(res.NetworkInterfaces) == 0:
			out = append(out, fmt.Sprintf("network-interface %s of %s: not found", n.NetworkInterfaceID, n.Name))
		case aws.ToBool(res.NetworkInterfaces[0].SourceDestCheck):
			out = append(out, fmt.Sprintf("network-interface %s of %s: source/destination check is on (the overlay IP's packets would be dropped)", n.NetworkInterfaceID, n.Name))
		}
	}
	return out
}

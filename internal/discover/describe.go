package discover

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
)

// Instance is a configured node's instance as EC2 shows it now.
type Instance struct {
	Node             string `json:"node"`
	InstanceID       string `json:"instanceId"`
	State            string `json:"state,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	PrivateIP        string `json:"privateIp,omitempty"`
	// NetworkInterfaceID is the configured interface, Attached whether EC2
	// shows it attached to the instance.
	NetworkInterfaceID string `json:"networkInterfaceId"`
	Attached           bool   `json:"attached"`
	// Problem says how what EC2 shows differs from the configuration;
	// empty when they agree. Error says why it could not be read.
	Problem string `json:"problem,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Describe reads each configured node's instance (one DescribeInstances
// per node, read-only) and says where it differs from the configuration.
func Describe(ctx context.Context, api awsapi.EC2Reader, cfg *cluster.Config) []Instance {
	out := make([]Instance, 0, len(cfg.Nodes))
	for _, n := range cfg.Nodes {
		out = append(out, describeNode(ctx, api, n))
	}
	return out
}

func describeNode(ctx context.Context, api awsapi.EC2Reader, n cluster.Node) Instance {
	got := Instance{Node: n.Name, InstanceID: n.InstanceID, NetworkInterfaceID: n.NetworkInterfaceID}
	res, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{n.InstanceID}})
	if err != nil {
		got.Error = err.Error()
		return got
	}
	for _, r := range res.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) != n.InstanceID {
				continue
			}
			if in.State != nil {
				got.State = string(in.State.Name)
			}
			if in.Placement != nil {
				got.AvailabilityZone = aws.ToString(in.Placement.AvailabilityZone)
			}
			got.PrivateIP = aws.ToString(in.PrivateIpAddress)
			for _, ni := range in.NetworkInterfaces {
				if aws.ToString(ni.NetworkInterfaceId) == n.NetworkInterfaceID {
					got.Attached = true
				}
			}
			got.Problem = differences(n, got)
			return got
		}
	}
	got.Problem = "not in EC2's answer (terminated long ago, or a wrong id)"
	return got
}

func differences(n cluster.Node, got Instance) string {
	switch {
	case got.State == "terminated" || got.State == "shutting-down":
		return "instance " + got.State + ": replace it and redeploy with switchyard discover's parameters"
	case !got.Attached:
		return n.NetworkInterfaceID + " is not attached to this instance"
	case got.PrivateIP != n.PrivateIP:
		return fmt.Sprintf("private IP is %s, the configuration says %s", got.PrivateIP, n.PrivateIP)
	case n.AvailabilityZone != "" && got.AvailabilityZone != n.AvailabilityZone:
		return fmt.Sprintf("in %s, the configuration says %s", got.AvailabilityZone, n.AvailabilityZone)
	}
	return ""
}

package discover

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/reroute"
)

// DefaultClusterTagKey is the tag whose value is the cluster's name on
// both instances, and DefaultNodeTagKey the tag whose value names each
// node.
const (
	DefaultClusterTagKey = "switchyard:cluster"
	DefaultNodeTagKey    = "switchyard:node"
)

// Query says what to look for.
type Query struct {
	// Tags select the cluster's two instances: each must carry every pair.
	Tags map[string]string
	// NodeTagKey is the tag whose value names each node.
	NodeTagKey string
	// ENITags, when set, select each node's network interface among those
	// attached to its instance; otherwise the instance's primary interface
	// (device index 0) is the node's.
	ENITags map[string]string
	// Primary, when set, is the node listed first (the template's Node1,
	// which must be the primary when the stack is deployed); otherwise the
	// nodes are in name order.
	Primary string
	// OverlayCIDR, when set, also lists the route tables of the nodes'
	// VPCs that hold a route for it.
	OverlayCIDR string
}

// Node is one node as found.
type Node struct {
	Name             string `json:"name"`
	InstanceID       string `json:"instanceId"`
	State            string `json:"state"`
	AvailabilityZone string `json:"availabilityZone"`
	VPCID            string `json:"vpcId"`
	SubnetID         string `json:"subnetId"`
	// NetworkInterfaceID is the node's interface and ENIFoundBy how it was
	// chosen ("primary interface" or "tag k=v").
	NetworkInterfaceID string `json:"networkInterfaceId"`
	ENIFoundBy         string `json:"eniFoundBy"`
	// PrivateIP is the interface's primary private address.
	PrivateIP string `json:"privateIp"`
}

// Result is what Find found: the nodes (the primary first, then by
// name) and the route tables holding the overlay route when one was asked
// for.
type Result struct {
	Tags          map[string]string    `json:"tags"`
	Nodes         []Node               `json:"nodes"`
	OverlayCIDR   string               `json:"overlayCidr,omitempty"`
	OverlayVPCIDs []string             `json:"overlayVpcIds,omitempty"`
	RouteTables   []reroute.FoundRoute `json:"routeTables,omitempty"`
}

// ParseTag splits "key=value"; both must be non-empty.
func ParseTag(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" || v == "" {
		return "", "", fmt.Errorf("tag %q is not key=value", s)
	}
	return k, v, nil
}

// Find looks the cluster up. It fails, naming what it saw, unless exactly
// two live instances (pending, running, stopping or stopped) carry the
// tags, each with a distinct node name and exactly one matching interface.
func Find(ctx context.Context, api awsapi.EC2Reader, q Query) (Result, error) {
	if len(q.Tags) == 0 {
		return Result{}, errors.New("discover: no tags to select the instances by")
	}
	if q.NodeTagKey == "" {
		return Result{}, errors.New("discover: no node tag key")
	}
	instances, err := taggedInstances(ctx, api, q.Tags)
	if err != nil {
		return Result{}, err
	}
	if len(instances) != 2 {
		return Result{}, fmt.Errorf("discover: %d live instances carry %s, want exactly 2 (%s)",
			len(instances), tagList(q.Tags), idList(instances))
	}
	res := Result{Tags: q.Tags}
	for _, in := range instances {
		n, err := nodeOf(ctx, api, in, q)
		if err != nil {
			return Result{}, err
		}
		res.Nodes = append(res.Nodes, n)
	}
	sort.Slice(res.Nodes, func(i, j int) bool { return res.Nodes[i].Name < res.Nodes[j].Name })
	if res.Nodes[0].Name == res.Nodes[1].Name {
		return Result{}, fmt.Errorf("discover: %s and %s both carry %s=%s; each node needs its own name",
			res.Nodes[0].InstanceID, res.Nodes[1].InstanceID, q.NodeTagKey, res.Nodes[0].Name)
	}
	if q.Primary != "" {
		switch q.Primary {
		case res.Nodes[0].Name:
		case res.Nodes[1].Name:
			res.Nodes[0], res.Nodes[1] = res.Nodes[1], res.Nodes[0]
		default:
			return Result{}, fmt.Errorf("discover: primary %q is not a node found (%s, %s)", q.Primary, res.Nodes[0].Name, res.Nodes[1].Name)
		}
	}
	if q.OverlayCIDR != "" {
		vpcs := []string{res.Nodes[0].VPCID}
		if v := res.Nodes[1].VPCID; v != vpcs[0] {
			vpcs = append(vpcs, v)
		}
		res.OverlayCIDR, res.OverlayVPCIDs = q.OverlayCIDR, vpcs
		if res.RouteTables, err = reroute.FindOverlayRoutes(ctx, api, cluster.OverlayIP{CIDR: q.OverlayCIDR, VPCIDs: vpcs}); err != nil {
			return Result{}, fmt.Errorf("discover: route tables with %s in %s: %w", q.OverlayCIDR, strings.Join(vpcs, ", "), err)
		}
	}
	return res, nil
}

// liveStates are the states of an instance that may still run PostgreSQL
// again; shutting-down and terminated ones are not a node.
var liveStates = []string{"pending", "running", "stopping", "stopped"}

func taggedInstances(ctx context.Context, api awsapi.EC2Reader, tags map[string]string) ([]ec2types.Instance, error) {
	filters := []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: liveStates}}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{tags[k]}})
	}
	var out []ec2types.Instance
	pages := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("discover: instances with %s: %w", tagList(tags), err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				// The filters narrow the search on EC2's side; check again.
				if in.State != nil && slices.Contains(liveStates, string(in.State.Name)) && hasTags(in.Tags, tags) {
					out = append(out, in)
				}
			}
		}
	}
	return out, nil
}

func nodeOf(ctx context.Context, api awsapi.EC2Reader, in ec2types.Instance, q Query) (Node, error) {
	id := aws.ToString(in.InstanceId)
	n := Node{InstanceID: id, SubnetID: aws.ToString(in.SubnetId), VPCID: aws.ToString(in.VpcId)}
	if in.State != nil {
		n.State = string(in.State.Name)
	}
	if in.Placement != nil {
		n.AvailabilityZone = aws.ToString(in.Placement.AvailabilityZone)
	}
	n.Name = tagValue(in.Tags, q.NodeTagKey)
	if n.Name == "" {
		return Node{}, fmt.Errorf("discover: instance %s has no %s tag naming its node (aws ec2 create-tags --resources %s --tags Key=%s,Value=node1)",
			id, q.NodeTagKey, id, q.NodeTagKey)
	}
	if len(q.ENITags) == 0 {
		for _, ni := range in.NetworkInterfaces {
			if ni.Attachment != nil && aws.ToInt32(ni.Attachment.DeviceIndex) == 0 {
				n.NetworkInterfaceID, n.PrivateIP, n.ENIFoundBy = aws.ToString(ni.NetworkInterfaceId), aws.ToString(ni.PrivateIpAddress), "primary interface"
				return n, nil
			}
		}
		return Node{}, fmt.Errorf("discover: instance %s (%s) shows no primary network interface (device index 0)", id, n.Name)
	}
	filters := []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{id}}}
	for _, k := range slices.Sorted(maps.Keys(q.ENITags)) {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{q.ENITags[k]}})
	}
	out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: filters})
	if err != nil {
		return Node{}, fmt.Errorf("discover: interfaces of %s with %s: %w", id, tagList(q.ENITags), err)
	}
	var found []ec2types.NetworkInterface
	for _, ni := range out.NetworkInterfaces {
		if ni.Attachment != nil && aws.ToString(ni.Attachment.InstanceId) == id && hasTags(ni.TagSet, q.ENITags) {
			found = append(found, ni)
		}
	}
	if len(found) != 1 {
		ids := make([]string, 0, len(found))
		for _, ni := range found {
			ids = append(ids, aws.ToString(ni.NetworkInterfaceId))
		}
		return Node{}, fmt.Errorf("discover: %d interfaces attached to %s (%s) carry %s, want exactly 1 [%s]",
			len(found), id, n.Name, tagList(q.ENITags), strings.Join(ids, " "))
	}
	n.NetworkInterfaceID, n.PrivateIP = aws.ToString(found[0].NetworkInterfaceId), aws.ToString(found[0].PrivateIpAddress)
	n.ENIFoundBy = "tag " + tagList(q.ENITags)
	return n, nil
}

func hasTags(have []ec2types.Tag, want map[string]string) bool {
	for k, v := range want {
		if tagValue(have, k) != v {
			return false
		}
	}
	return true
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func tagList(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ",")
}

func idList(instances []ec2types.Instance) string {
	if len(instances) == 0 {
		return "none"
	}
	ids := make([]string, 0, len(instances))
	for _, in := range instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	return strings.Join(ids, " ")
}

package preflight

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
)

// Statuses of a check.
const (
	OK   = "ok"
	Warn = "warn" // works, but not as an operator would want
	Fail = "FAIL" // a failover would not work
)

// Check is one prerequisite and what was found.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	// Fix is the command or setting that fixes a warn or FAIL.
	Fix string `json:"fix,omitempty"`
}

// Clients are the read-only APIs the checks call.
type Clients struct {
	EC2     awsapi.EC2PreflightReader
	Route53 awsall.Route53Reader
	// Secrets is read only with Options.Connect.
	Secrets awsall.SecretsAPI
	// Region names the VPC endpoint services (com.amazonaws.<region>.ec2).
	// When empty it is taken from the Lambda subnets' availability zone.
	Region string
}

// Options add checks that need more than the cluster configuration.
type Options struct {
	// LambdaSubnets are the template's LambdaSubnetIds: each must reach
	// the AWS APIs the in-VPC Lambdas call.
	LambdaSubnets []string
	// LambdaSecurityGroups are the template's LambdaSecurityGroupIds: each
	// node's groups must admit them on its PostgreSQL port.
	LambdaSecurityGroups []string
	// Connect logs in to each node's PostgreSQL with the database secret.
	// The connections start where the checks run, not in the Lambdas'
	// subnets.
	Connect bool
}

// Failed counts the checks that failed.
func Failed(checks []Check) int {
	n := 0
	for _, c := range checks {
		if c.Status == Fail {
			n++
		}
	}
	return n
}

// Run runs every check that applies to cfg.
func Run(ctx context.Context, c Clients, cfg *cluster.Config, o Options) []Check {
	var out []Check
	add := func(ch Check) { out = append(out, ch) }
	for _, n := range cfg.Nodes {
		add(checkInstance(ctx, c.EC2, n))
		add(checkENI(ctx, c.EC2, n, cfg.Routing.OverlayIP != nil))
	}
	if o := cfg.Routing.OverlayIP; o != nil {
		add(checkOverlayCIDR(ctx, c.EC2, *o))
		add(checkOverlayRoutes(ctx, c.EC2, *o, cfg.Nodes))
	}
	if e := cfg.Routing.ElasticIP; e != nil {
		add(checkElasticIP(ctx, c.EC2, *e, cfg.Nodes))
	}
	for _, d := range cfg.Routing.DNS {
		add(checkZone(ctx, c.Route53, d, clientVPCs(ctx, c.EC2, cfg)))
		add(checkRecord(ctx, c.Route53, d, cfg.Nodes))
	}
	e := newEnv(c, o)
	for _, sn := range o.LambdaSubnets {
		add(checkLambdaSubnet(ctx, e, cfg, sn))
	}
	if len(o.LambdaSecurityGroups) > 0 {
		groups := checkLambdaGroups(ctx, e)
		add(groups)
		if groups.Status != Fail {
			for _, n := range cfg.Nodes {
				add(checkPostgresAccess(ctx, e, n))
			}
		}
	}
	if o.Connect {
		out = append(out, checkDatabase(ctx, c.Secrets, cfg)...)
	}
	return out
}

func checkInstance(ctx context.Context, api awsapi.EC2Reader, n cluster.Node) Check {
	ch := Check{Name: "instance " + n.Name}
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{n.InstanceID}})
	if err != nil {
		return failed(ch, fmt.Sprintf("%s: %v", n.InstanceID, err), "set nodes[].instanceId (template: Node1InstanceId / Node2InstanceId) to the node's instance")
	}
	var in *ec2types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			in = &r.Instances[i]
		}
	}
	switch {
	case in == nil:
		return failed(ch, n.InstanceID+" does not exist", "set nodes[].instanceId to the node's instance")
	case aws.ToString(in.PrivateIpAddress) != n.PrivateIP:
		return failed(ch, fmt.Sprintf("%s has private IP %s, the configuration says %s", n.InstanceID, aws.ToString(in.PrivateIpAddress), n.PrivateIP),
			"set nodes[].privateIp (template: Node1PrivateIp / Node2PrivateIp) to "+aws.ToString(in.PrivateIpAddress))
	case in.Placement != nil && n.AvailabilityZone != "" && aws.ToString(in.Placement.AvailabilityZone) != n.AvailabilityZone:
		return failed(ch, fmt.Sprintf("%s is in %s, the configuration says %s", n.InstanceID, aws.ToString(in.Placement.AvailabilityZone), n.AvailabilityZone),
			"set nodes[].availabilityZone to "+aws.ToString(in.Placement.AvailabilityZone))
	case in.State != nil && in.State.Name != ec2types.InstanceStateNameRunning:
		ch.Status, ch.Detail = Warn, fmt.Sprintf("%s is %s", n.InstanceID, in.State.Name)
		ch.Fix = "start it (aws ec2 start-instances --instance-ids " + n.InstanceID + "): a failover needs a running standby"
		return ch
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("%s running in %s with %s", n.InstanceID, aws.ToString(in.Placement.AvailabilityZone), n.PrivateIP)
	return ch
}

func checkENI(ctx context.Context, api awsapi.EC2Reader, n cluster.Node, overlay bool) Check {
	ch := Check{Name: "network interface " + n.Name}
	out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{n.NetworkInterfaceID}})
	if err != nil || len(out.NetworkInterfaces) == 0 {
		return failed(ch, fmt.Sprintf("%s: %v", n.NetworkInterfaceID, orNotFound(err)), "set nodes[].networkInterfaceId (template: Node1EniId / Node2EniId) to the instance's primary ENI")
	}
	eni := out.NetworkInterfaces[0]
	if a := eni.Attachment; a == nil || aws.ToString(a.InstanceId) != n.InstanceID {
		return failed(ch, fmt.Sprintf("%s is not attached to %s", n.NetworkInterfaceID, n.InstanceID), "use the ENI attached to the node's instance")
	}
	if overlay && aws.ToBool(eni.SourceDestCheck) {
		return failed(ch, n.NetworkInterfaceID+" has source/destination check on: packets to the overlay IP are dropped",
			"aws ec2 modify-network-interface-attribute --network-interface-id "+n.NetworkInterfaceID+" --no-source-dest-check")
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("%s attached to %s in %s", n.NetworkInterfaceID, n.InstanceID, aws.ToString(eni.VpcId))
	if overlay {
		ch.Detail += ", source/destination check off"
	}
	return ch
}

func checkOverlayCIDR(ctx context.Context, api awsapi.EC2Reader, o cluster.OverlayIP) Check {
	ch := Check{Name: "overlay address " + o.CIDR}
	overlay, err := netip.ParsePrefix(o.CIDR)
	if err != nil {
		return failed(ch, err.Error(), "routing.overlayIp.cidr (template: OverlayCidr) is an IPv4 /32, e.g. 10.1.0.10/32")
	}
	out, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: o.VPCIDs})
	if err != nil {
		return failed(ch, fmt.Sprintf("VPCs %s: %v", strings.Join(o.VPCIDs, ", "), err), "set routing.overlayIp.vpcIds (template: OverlayVpcIds) to the clients' VPCs")
	}
	for _, v := range out.Vpcs {
		blocks := []string{aws.ToString(v.CidrBlock)}
		for _, a := range v.CidrBlockAssociationSet {
			blocks = append(blocks, aws.ToString(a.CidrBlock))
		}
		for _, b := range blocks {
			p, err := netip.ParsePrefix(b)
			if err == nil && p.Overlaps(overlay) {
				return failed(ch, fmt.Sprintf("%s overlaps %s of %s: VPC-local routing wins over the overlay route", o.CIDR, b, aws.ToString(v.VpcId)),
					"pick an address outside every VPC CIDR (and outside peered and on-premises ranges)")
			}
		}
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("outside the CIDR blocks of %s", strings.Join(o.VPCIDs, ", "))
	return ch
}

func checkOverlayRoutes(ctx context.Context, api awsapi.EC2Reader, o cluster.OverlayIP, nodes []cluster.Node) Check {
	ch := Check{Name: "overlay routes"}
	out, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: o.VPCIDs}, {Name: aws.String("route.destination-cidr-block"), Values: []string{o.CIDR}}}})
	if err != nil {
		return failed(ch, err.Error(), "allow ec2:DescribeRouteTables")
	}
	if len(out.RouteTables) == 0 {
		return failed(ch, fmt.Sprintf("no route table of %s has a route to %s: no client can reach the overlay IP", strings.Join(o.VPCIDs, ", "), o.CIDR),
			fmt.Sprintf("aws ec2 create-route --route-table-id <each client subnet's table> --destination-cidr-block %s --network-interface-id %s", o.CIDR, nodes[0].NetworkInterfaceID))
	}
	var tables []string
	for _, rt := range out.RouteTables {
		for _, r := range rt.Routes {
			if aws.ToString(r.DestinationCidrBlock) != o.CIDR {
				continue
			}
			target := aws.ToString(r.NetworkInterfaceId)
			if target == "" {
				target = aws.ToString(r.InstanceId)
			}
			if !pointsAtNode(target, nodes) {
				return failed(ch, fmt.Sprintf("%s sends %s to %q, which is neither node", aws.ToString(rt.RouteTableId), o.CIDR, target),
					fmt.Sprintf("aws ec2 replace-route --route-table-id %s --destination-cidr-block %s --network-interface-id <the primary's ENI>", aws.ToString(rt.RouteTableId), o.CIDR))
			}
			tables = append(tables, aws.ToString(rt.RouteTableId))
		}
	}
	if len(o.RouteTableIDs) > 0 {
		var missing, extra []string
		for _, id := range o.RouteTableIDs {
			if !slices.Contains(tables, id) {
				missing = append(missing, id)
			}
		}
		for _, id := range tables {
			if !slices.Contains(o.RouteTableIDs, id) {
				extra = append(extra, id)
			}
		}
		if len(missing) > 0 {
			return failed(ch, fmt.Sprintf("listed route table(s) %s have no route to %s: their subnets' clients cannot reach the overlay IP", strings.Join(missing, ", "), o.CIDR),
				fmt.Sprintf("aws ec2 create-route --route-table-id %s --destination-cidr-block %s --network-interface-id <the primary's ENI>", missing[0], o.CIDR))
		}
		if len(extra) > 0 {
			ch.Status, ch.Detail = Warn, fmt.Sprintf("%s route %s but are not in routing.overlayIp.routeTableIds: a failover leaves them on the old primary", strings.Join(extra, ", "), o.CIDR)
			ch.Fix = "add them to routing.overlayIp.routeTableIds, or delete their route"
			return ch
		}
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("%d route table(s) route %s to a node: %s", len(tables), o.CIDR, strings.Join(tables, ", "))
	return ch
}

func pointsAtNode(target string, nodes []cluster.Node) bool {
	for _, n := range nodes {
		if target != "" && (target == n.NetworkInterfaceID || target == n.InstanceID) {
			return true
		}
	}
	return false
}

func checkElasticIP(ctx context.Context, api awsapi.EC2Reader, e cluster.ElasticIP, nodes []cluster.Node) Check {
	ch := Check{Name: "elastic IP " + e.AllocationID}
	out, err := api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{e.AllocationID}})
	if err != nil || len(out.Addresses) == 0 {
		return failed(ch, fmt.Sprintf("%v", orNotFound(err)), "set routing.elasticIp.allocationId (template: ElasticIpAllocationId) to an allocation of this account and region")
	}
	a := out.Addresses[0]
	eni := aws.ToString(a.NetworkInterfaceId)
	if !pointsAtNode(eni, nodes) && !pointsAtNode(aws.ToString(a.InstanceId), nodes) {
		ch.Status, ch.Detail = Warn, fmt.Sprintf("%s is associated with %q, not a node: internet clients reach neither until the next failover", aws.ToString(a.PublicIp), eni)
		ch.Fix = fmt.Sprintf("aws ec2 associate-address --allocation-id %s --network-interface-id <the primary's ENI> --allow-reassociation", e.AllocationID)
		return ch
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("%s associated with %s", aws.ToString(a.PublicIp), eni)
	return ch
}

// clientVPCs are the VPCs whose clients resolve the record: the overlay's
// when configured, else the nodes'.
func clientVPCs(ctx context.Context, api awsapi.EC2Reader, cfg *cluster.Config) []string {
	if o := cfg.Routing.OverlayIP; o != nil {
		return o.VPCIDs
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range cfg.Nodes {
		res, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{n.NetworkInterfaceID}})
		if err == nil && len(res.NetworkInterfaces) > 0 {
			if v := aws.ToString(res.NetworkInterfaces[0].VpcId); v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

func checkZone(ctx context.Context, api awsall.Route53Reader, d cluster.DNSRecord, vpcs []string) Check {
	ch := Check{Name: "hosted zone " + d.HostedZoneID}
	out, err := api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(d.HostedZoneID)})
	if err != nil {
		return failed(ch, err.Error(), "set routing.dns[].hostedZoneId (template: HostedZoneId) to the zone of "+d.Name)
	}
	if out.HostedZone == nil || out.HostedZone.Config == nil || !out.HostedZone.Config.PrivateZone {
		ch.Status, ch.Detail = OK, "public zone "+aws.ToString(out.HostedZone.Name)
		return ch
	}
	assoc := map[string]bool{}
	for _, v := range out.VPCs {
		assoc[aws.ToString(v.VPCId)] = true
	}
	var missing []string
	for _, v := range vpcs {
		if !assoc[v] {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return failed(ch, fmt.Sprintf("private zone %s is not associated with %s: clients there do not resolve %s", aws.ToString(out.HostedZone.Name), strings.Join(missing, ", "), d.Name),
			fmt.Sprintf("aws route53 associate-vpc-with-hosted-zone --hosted-zone-id %s --vpc VPCRegion=<region>,VPCId=%s", d.HostedZoneID, missing[0]))
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("private zone %s associated with %s", aws.ToString(out.HostedZone.Name), strings.Join(vpcs, ", "))
	return ch
}

func checkRecord(ctx context.Context, api awsall.Route53Reader, d cluster.DNSRecord, nodes []cluster.Node) Check {
	name := strings.TrimSuffix(d.Name, ".") + "."
	ch := Check{Name: "record " + name}
	out, err := api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(d.HostedZoneID),
		StartRecordName: aws.String(name), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1)})
	if err != nil {
		return failed(ch, err.Error(), "allow route53:ListResourceRecordSets on the zone")
	}
	if len(out.ResourceRecordSets) == 0 || !strings.EqualFold(aws.ToString(out.ResourceRecordSets[0].Name), name) || out.ResourceRecordSets[0].Type != r53types.RRTypeA {
		ch.Status, ch.Detail = Warn, "no A record yet: the first failover creates it, but clients have nothing to resolve until then"
		ch.Fix = fmt.Sprintf("create %s as an A record of the primary's private IP with TTL %d", name, d.TTL)
		return ch
	}
	rs := out.ResourceRecordSets[0]
	var values []string
	for _, r := range rs.ResourceRecords {
		values = append(values, aws.ToString(r.Value))
	}
	if ttl := aws.ToInt64(rs.TTL); ttl != d.TTL {
		ch.Status, ch.Detail = Warn, fmt.Sprintf("TTL %d s, the configuration says %d s: clients cache the TTL they got before a failover, so the first failover can take up to %d s for them", ttl, d.TTL, ttl)
		ch.Fix = fmt.Sprintf("UPSERT %s with TTL %d", name, d.TTL)
		return ch
	}
	for _, n := range nodes {
		if len(values) == 1 && values[0] == n.PrivateIP {
			ch.Status, ch.Detail = OK, fmt.Sprintf("A %s (%s), TTL %d s", values[0], n.Name, d.TTL)
			return ch
		}
	}
	ch.Status, ch.Detail = Warn, fmt.Sprintf("A %s is neither node: clients reach neither until the next failover", strings.Join(values, ","))
	ch.Fix = fmt.Sprintf("UPSERT %s to the primary's private IP", name)
	return ch
}

func failed(ch Check, detail, fix string) Check {
	ch.Status, ch.Detail, ch.Fix = Fail, detail, fix
	return ch
}

func orNotFound(err error) error {
	if err == nil {
		return fmt.Errorf("not found")
	}
	return err
}

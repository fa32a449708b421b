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

	"github.com/switchyard/switchyard/internal/cluster"
)

// awsService is an AWS API the in-VPC Lambdas call.
type awsService struct {
	endpoint string // the last label of com.amazonaws.<region>.<endpoint>
	name     string // for people
	callers  string // the functions in LambdaSubnetIds that call it
	gateway  bool   // a gateway endpoint serves it too
}

// lambdaServices are what the functions with a VpcConfig in template.yaml
// (Assess, Fence, Promote, Verify) call, read from their IAM policies and
// handlers. Step Functions and SNS are not among them: Lease and Cleanup
// (states) and Notify (SNS) run outside the VPC. Route 53 is handled
// apart: it has no VPC endpoint.
var lambdaServices = []awsService{
	{endpoint: "ec2", name: "EC2", callers: "Assess, Fence"},
	{endpoint: "monitoring", name: "CloudWatch", callers: "Assess"},
	{endpoint: "dynamodb", name: "DynamoDB", callers: "Assess, Fence, Promote", gateway: true},
	{endpoint: "secretsmanager", name: "Secrets Manager", callers: "Assess, Fence, Promote, Verify"},
}

// httpsPort is where the AWS APIs, and so their interface endpoints, listen.
const httpsPort = 443

// subnetNet is what decides how one Lambda subnet reaches the AWS APIs.
type subnetNet struct {
	subnet ec2types.Subnet
	table  ec2types.RouteTable
	// nat is the NAT gateway of the default route; other a default route
	// through anything but a NAT or internet gateway (a transit gateway,
	// a NAT instance's ENI, a peering), igw an internet gateway.
	nat, other, igw string
	endpoints       []ec2types.VpcEndpoint
	endpointErr     error
}

// reach is how one service is reached from a subnet.
type reach struct {
	status  string // OK, Warn or Fail
	how     string // for OK and Warn
	problem string // for Warn and Fail
	fix     string
	// missing says no NAT route and no endpoint serve it: a NAT route
	// would fix it as well as fix does.
	missing bool
}

func checkLambdaSubnet(ctx context.Context, e *env, cfg *cluster.Config, subnet string) Check {
	ch := Check{Name: "Lambda subnet " + subnet}
	n, detail, fix := loadSubnetNet(ctx, e, subnet)
	if n == nil {
		return failed(ch, detail, fix)
	}
	var r53 reach
	if len(cfg.Routing.DNS) > 0 {
		r53 = n.route53()
	}
	// Without a NAT route Route 53 fails, and a NAT route would also serve
	// every service that has no endpoint: one fix then, not one per endpoint.
	natNeeded := r53.status == Fail
	var hows, problems, fixes, missing []string
	served := map[string][]string{} // how → the services reached that way
	ch.Status = OK
	note := func(label string, r reach) {
		if r.missing {
			missing = append(missing, label+" ("+r.problem+")")
			r.problem = ""
			if natNeeded {
				r.fix = ""
			}
		}
		if r.how != "" {
			if served[r.how] == nil {
				hows = append(hows, r.how)
			}
			served[r.how] = append(served[r.how], label)
		}
		if r.status == OK {
			return
		}
		if r.problem != "" && !slices.Contains(problems, r.problem) {
			problems = append(problems, r.problem)
		}
		if r.fix != "" && !slices.Contains(fixes, r.fix) {
			fixes = append(fixes, r.fix)
		}
		if r.status == Fail || ch.Status == OK {
			ch.Status = r.status
		}
	}
	for _, s := range lambdaServices {
		note(s.name, n.reach(ctx, e, s))
	}
	if len(cfg.Routing.DNS) > 0 {
		note("Route 53", r53)
	}
	if n.endpointErr != nil {
		r := reach{status: Warn, problem: fmt.Sprintf("the VPC endpoints of %s could not be read (%v): an interface endpoint with private DNS would take these calls instead of the NAT",
			aws.ToString(n.subnet.VpcId), n.endpointErr), fix: "allow ec2:DescribeVpcEndpoints"}
		if n.nat == "" {
			r.status = Fail
		}
		note("", r)
	}
	var via []string
	for _, how := range hows {
		via = append(via, strings.Join(served[how], ", ")+" via "+how)
	}
	if len(via) == 0 {
		via = []string{"no AWS API is reachable"}
	}
	if len(missing) > 0 {
		problems = append([]string{"No NAT route and no VPC endpoint for " + strings.Join(missing, ", ")}, problems...)
	}
	ch.Detail = aws.ToString(n.table.RouteTableId) + ": " + strings.Join(via, "; ")
	if len(problems) > 0 {
		ch.Detail += ". " + strings.Join(problems, ". ")
	}
	ch.Fix = strings.Join(fixes, "; ")
	return ch
}

// loadSubnetNet reads a subnet, its route table (its own, else the VPC's
// main one), the table's default route and the VPC's endpoints. A nil
// result comes with what went wrong and the fix.
func loadSubnetNet(ctx context.Context, e *env, subnet string) (n *subnetNet, detail, fix string) {
	sn, ok := e.subnet(ctx, subnet)
	if !ok {
		return nil, fmt.Sprintf("%v", orNotFound(e.subnetErr[subnet])), "set LambdaSubnetIds to private subnets of the nodes' VPC"
	}
	n = &subnetNet{subnet: sn}
	vpc := aws.ToString(sn.VpcId)
	rts, err := e.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{subnet}}}})
	if err == nil && len(rts.RouteTables) == 0 { // the VPC's main table then
		rts, err = e.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	}
	if err != nil || len(rts.RouteTables) == 0 {
		return nil, fmt.Sprintf("no route table found: %v", err), "associate a route table with a NAT gateway route, or create VPC endpoints"
	}
	n.table = rts.RouteTables[0]
	for _, r := range n.table.Routes {
		if aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" {
			continue
		}
		switch gw := aws.ToString(r.GatewayId); {
		case aws.ToString(r.NatGatewayId) != "":
			n.nat = aws.ToString(r.NatGatewayId)
		case strings.HasPrefix(gw, "igw-"):
			n.igw = gw
		default:
			n.other = firstOf(aws.ToString(r.TransitGatewayId), aws.ToString(r.NetworkInterfaceId), aws.ToString(r.InstanceId),
				aws.ToString(r.VpcPeeringConnectionId), gw)
		}
	}
	eps, err := e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil {
		n.endpointErr = err
	} else {
		n.endpoints = eps.VpcEndpoints
	}
	return n, "", ""
}

// reach decides how a service is reached: an interface endpoint with
// private DNS takes the calls whatever the routes say (the service's name
// resolves to it); else a gateway endpoint's route; else the NAT.
func (n *subnetNet) reach(ctx context.Context, e *env, s awsService) reach {
	name := "com.amazonaws." + e.regionOf(n.subnet) + "." + s.endpoint
	var iface, noDNS, notReady, gateways []ec2types.VpcEndpoint
	for _, ep := range n.endpoints {
		if aws.ToString(ep.ServiceName) != name {
			continue
		}
		switch {
		case !strings.EqualFold(string(ep.State), "available"):
			notReady = append(notReady, ep)
		case ep.VpcEndpointType == ec2types.VpcEndpointTypeGateway:
			gateways = append(gateways, ep)
		case ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface && aws.ToBool(ep.PrivateDnsEnabled):
			iface = append(iface, ep)
		case ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface:
			noDNS = append(noDNS, ep)
		}
	}
	if len(iface) > 0 {
		return n.viaInterface(ctx, e, s, iface[0])
	}
	for _, ep := range gateways {
		for _, r := range n.table.Routes {
			if aws.ToString(r.GatewayId) == aws.ToString(ep.VpcEndpointId) && aws.ToString(r.DestinationPrefixListId) != "" {
				return reach{status: OK, how: fmt.Sprintf("gateway endpoint %s (route to %s)", aws.ToString(ep.VpcEndpointId), aws.ToString(r.DestinationPrefixListId))}
			}
		}
	}
	if n.nat != "" {
		return reach{status: OK, how: "NAT " + n.nat}
	}
	if n.other != "" {
		return n.otherRoute()
	}
	missing := fmt.Sprintf("%s (called by %s) is not reachable", s.name, s.callers)
	callers := "called by " + s.callers
	vpc, table := aws.ToString(n.subnet.VpcId), aws.ToString(n.table.RouteTableId)
	switch {
	case len(noDNS) > 0:
		id := aws.ToString(noDNS[0].VpcEndpointId)
		return reach{status: Fail, problem: fmt.Sprintf("%s: its interface endpoint %s has private DNS off, so the Lambdas resolve the public name, which nothing routes to", missing, id),
			fix: "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + id + " --private-dns-enabled"}
	case len(gateways) > 0:
		id := aws.ToString(gateways[0].VpcEndpointId)
		return reach{status: Fail, problem: fmt.Sprintf("%s: its gateway endpoint %s is not on %s", missing, id, table),
			fix: "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + id + " --add-route-table-ids " + table}
	case len(notReady) > 0:
		id := aws.ToString(notReady[0].VpcEndpointId)
		return reach{status: Fail, problem: fmt.Sprintf("%s: its endpoint %s is %s, not available", missing, id, notReady[0].State),
			fix: "aws ec2 describe-vpc-endpoints --vpc-endpoint-ids " + id + " (wait for available, or recreate it)"}
	case s.gateway:
		return reach{status: Fail, problem: callers, missing: true,
			fix: fmt.Sprintf("aws ec2 create-vpc-endpoint --vpc-id %s --vpc-endpoint-type Gateway --service-name %s --route-table-ids %s", vpc, name, table)}
	}
	return reach{status: Fail, problem: callers, missing: true,
		fix: fmt.Sprintf("aws ec2 create-vpc-endpoint --vpc-id %s --vpc-endpoint-type Interface --service-name %s --subnet-ids %s --security-group-ids %s --private-dns-enabled",
			vpc, name, strings.Join(e.lambdaSubnetsIn(ctx, vpc), " "), endpointGroupHint(e))}
}

// viaInterface checks that an interface endpoint admits the Lambdas:
// its groups allow TCP 443 from a Lambda group or from the subnet, the
// Lambda groups allow it out, and it has a network interface in the
// subnet's availability zone.
func (n *subnetNet) viaInterface(ctx context.Context, e *env, s awsService, ep ec2types.VpcEndpoint) reach {
	id := aws.ToString(ep.VpcEndpointId)
	r := reach{status: OK, how: "interface endpoint " + id}
	var groupIDs []string
	for _, g := range ep.Groups {
		groupIDs = append(groupIDs, aws.ToString(g.GroupId))
	}
	groups, err := e.describeGroups(ctx, groupIDs)
	if err != nil {
		return reach{status: Warn, how: r.how, problem: fmt.Sprintf("the groups of %s could not be read: %v", id, err), fix: "allow ec2:DescribeSecurityGroups"}
	}
	in := allowed(groups, false, httpsPort)
	cidr, _ := netip.ParsePrefix(aws.ToString(n.subnet.CidrBlock))
	_, byCIDR := in.covering(cidr)
	switch {
	case in.group(e.lambdaGroups) != "" || (cidr.IsValid() && byCIDR):
	case len(e.lambdaGroups) == 0 && len(in.groups) > 0:
		return reach{status: Warn, how: r.how, problem: fmt.Sprintf("%s admits TCP 443 only from groups %s: whether the Lambdas are in one is not known", id, strings.Join(in.groups, ", ")),
			fix: "pass --lambda-security-groups to check"}
	default:
		source := "--cidr " + cidr.String()
		if len(e.lambdaGroups) > 0 {
			source = "--source-group " + e.lambdaGroups[0]
		}
		return reach{status: Fail, problem: fmt.Sprintf("%s (called by %s) is not reachable: private DNS sends its calls to %s, whose groups (%s) do not admit TCP 443 from the Lambdas",
			s.name, s.callers, id, strings.Join(groupIDs, ", ")),
			fix: fmt.Sprintf("aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp --port 443 %s", first(groupIDs, "a group of the endpoint"), source)}
	}
	if len(e.lambdaGroups) > 0 {
		if lambdaGroups, err := e.describeGroups(ctx, e.lambdaGroups); err == nil {
			out := allowed(lambdaGroups, true, httpsPort)
			if out.group(groupIDs) == "" && !coversAll(out, e.subnetPrefixes(ctx, ep.SubnetIds)) {
				return reach{status: Fail, problem: fmt.Sprintf("%s (called by %s) is not reachable: no outbound rule of %s allows TCP 443 to %s",
					s.name, s.callers, strings.Join(e.lambdaGroups, ", "), id),
					fix: fmt.Sprintf("aws ec2 authorize-security-group-egress --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=%s}]'",
						e.lambdaGroups[0], first(groupIDs, "a group of the endpoint"))}
			}
		}
	}
	az := aws.ToString(n.subnet.AvailabilityZone)
	for _, subnetID := range ep.SubnetIds {
		if sn, ok := e.subnet(ctx, subnetID); ok && aws.ToString(sn.AvailabilityZone) == az {
			return r
		}
	}
	return reach{status: Warn, how: r.how, problem: fmt.Sprintf("%s has no network interface in %s: the Lambdas here reach it in another zone and lose %s when that zone fails", id, az, s.name),
		fix: fmt.Sprintf("aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --add-subnet-ids %s", id, aws.ToString(n.subnet.SubnetId))}
}

// route53 is reached through a NAT only: Route 53 has no VPC endpoint,
// and a Lambda in a VPC gets no public IP, so an internet gateway does not
// help.
func (n *subnetNet) route53() reach {
	if n.nat != "" {
		return reach{status: OK, how: "NAT " + n.nat}
	}
	if n.other != "" {
		return n.otherRoute()
	}
	problem := "Route 53 (called by Assess, to read where routing.dns points) is not reachable: it has no VPC endpoint, so these subnets need a default route through a NAT gateway"
	if n.igw != "" {
		return reach{status: Fail,
			problem: problem + fmt.Sprintf(" (the route to the internet gateway %s does not count: Lambdas in a VPC get no public IP)", n.igw),
			fix:     "set LambdaSubnetIds (--lambda-subnets) to private subnets whose route table sends 0.0.0.0/0 to a NAT gateway (which reaches every other API too)"}
	}
	return reach{status: Fail, problem: problem,
		fix: fmt.Sprintf("aws ec2 create-route --route-table-id %s --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <a NAT gateway in a public subnet of %s> (it reaches every other API too)",
			aws.ToString(n.table.RouteTableId), aws.ToString(n.subnet.AvailabilityZone))}
}

// otherRoute is a default route through something validate cannot follow
// (a transit gateway, a NAT instance, a peering).
func (n *subnetNet) otherRoute() reach {
	return reach{status: Warn, how: "the default route through " + n.other + " (unverified)",
		problem: "The default route through " + n.other + " reaches the AWS APIs only if a NAT is behind it, which validate cannot see",
		fix:     "make sure the default route through " + n.other + " reaches a NAT gateway, or create the VPC endpoints (Route 53 has none)"}
}

func endpointGroupHint(e *env) string {
	return "<a group admitting TCP 443 from " + firstOf(strings.Join(e.lambdaGroups, ", "), "the Lambda subnets") + ">"
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

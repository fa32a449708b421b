package preflight

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/cluster"
)

// Security groups: what their rules allow on one TCP port, and the checks
// that the Lambdas' groups reach each node's PostgreSQL.

// allowsTCP reports whether a rule allows TCP on port: protocol tcp (or
// 6) with the port in its range, or all traffic (-1).
func allowsTCP(p ec2types.IpPermission, port int32) bool {
	switch aws.ToString(p.IpProtocol) {
	case "-1", "all":
		return true
	case "tcp", "6":
		return aws.ToInt32(p.FromPort) <= port && port <= aws.ToInt32(p.ToPort)
	}
	return false
}

// sources is what the rules of a set of groups allow on one TCP port:
// the groups and the IPv4 CIDR blocks they name.
type sources struct {
	groups []string
	cidrs  []netip.Prefix
	// by maps each source (a group id or a CIDR block) to the group
	// whose rule names it, for the detail.
	by map[string]string
}

// allowed collects the sources of the inbound (or, with egress, the
// outbound) rules of groups that allow TCP on port.
func allowed(groups []ec2types.SecurityGroup, egress bool, port int32) sources {
	s := sources{by: map[string]string{}}
	for _, g := range groups {
		perms := g.IpPermissions
		if egress {
			perms = g.IpPermissionsEgress
		}
		for _, p := range perms {
			if !allowsTCP(p, port) {
				continue
			}
			for _, pair := range p.UserIdGroupPairs {
				id := aws.ToString(pair.GroupId)
				s.groups = append(s.groups, id)
				s.by[id] = aws.ToString(g.GroupId)
			}
			for _, r := range p.IpRanges {
				if c, err := netip.ParsePrefix(aws.ToString(r.CidrIp)); err == nil {
					s.cidrs = append(s.cidrs, c)
					s.by[c.String()] = aws.ToString(g.GroupId)
				}
			}
		}
	}
	return s
}

// group returns the first of ids the rules name, or "".
func (s sources) group(ids []string) string {
	for _, id := range ids {
		if slices.Contains(s.groups, id) {
			return id
		}
	}
	return ""
}

// covering returns a CIDR block of the rules that holds all of p.
func (s sources) covering(p netip.Prefix) (netip.Prefix, bool) {
	for _, c := range s.cidrs {
		if c.Bits() <= p.Bits() && c.Contains(p.Masked().Addr()) {
			return c, true
		}
	}
	return netip.Prefix{}, false
}

// describeGroups describes security groups, each once per run.
func (e *env) describeGroups(ctx context.Context, ids []string) ([]ec2types.SecurityGroup, error) {
	var missing []string
	for _, id := range ids {
		if _, ok := e.groups[id]; !ok && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		out, err := e.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: missing})
		if err != nil {
			return nil, err
		}
		for _, g := range out.SecurityGroups {
			e.groups[aws.ToString(g.GroupId)] = g
		}
	}
	out := make([]ec2types.SecurityGroup, 0, len(ids))
	for _, id := range ids {
		g, ok := e.groups[id]
		if !ok {
			return nil, fmt.Errorf("security group %s: %w", id, orNotFound(nil))
		}
		out = append(out, g)
	}
	return out, nil
}

// checkLambdaGroups checks that the Lambdas' groups exist and are in the
// Lambda subnets' VPC (Lambda refuses a VpcConfig that mixes VPCs).
func checkLambdaGroups(ctx context.Context, e *env) Check {
	ch := Check{Name: "Lambda security groups"}
	groups, err := e.describeGroups(ctx, e.lambdaGroups)
	if err != nil {
		return failed(ch, fmt.Sprintf("%s: %v", strings.Join(e.lambdaGroups, ", "), err),
			"set LambdaSecurityGroupIds (--lambda-security-groups) to security groups of the Lambda subnets' VPC")
	}
	vpcs := e.lambdaVPCs(ctx)
	var names []string
	for _, g := range groups {
		vpc := aws.ToString(g.VpcId)
		if len(vpcs) > 0 && !slices.Contains(vpcs, vpc) {
			return failed(ch, fmt.Sprintf("%s is in %s, the Lambda subnets in %s: Lambda refuses subnets and groups of different VPCs",
				aws.ToString(g.GroupId), vpc, strings.Join(vpcs, ", ")),
				"set LambdaSecurityGroupIds to groups of "+strings.Join(vpcs, ", "))
		}
		names = append(names, fmt.Sprintf("%s (%s) in %s", aws.ToString(g.GroupId), aws.ToString(g.GroupName), vpc))
	}
	ch.Status, ch.Detail = OK, strings.Join(names, ", ")
	return ch
}

// checkPostgresAccess checks that node's security groups admit TCP on its
// PostgreSQL port from a Lambda group (or from CIDR blocks holding every
// Lambda subnet), and that the Lambda groups' outbound rules allow it.
func checkPostgresAccess(ctx context.Context, e *env, n cluster.Node) Check {
	ch := Check{Name: "security groups " + n.Name}
	host, portText, err := net.SplitHostPort(n.PostgresAddr)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil {
		return failed(ch, fmt.Sprintf("nodes[].postgresAddr %q is not host:port", n.PostgresAddr), "set nodes[].postgresAddr to <private IP>:<port>")
	}
	eni, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{n.NetworkInterfaceID}})
	if err != nil || len(eni.NetworkInterfaces) == 0 {
		return failed(ch, fmt.Sprintf("%s: %v", n.NetworkInterfaceID, orNotFound(err)), "see the network interface check")
	}
	var nodeIDs []string
	for _, g := range eni.NetworkInterfaces[0].Groups {
		nodeIDs = append(nodeIDs, aws.ToString(g.GroupId))
	}
	nodeGroups, err := e.describeGroups(ctx, nodeIDs)
	if err != nil {
		return failed(ch, err.Error(), "allow ec2:DescribeSecurityGroups")
	}
	lambdaGroups, err := e.describeGroups(ctx, e.lambdaGroups)
	if err != nil {
		return failed(ch, err.Error(), "see the Lambda security groups check")
	}
	p := int32(port)
	var problems, fixes, ok []string
	in := allowed(nodeGroups, false, p)
	cidrs := e.lambdaCIDRs(ctx)
	switch g := in.group(e.lambdaGroups); {
	case g != "":
		ok = append(ok, fmt.Sprintf("%s admits TCP %d from %s", in.by[g], p, g))
	case len(cidrs) > 0 && coversAll(in, cidrs):
		c, _ := in.covering(cidrs[0])
		ok = append(ok, fmt.Sprintf("%s admits TCP %d from %s, which holds the Lambda subnets", in.by[c.String()], p, c))
	case len(cidrs) == 0 && len(in.cidrs) > 0:
		ch.Status = Warn
		problems = append(problems, fmt.Sprintf("%s admits TCP %d from %s, not from the Lambda groups: whether that holds the Lambdas is not known",
			in.by[in.cidrs[0].String()], p, in.cidrs[0]))
		fixes = append(fixes, "pass --lambda-subnets to check the CIDR blocks")
	default:
		ch.Status = Fail
		problems = append(problems, fmt.Sprintf("no rule of %s (%s's groups) admits TCP %d from %s%s: the Lambdas cannot reach PostgreSQL at %s (Assess, Fence, Promote and Verify connect to it)",
			strings.Join(nodeIDs, ", "), n.Name, p, strings.Join(e.lambdaGroups, ", "), cidrText(cidrs), n.PostgresAddr))
		fixes = append(fixes, fmt.Sprintf("aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp --port %d --source-group %s",
			first(nodeIDs, "a group of the node"), p, e.lambdaGroups[0]))
	}
	out := allowed(lambdaGroups, true, p)
	dest := netip.Prefix{}
	if a, err := netip.ParseAddr(host); err == nil {
		dest = netip.PrefixFrom(a, a.BitLen())
	} else if a, err := netip.ParseAddr(n.PrivateIP); err == nil {
		dest = netip.PrefixFrom(a, a.BitLen())
	}
	if g := out.group(nodeIDs); g != "" {
		ok = append(ok, fmt.Sprintf("%s allows TCP %d out to %s", out.by[g], p, g))
	} else if c, found := out.covering(dest); dest.IsValid() && found {
		ok = append(ok, fmt.Sprintf("%s allows TCP %d out to %s", out.by[c.String()], p, c))
	} else {
		ch.Status = Fail
		problems = append(problems, fmt.Sprintf("no outbound rule of %s allows TCP %d to %s or its groups", strings.Join(e.lambdaGroups, ", "), p, n.PostgresAddr))
		fixes = append(fixes, fmt.Sprintf("aws ec2 authorize-security-group-egress --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=%d,ToPort=%d,UserIdGroupPairs=[{GroupId=%s}]'",
			e.lambdaGroups[0], p, p, first(nodeIDs, "a group of the node")))
	}
	if ch.Status == "" {
		ch.Status = OK
	}
	ch.Detail = strings.Join(append(problems, ok...), "; ")
	ch.Fix = strings.Join(fixes, "; ")
	return ch
}

// coversAll reports whether the rules' CIDR blocks hold every prefix.
func coversAll(s sources, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if _, ok := s.covering(p); !ok {
			return false
		}
	}
	return true
}

func cidrText(cidrs []netip.Prefix) string {
	if len(cidrs) == 0 {
		return ""
	}
	var s []string
	for _, c := range cidrs {
		s = append(s, c.String())
	}
	return " or from CIDR blocks holding the Lambda subnets (" + strings.Join(s, ", ") + ")"
}

// first is ids[0], or a placeholder naming what it stands for.
func first(ids []string, what string) string {
	if len(ids) == 0 {
		return "<" + what + ">"
	}
	return ids[0]
}

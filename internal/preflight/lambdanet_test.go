package preflight_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/preflight"
)

// Ids of the reference topology and of what the tests add to it.
const (
	refVPC       = "vpc-07634a7d247151222"
	subnetA2     = "subnet-0374f21a8e1c22245" // private, us-east-1a
	subnetC2     = "subnet-02fd220bb4a543de2" // private, us-east-1c
	tableA2      = "rtb-0f8b6e0c9dcdab1f6"
	tableC2      = "rtb-05f660c2254f91c10"
	sgDB         = "sg-09c713cc03fd876eb"
	sgLambda     = "sg-0e57c1a9b2d3f4086"
	sgEndpoints  = "sg-0c0ffee0c0ffee001"
	vpceEC2      = "vpce-0e0000000000000c2"
	vpceCW       = "vpce-0e00000000000c1d"
	vpceSecrets  = "vpce-0e0000000000005e"
	vpceDynamoDB = "vpce-0e000000000000dd"
)

// withoutNAT removes the private route tables' default routes: the
// Lambdas then reach AWS only through VPC endpoints.
func withoutNAT(topo *localaws.Topology) {
	for i := range topo.RouteTables {
		topo.RouteTables[i].Routes = slices.DeleteFunc(topo.RouteTables[i].Routes, func(r localaws.Route) bool {
			return r.Destination == "0.0.0.0/0" && strings.HasPrefix(r.Target, "nat-")
		})
	}
}

// withEndpoints adds what the in-VPC Lambdas need without a NAT: interface
// endpoints for EC2, CloudWatch and Secrets Manager in both private subnets,
// behind a group admitting HTTPS from the Lambdas' group, and a DynamoDB
// gateway endpoint on both private route tables.
func withEndpoints(topo *localaws.Topology) {
	topo.SecurityGroups = append(topo.SecurityGroups, localaws.SecurityGroup{ID: sgEndpoints, VPCID: refVPC, Name: "endpoints",
		Ingress: []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 443, Groups: []string{sgLambda}}}})
	iface := func(id, service string) localaws.VPCEndpoint {
		return localaws.VPCEndpoint{ID: id, VPCID: refVPC, ServiceName: "com.amazonaws.us-east-1." + service,
			SubnetIDs: []string{subnetA2, subnetC2}, Groups: []string{sgEndpoints}}
	}
	topo.VPCEndpoints = append(topo.VPCEndpoints, iface(vpceEC2, "ec2"), iface(vpceCW, "monitoring"), iface(vpceSecrets, "secretsmanager"),
		localaws.VPCEndpoint{ID: vpceDynamoDB, VPCID: refVPC, ServiceName: "com.amazonaws.us-east-1.dynamodb", Type: localaws.EndpointGateway,
			RouteTableIDs: []string{tableA2, tableC2}})
}

func endpoint(topo *localaws.Topology, id string) *localaws.VPCEndpoint {
	for i := range topo.VPCEndpoints {
		if topo.VPCEndpoints[i].ID == id {
			return &topo.VPCEndpoints[i]
		}
	}
	panic("no endpoint " + id)
}

func group(topo *localaws.Topology, id string) *localaws.SecurityGroup {
	for i := range topo.SecurityGroups {
		if topo.SecurityGroups[i].ID == id {
			return &topo.SecurityGroups[i]
		}
	}
	panic("no group " + id)
}

func TestLambdaSubnetsThroughEndpoints(t *testing.T) {
	c, cfg := account(t, func(topo *localaws.Topology) { withoutNAT(topo); withEndpoints(topo) })
	dns := cfg.Routing.DNS
	cfg.Routing.DNS = nil // Route 53 is then not called
	o := preflight.Options{LambdaSubnets: []string{subnetA2, subnetC2}, LambdaSecurityGroups: []string{sgLambda}}
	checks := run(t, c, cfg, o)
	for _, sn := range o.LambdaSubnets {
		ch := checks["Lambda subnet "+sn]
		for _, want := range []string{"EC2 via interface endpoint " + vpceEC2, "CloudWatch via interface endpoint " + vpceCW,
			"Secrets Manager via interface endpoint " + vpceSecrets, "DynamoDB via gateway endpoint " + vpceDynamoDB + " (route to pl-"} {
			if ch.Status != preflight.OK || !strings.Contains(ch.Detail, want) {
				t.Errorf("%s: %+v, want ok saying %q", sn, ch, want)
			}
		}
	}

	// With routing.dns, Assess reads Route 53, which no endpoint serves.
	cfg.Routing.DNS = dns
	ch := run(t, c, cfg, o)["Lambda subnet "+subnetA2]
	if ch.Status != preflight.Fail || !strings.Contains(ch.Detail, "Route 53 (called by Assess") || !strings.Contains(ch.Detail, "no VPC endpoint") ||
		!strings.Contains(ch.Fix, "aws ec2 create-route --route-table-id "+tableA2+" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id") {
		t.Errorf("Route 53 without a NAT: %+v", ch)
	}
}

func TestLambdaSubnetNamesWhatIsMissing(t *testing.T) {
	cases := []struct {
		name      string
		edit      func(*localaws.Topology)
		subnet    string
		status    string
		detail    string
		fix       string
		lambdaSGs []string
	}{
		{name: "missing interface endpoint", edit: func(topo *localaws.Topology) {
			topo.VPCEndpoints = slices.DeleteFunc(topo.VPCEndpoints, func(e localaws.VPCEndpoint) bool { return e.ID == vpceCW })
		}, subnet: subnetA2, status: preflight.Fail,
			detail: "No NAT route and no VPC endpoint for CloudWatch (called by Assess)",
			fix: "aws ec2 create-vpc-endpoint --vpc-id " + refVPC + " --vpc-endpoint-type Interface --service-name com.amazonaws.us-east-1.monitoring" +
				" --subnet-ids " + subnetA2 + " " + subnetC2 + " --security-group-ids <a group admitting TCP 443 from " + sgLambda + "> --private-dns-enabled"},
		{name: "missing gateway endpoint", edit: func(topo *localaws.Topology) {
			topo.VPCEndpoints = slices.DeleteFunc(topo.VPCEndpoints, func(e localaws.VPCEndpoint) bool { return e.ID == vpceDynamoDB })
		}, subnet: subnetC2, status: preflight.Fail, detail: "DynamoDB (called by Assess, Fence, Promote)",
			fix: "aws ec2 create-vpc-endpoint --vpc-id " + refVPC + " --vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.dynamodb --route-table-ids " + tableC2},
		{name: "gateway endpoint on another table", edit: func(topo *localaws.Topology) {
			endpoint(topo, vpceDynamoDB).RouteTableIDs = []string{tableA2}
		}, subnet: subnetC2, status: preflight.Fail, detail: vpceDynamoDB + " is not on " + tableC2,
			fix: "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + vpceDynamoDB + " --add-route-table-ids " + tableC2},
		{name: "private DNS off", edit: func(topo *localaws.Topology) {
			off := false
			endpoint(topo, vpceSecrets).PrivateDNSEnabled = &off
		}, subnet: subnetA2, status: preflight.Fail, detail: "has private DNS off",
			fix: "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + vpceSecrets + " --private-dns-enabled"},
		{name: "endpoint group does not admit the Lambdas", edit: func(topo *localaws.Topology) {
			group(topo, sgEndpoints).Ingress = nil
		}, subnet: subnetA2, status: preflight.Fail, detail: "do not admit TCP 443 from the Lambdas",
			fix: "aws ec2 authorize-security-group-ingress --group-id " + sgEndpoints + " --protocol tcp --port 443 --source-group " + sgLambda},
		{name: "endpoint admits the subnet by CIDR", edit: func(topo *localaws.Topology) {
			group(topo, sgEndpoints).Ingress = []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 0, ToPort: 65535, CIDRs: []string{"10.0.0.0/16"}}}
		}, subnet: subnetA2, status: preflight.OK, detail: "EC2 via interface endpoint " + vpceEC2},
		{name: "Lambda groups cannot send HTTPS out", edit: func(topo *localaws.Topology) {
			group(topo, sgLambda).Egress = []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 5432, CIDRs: []string{"10.0.0.0/16"}}}
		}, subnet: subnetA2, status: preflight.Fail, detail: "no outbound rule of " + sgLambda + " allows TCP 443 to " + vpceEC2,
			fix: "aws ec2 authorize-security-group-egress --group-id " + sgLambda},
		{name: "endpoint in one zone only", edit: func(topo *localaws.Topology) {
			endpoint(topo, vpceEC2).SubnetIDs = []string{subnetA2}
		}, subnet: subnetC2, status: preflight.Warn, detail: vpceEC2 + " has no network interface in us-east-1c",
			fix: "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + vpceEC2 + " --add-subnet-ids " + subnetC2},
		{name: "Lambda groups unknown", subnet: subnetA2, status: preflight.Warn, lambdaSGs: []string{},
			detail: "admits TCP 443 only from groups " + sgLambda, fix: "pass --lambda-security-groups"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, cfg := account(t, func(topo *localaws.Topology) {
				withoutNAT(topo)
				withEndpoints(topo)
				if tc.edit != nil {
					tc.edit(topo)
				}
			})
			cfg.Routing.DNS = nil
			groups := []string{sgLambda}
			if tc.lambdaSGs != nil {
				groups = tc.lambdaSGs
			}
			ch := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{subnetA2, subnetC2}, LambdaSecurityGroups: groups})["Lambda subnet "+tc.subnet]
			if ch.Status != tc.status || !strings.Contains(ch.Detail, tc.detail) || !strings.Contains(ch.Fix, tc.fix) {
				t.Errorf("%+v\nwant %s mentioning %q and the fix %q", ch, tc.status, tc.detail, tc.fix)
			}
		})
	}
}

// TestLambdaSubnetEndpointOverridesNAT: with private DNS, the service's
// name resolves to the interface endpoint, so a NAT route does not help
// when the endpoint's group shuts the Lambdas out.
func TestLambdaSubnetEndpointOverridesNAT(t *testing.T) {
	c, cfg := account(t, func(topo *localaws.Topology) {
		withEndpoints(topo)
		group(topo, sgEndpoints).Ingress = nil
	})
	ch := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{subnetA2}, LambdaSecurityGroups: []string{sgLambda}})["Lambda subnet "+subnetA2]
	if ch.Status != preflight.Fail || !strings.Contains(ch.Detail, "private DNS sends its calls to "+vpceEC2) ||
		!strings.Contains(ch.Detail, "Route 53 via NAT nat-") || !strings.Contains(ch.Fix, "--group-id "+sgEndpoints) {
		t.Errorf("blocked endpoint beside a NAT: %+v", ch)
	}
}

// TestLambdaSubnetOtherDefaultRoute: a default route through something
// validate cannot follow (here a network interface, as for a NAT
// instance) is a warning, not a failure.
func TestLambdaSubnetOtherDefaultRoute(t *testing.T) {
	c, cfg := account(t, func(topo *localaws.Topology) {
		withoutNAT(topo)
		for i := range topo.RouteTables {
			if topo.RouteTables[i].ID == tableA2 {
				topo.RouteTables[i].Routes = append(topo.RouteTables[i].Routes, localaws.Route{Destination: "0.0.0.0/0", Target: "eni-069d21676ba6be710"})
			}
		}
	})
	ch := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{subnetA2}})["Lambda subnet "+subnetA2]
	if ch.Status != preflight.Warn || !strings.Contains(ch.Detail, "The default route through eni-069d21676ba6be710 reaches the AWS APIs only if a NAT is behind it") {
		t.Errorf("default route through an ENI: %+v", ch)
	}
}

package ec2sim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/localaws"
)

const (
	vpceEC2     = "vpce-0a1b2c3d4e5f60001"
	vpceSecrets = "vpce-0a1b2c3d4e5f60002"
	vpceDynamo  = "vpce-0a1b2c3d4e5f60003"
	dynamoPL    = "pl-02cd2c6b"
)

// endpointsYAML adds VPC endpoints to the reference topology: EC2 in both
// private subnets, Secrets Manager with private DNS off, and a DynamoDB
// gateway endpoint on the private-a2 route table only.
const endpointsYAML = `
vpcEndpoints:
  - id: ` + vpceEC2 + `
    vpcId: ` + refVPC + `
    serviceName: com.amazonaws.us-east-1.ec2
    subnetIds: [` + refSubnetA2 + `, ` + refSubnetC2 + `]
    groups: [` + refSGDB + `]
  - id: ` + vpceSecrets + `
    vpcId: ` + refVPC + `
    serviceName: com.amazonaws.us-east-1.secretsmanager
    type: Interface
    subnetIds: [` + refSubnetA2 + `]
    groups: [` + refSGDB + `]
    privateDnsEnabled: false
  - id: ` + vpceDynamo + `
    vpcId: ` + refVPC + `
    serviceName: com.amazonaws.us-east-1.dynamodb
    type: Gateway
    routeTableIds: [` + refPrivateARTB + `]
    prefixListId: ` + dynamoPL + `
`

func referenceWith(t *testing.T, extra string) *localaws.Topology {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := localaws.ParseTopology(append(data, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func endpointIDs(out *ec2.DescribeVpcEndpointsOutput) []string {
	var ids []string
	for _, e := range out.VpcEndpoints {
		ids = append(ids, aws.ToString(e.VpcEndpointId))
	}
	return ids
}

// TestDescribeVpcEndpoints reads endpoints as AWS shows them. Their state
// is lowercase ("available"), as in AWS's answers, although the SDK's
// State enum spells it "Available".
func TestDescribeVpcEndpoints(t *testing.T) {
	h := newHarnessWith(t, referenceWith(t, endpointsYAML))
	describe := func(in *ec2.DescribeVpcEndpointsInput) *ec2.DescribeVpcEndpointsOutput {
		t.Helper()
		return must[*ec2.DescribeVpcEndpointsOutput](t)(h.client.DescribeVpcEndpoints(ctx(t), in))
	}
	all := describe(&ec2.DescribeVpcEndpointsInput{})
	if !sameSet(endpointIDs(all), []string{vpceEC2, vpceSecrets, vpceDynamo}) {
		t.Fatalf("endpoints = %v", endpointIDs(all))
	}
	byID := map[string]ec2types.VpcEndpoint{}
	for _, e := range all.VpcEndpoints {
		byID[aws.ToString(e.VpcEndpointId)] = e
	}
	e := byID[vpceEC2]
	if e.VpcEndpointType != ec2types.VpcEndpointTypeInterface || aws.ToString(e.VpcId) != refVPC ||
		aws.ToString(e.ServiceName) != "com.amazonaws.us-east-1.ec2" || e.State != "available" ||
		!aws.ToBool(e.PrivateDnsEnabled) || !sameSet(e.SubnetIds, []string{refSubnetA2, refSubnetC2}) ||
		len(e.Groups) != 1 || aws.ToString(e.Groups[0].GroupId) != refSGDB || aws.ToString(e.Groups[0].GroupName) != "switchyard-db" ||
		len(e.RouteTableIds) != 0 || len(e.DnsEntries) != 1 || !strings.HasPrefix(aws.ToString(e.DnsEntries[0].DnsName), vpceEC2+".ec2.us-east-1.") {
		t.Errorf("EC2 interface endpoint = %+v", e)
	}
	if e := byID[vpceSecrets]; aws.ToBool(e.PrivateDnsEnabled) {
		t.Errorf("Secrets Manager endpoint has private DNS on: %+v", e)
	}
	if e := byID[vpceDynamo]; e.VpcEndpointType != ec2types.VpcEndpointTypeGateway || !sameSet(e.RouteTableIds, []string{refPrivateARTB}) ||
		len(e.SubnetIds) != 0 || aws.ToBool(e.PrivateDnsEnabled) || e.CreationTimestamp == nil {
		t.Errorf("DynamoDB gateway endpoint = %+v", e)
	}

	for _, tc := range []struct {
		name string
		in   ec2.DescribeVpcEndpointsInput
		want []string
	}{
		{"vpc-id", ec2.DescribeVpcEndpointsInput{Filters: filter("vpc-id", refVPC)}, []string{vpceEC2, vpceSecrets, vpceDynamo}},
		{"vpc-id other", ec2.DescribeVpcEndpointsInput{Filters: filter("vpc-id", "vpc-0aaaaaaaaaaaaaaaa")}, nil},
		{"service-name", ec2.DescribeVpcEndpointsInput{Filters: filter("service-name", "com.amazonaws.us-east-1.ec2", "com.amazonaws.us-east-1.dynamodb")},
			[]string{vpceEC2, vpceDynamo}},
		{"vpc-endpoint-type", ec2.DescribeVpcEndpointsInput{Filters: filter("vpc-endpoint-type", "Gateway")}, []string{vpceDynamo}},
		{"filters are ANDed", ec2.DescribeVpcEndpointsInput{Filters: append(filter("vpc-endpoint-type", "Interface"),
			filter("service-name", "*secretsmanager")...)}, []string{vpceSecrets}},
		{"by id", ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{vpceDynamo}}, []string{vpceDynamo}},
	} {
		if got := endpointIDs(describe(&tc.in)); !sameSet(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	page := describe(&ec2.DescribeVpcEndpointsInput{MaxResults: aws.Int32(2)})
	rest := describe(&ec2.DescribeVpcEndpointsInput{MaxResults: aws.Int32(2), NextToken: page.NextToken})
	if len(page.VpcEndpoints) != 2 || page.NextToken == nil || len(rest.VpcEndpoints) != 1 || rest.NextToken != nil {
		t.Errorf("pages of 2: %d then %d", len(page.VpcEndpoints), len(rest.VpcEndpoints))
	}

	_, err := h.client.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{vpceEC2, "vpce-0fffffffffffffff0"}})
	wantCode(t, err, "InvalidVpcEndpointId.NotFound", 400)
	_, err = h.client.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{"sg-0123"}})
	wantCode(t, err, "InvalidVpcEndpointId.Malformed", 400)
	_, err = h.client.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{Filters: filter("no-such-filter", "x")})
	wantCode(t, err, "InvalidParameterValue", 400)
}

// TestGatewayEndpointRoutes: a gateway endpoint puts its route (the
// service's prefix list → the endpoint) in its route tables, and in no
// other.
func TestGatewayEndpointRoutes(t *testing.T) {
	h := newHarnessWith(t, referenceWith(t, endpointsYAML))
	out := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
		&ec2.DescribeRouteTablesInput{Filters: filter("route.destination-prefix-list-id", dynamoPL)}))
	if len(out.RouteTables) != 1 || aws.ToString(out.RouteTables[0].RouteTableId) != refPrivateARTB {
		t.Fatalf("tables routing %s: %+v", dynamoPL, out.RouteTables)
	}
	var found bool
	for _, r := range out.RouteTables[0].Routes {
		if aws.ToString(r.DestinationPrefixListId) == dynamoPL {
			found = true
			if aws.ToString(r.GatewayId) != vpceDynamo || r.DestinationCidrBlock != nil || r.State != ec2types.RouteStateActive {
				t.Errorf("gateway endpoint route = %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("no route to %s in %s", dynamoPL, refPrivateARTB)
	}
	out = must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
		&ec2.DescribeRouteTablesInput{Filters: filter("route.gateway-id", vpceDynamo)}))
	if len(out.RouteTables) != 1 {
		t.Errorf("route.gateway-id %s matched %d tables", vpceDynamo, len(out.RouteTables))
	}

	// Without a prefix list in the topology, one is derived in AWS's format.
	h = newHarnessWith(t, referenceWith(t, strings.ReplaceAll(endpointsYAML, "    prefixListId: "+dynamoPL+"\n", "")))
	e := must[*ec2.DescribeVpcEndpointsOutput](t)(h.client.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{vpceDynamo}}))
	rt := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{refPrivateARTB}}))
	var pl string
	for _, r := range rt.RouteTables[0].Routes {
		if aws.ToString(r.GatewayId) == vpceDynamo {
			pl = aws.ToString(r.DestinationPrefixListId)
		}
	}
	if len(e.VpcEndpoints) != 1 || len(pl) != len("pl-02cd2c6b") || !strings.HasPrefix(pl, "pl-") {
		t.Errorf("derived prefix list %q", pl)
	}
}

func TestTopologyRefusesBadEndpointsAndRules(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown type", "vpcEndpoints:\n  - {id: vpce-1, vpcId: " + refVPC + ", serviceName: x, type: GatewayLoadBalancer}\n", "want Interface or Gateway"},
		{"gateway with subnets", "vpcEndpoints:\n  - {id: vpce-1, vpcId: " + refVPC + ", serviceName: x, type: Gateway, subnetIds: [" + refSubnetA2 + "]}\n", "Gateway endpoint"},
		{"unknown route table", "vpcEndpoints:\n  - {id: vpce-1, vpcId: " + refVPC + ", serviceName: x, type: Gateway, routeTableIds: [rtb-0]}\n", `route table "rtb-0"`},
		{"unknown VPC", "vpcEndpoints:\n  - {id: vpce-1, vpcId: vpc-0, serviceName: x}\n", `vpc "vpc-0"`},
		{"no service", "vpcEndpoints:\n  - {id: vpce-1, vpcId: " + refVPC + "}\n", "no serviceName"},
	} {
		if _, err := localaws.ParseTopology([]byte("vpcs: [{id: " + refVPC + ", cidr: 10.0.0.0/16}]\n" +
			"subnets: [{id: " + refSubnetA2 + ", vpcId: " + refVPC + ", cidr: 10.0.2.0/24}]\n" + tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ name, rule, want string }{
		{"protocol", "{protocol: gre}", `protocol "gre"`},
		{"ports", "{protocol: tcp, fromPort: 5432, toPort: 22}", "port range"},
		{"cidr", "{protocol: tcp, fromPort: 5432, cidrs: [10.0.0.0]}", "not an IPv4 CIDR"},
		{"group", "{protocol: tcp, fromPort: 5432, groups: [sg-0nope]}", `security group "sg-0nope"`},
	} {
		yaml := "vpcs: [{id: " + refVPC + ", cidr: 10.0.0.0/16}]\nsecurityGroups:\n  - id: sg-1\n    vpcId: " + refVPC + "\n    ingress: [" + tc.rule + "]\n"
		if _, err := localaws.ParseTopology([]byte(yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rule %s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

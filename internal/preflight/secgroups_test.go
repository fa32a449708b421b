package preflight_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/preflight"
)

func TestSecurityGroupsOnTheReferenceAccount(t *testing.T) {
	c, cfg := account(t, nil)
	checks := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{subnetA2, subnetC2}, LambdaSecurityGroups: []string{sgLambda}})
	if ch := checks["Lambda security groups"]; ch.Status != preflight.OK || !strings.Contains(ch.Detail, sgLambda+" (switchyard-lambda) in "+refVPC) {
		t.Errorf("Lambda groups: %+v", ch)
	}
	for _, n := range cfg.Nodes {
		ch := checks["security groups "+n.Name]
		if ch.Status != preflight.OK || !strings.Contains(ch.Detail, sgDB+" admits TCP 5432 from "+sgLambda) ||
			!strings.Contains(ch.Detail, sgLambda+" allows TCP 5432 out to 0.0.0.0/0") {
			t.Errorf("%s: %+v", n.Name, ch)
		}
	}
}

func TestSecurityGroupsNameWhatIsWrong(t *testing.T) {
	dbIngress := func(rules ...localaws.SecurityGroupRule) func(*localaws.Topology) {
		return func(topo *localaws.Topology) { group(topo, sgDB).Ingress = rules }
	}
	self := localaws.SecurityGroupRule{Protocol: "tcp", FromPort: 5432, Groups: []string{sgDB}}
	cases := []struct {
		name    string
		edit    func(*localaws.Topology)
		subnets []string
		port    string
		status  string
		detail  string
		fix     string
	}{
		{name: "admitted by a CIDR block holding the Lambda subnets", edit: dbIngress(self,
			localaws.SecurityGroupRule{Protocol: "tcp", FromPort: 5000, ToPort: 6000, CIDRs: []string{"10.0.0.0/16"}}),
			subnets: []string{subnetA2, subnetC2}, status: preflight.OK, detail: sgDB + " admits TCP 5432 from 10.0.0.0/16, which holds the Lambda subnets"},
		{name: "admitted by all traffic from the Lambda group", edit: dbIngress(localaws.SecurityGroupRule{Protocol: "-1", Groups: []string{sgLambda}}),
			status: preflight.OK, detail: sgDB + " admits TCP 5432 from " + sgLambda},
		{name: "a CIDR block holding one Lambda subnet of two", edit: dbIngress(self,
			localaws.SecurityGroupRule{Protocol: "tcp", FromPort: 5432, CIDRs: []string{"10.0.2.0/24"}}),
			subnets: []string{subnetA2, subnetC2}, status: preflight.Fail, detail: "from " + sgLambda + " or from CIDR blocks holding the Lambda subnets (10.0.2.0/24, 10.0.12.0/24)",
			fix: "aws ec2 authorize-security-group-ingress --group-id " + sgDB + " --protocol tcp --port 5432 --source-group " + sgLambda},
		{name: "CIDR rules but the Lambda subnets unknown", edit: dbIngress(self,
			localaws.SecurityGroupRule{Protocol: "tcp", FromPort: 5432, CIDRs: []string{"10.0.0.0/16"}}),
			status: preflight.Warn, detail: "not from the Lambda groups", fix: "pass --lambda-subnets"},
		{name: "no rule for the Lambdas", edit: dbIngress(self), status: preflight.Fail,
			detail: "no rule of " + sgDB + " (node1's groups) admits TCP 5432 from " + sgLambda + ": the Lambdas cannot reach PostgreSQL at 10.0.2.10:5432",
			fix:    "aws ec2 authorize-security-group-ingress --group-id " + sgDB + " --protocol tcp --port 5432 --source-group " + sgLambda},
		{name: "another port", port: "6432", status: preflight.Fail, detail: "admits TCP 6432",
			fix: "--protocol tcp --port 6432 --source-group " + sgLambda},
		{name: "the Lambda group cannot send to PostgreSQL", edit: func(topo *localaws.Topology) {
			group(topo, sgLambda).Egress = []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 443, CIDRs: []string{"0.0.0.0/0"}}}
		}, status: preflight.Fail, detail: "no outbound rule of " + sgLambda + " allows TCP 5432 to 10.0.2.10:5432",
			fix: "aws ec2 authorize-security-group-egress --group-id " + sgLambda + " --ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=" + sgDB + "}]'"},
		{name: "egress to the nodes' group", edit: func(topo *localaws.Topology) {
			group(topo, sgLambda).Egress = []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 5432, Groups: []string{sgDB}}}
		}, status: preflight.OK, detail: sgLambda + " allows TCP 5432 out to " + sgDB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, cfg := account(t, tc.edit)
			if tc.port != "" {
				cfg.Nodes[0].PostgresAddr = cfg.Nodes[0].PrivateIP + ":" + tc.port
			}
			ch := run(t, c, cfg, preflight.Options{LambdaSubnets: tc.subnets, LambdaSecurityGroups: []string{sgLambda}})["security groups node1"]
			if ch.Status != tc.status || !strings.Contains(ch.Detail, tc.detail) || !strings.Contains(ch.Fix, tc.fix) {
				t.Errorf("%+v\nwant %s mentioning %q and the fix %q", ch, tc.status, tc.detail, tc.fix)
			}
		})
	}
}

func TestLambdaSecurityGroupsMustExistInTheLambdaVPC(t *testing.T) {
	c, cfg := account(t, func(topo *localaws.Topology) {
		topo.VPCs = append(topo.VPCs, localaws.VPC{ID: "vpc-0ffffffffffffffff", CIDR: "10.9.0.0/16"})
		topo.SecurityGroups = append(topo.SecurityGroups, localaws.SecurityGroup{ID: "sg-0ffffffffffffffff", VPCID: "vpc-0ffffffffffffffff", Name: "elsewhere"})
	})
	checks := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{subnetA2}, LambdaSecurityGroups: []string{"sg-0ffffffffffffffff"}})
	if ch := checks["Lambda security groups"]; ch.Status != preflight.Fail || !strings.Contains(ch.Detail, "Lambda refuses subnets and groups of different VPCs") {
		t.Errorf("group of another VPC: %+v", ch)
	}
	checks = run(t, c, cfg, preflight.Options{LambdaSecurityGroups: []string{"sg-0123456789abcdef0"}})
	if ch := checks["Lambda security groups"]; ch.Status != preflight.Fail || !strings.Contains(ch.Detail, "InvalidGroup.NotFound") ||
		!strings.Contains(ch.Fix, "LambdaSecurityGroupIds") {
		t.Errorf("unknown group: %+v", ch)
	}
	if _, ok := checks["security groups node1"]; ok {
		t.Error("the per-node checks ran without the Lambda groups")
	}
}

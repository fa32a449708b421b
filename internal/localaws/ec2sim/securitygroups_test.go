package ec2sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestDescribeSecurityGroups(t *testing.T) {
	h := newHarness(t)
	out := must[*ec2.DescribeSecurityGroupsOutput](t)(h.client.DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{}))
	if len(out.SecurityGroups) != 3 {
		t.Fatalf("want 3 groups, got %d", len(out.SecurityGroups))
	}
	out = must[*ec2.DescribeSecurityGroupsOutput](t)(h.client.DescribeSecurityGroups(ctx(t),
		&ec2.DescribeSecurityGroupsInput{Filters: filter("group-name", "*isolation")}))
	if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != refSGIsolation ||
		aws.ToString(out.SecurityGroups[0].VpcId) != refVPC {
		t.Fatalf("group-name filter: %+v", out.SecurityGroups)
	}
	out = must[*ec2.DescribeSecurityGroupsOutput](t)(h.client.DescribeSecurityGroups(ctx(t),
		&ec2.DescribeSecurityGroupsInput{GroupNames: []string{"switchyard-db"}}))
	if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != refSGDB {
		t.Fatalf("by name: %+v", out.SecurityGroups)
	}
	_, err := h.client.DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound", 400)
	_, err = h.client.DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
	wantCode(t, err, "InvalidGroup.NotFound", 400)
}

// TestSecurityGroupRules reads the reference groups' rules through the SDK:
// ipPermissions with groups and ipRanges, ports left out for protocol -1,
// AWS's default egress where the topology names none, and no rule at all
// where it says egress: [].
func TestSecurityGroupRules(t *testing.T) {
	h := newHarness(t)
	out := must[*ec2.DescribeSecurityGroupsOutput](t)(h.client.DescribeSecurityGroups(ctx(t),
		&ec2.DescribeSecurityGroupsInput{GroupIds: []string{refSGDB, refSGIsolation, refSGLambda}}))
	groups := map[string]ec2types.SecurityGroup{}
	for _, g := range out.SecurityGroups {
		groups[aws.ToString(g.GroupId)] = g
	}
	db := groups[refSGDB]
	if len(db.IpPermissions) != 3 {
		t.Fatalf("db ingress = %+v", db.IpPermissions)
	}
	fromLambda := db.IpPermissions[1]
	if aws.ToString(fromLambda.IpProtocol) != "tcp" || aws.ToInt32(fromLambda.FromPort) != 5432 || aws.ToInt32(fromLambda.ToPort) != 5432 ||
		len(fromLambda.UserIdGroupPairs) != 1 || aws.ToString(fromLambda.UserIdGroupPairs[0].GroupId) != refSGLambda ||
		aws.ToString(fromLambda.UserIdGroupPairs[0].UserId) != "123456789012" || len(fromLambda.IpRanges) != 0 {
		t.Errorf("rule from the Lambda group = %+v", fromLambda)
	}
	if r := db.IpPermissions[2]; len(r.IpRanges) != 1 || aws.ToString(r.IpRanges[0].CidrIp) != "10.0.0.0/16" ||
		aws.ToString(r.IpRanges[0].Description) != "clients in the VPC" {
		t.Errorf("rule from the VPC = %+v", r)
	}
	for _, id := range []string{refSGDB, refSGLambda} {
		eg := groups[id].IpPermissionsEgress
		if len(eg) != 1 || aws.ToString(eg[0].IpProtocol) != "-1" || eg[0].FromPort != nil || eg[0].ToPort != nil ||
			len(eg[0].IpRanges) != 1 || aws.ToString(eg[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
			t.Errorf("%s egress = %+v, want the default all traffic to 0.0.0.0/0", id, eg)
		}
	}
	if iso := groups[refSGIsolation]; len(iso.IpPermissions) != 0 || len(iso.IpPermissionsEgress) != 0 {
		t.Errorf("isolation group has rules: %+v %+v", iso.IpPermissions, iso.IpPermissionsEgress)
	}
	if lambda := groups[refSGLambda]; len(lambda.IpPermissions) != 0 {
		t.Errorf("Lambda group ingress = %+v", lambda.IpPermissions)
	}

	for _, tc := range []struct {
		name    string
		filters []ec2types.Filter
		want    []string
	}{
		{"ingress from a group", filter("ip-permission.group-id", refSGLambda), []string{refSGDB}},
		{"ingress port", filter("ip-permission.from-port", "5432"), []string{refSGDB}},
		{"ingress cidr", filter("ip-permission.cidr", "10.0.0.0/16"), []string{refSGDB}},
		{"egress protocol", filter("egress.ip-permission.protocol", "-1"), []string{refSGDB, refSGLambda}},
		{"egress cidr", filter("egress.ip-permission.cidr", "0.0.0.0/0"), []string{refSGDB, refSGLambda}},
	} {
		out := must[*ec2.DescribeSecurityGroupsOutput](t)(h.client.DescribeSecurityGroups(ctx(t),
			&ec2.DescribeSecurityGroupsInput{Filters: tc.filters}))
		var got []string
		for _, g := range out.SecurityGroups {
			got = append(got, aws.ToString(g.GroupId))
		}
		if !sameSet(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

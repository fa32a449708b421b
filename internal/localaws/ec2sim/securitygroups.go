package ec2sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeSecurityGroups, with each group's inbound and outbound rules.

// sgRule is one rule of a security group: a protocol ("tcp", "udp",
// "icmp" or "-1" for all) and port range, from (ingress) or to (egress)
// other groups and IPv4 CIDR blocks. Ports are meaningless for "-1".
type sgRule struct {
	protocol    string
	from, to    int32
	groups      []string
	cidrs       []string
	description string
}

// seedRules turns the topology's rules into the model's, with protocols
// spelled as DescribeSecurityGroups shows them.
func seedRules(rules []localaws.SecurityGroupRule) []sgRule {
	out := make([]sgRule, 0, len(rules))
	for _, r := range rules {
		x := sgRule{protocol: normalProtocol(r.Protocol), from: r.FromPort, to: r.ToPort,
			groups: append([]string(nil), r.Groups...), cidrs: append([]string(nil), r.CIDRs...), description: r.Description}
		if x.to == 0 {
			x.to = x.from
		}
		out = append(out, x)
	}
	return out
}

// defaultEgress is the outbound rule AWS gives every new security group.
func defaultEgress() []sgRule {
	return []sgRule{{protocol: "-1", cidrs: []string{"0.0.0.0/0"}}}
}

func normalProtocol(p string) string {
	switch strings.ToLower(p) {
	case "all", "-1":
		return "-1"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	}
	return strings.ToLower(p)
}

type securityGroupXML struct {
	OwnerID          string            `xml:"ownerId"`
	GroupID          string            `xml:"groupId"`
	GroupName        string            `xml:"groupName"`
	GroupDescription string            `xml:"groupDescription"`
	VpcID            string            `xml:"vpcId"`
	SecurityGroupArn string            `xml:"securityGroupArn"`
	IPPermissions    []ipPermissionXML `xml:"ipPermissions>item"`
	IPPermissionsOut []ipPermissionXML `xml:"ipPermissionsEgress>item"`
	Tags             []tagXML          `xml:"tagSet>item"`
}

// ipPermissionXML is EC2's IpPermission: fromPort and toPort are left out
// for protocol -1, as AWS does.
type ipPermissionXML struct {
	IPProtocol string             `xml:"ipProtocol"`
	FromPort   *int32             `xml:"fromPort,omitempty"`
	ToPort     *int32             `xml:"toPort,omitempty"`
	Groups     []userGroupPairXML `xml:"groups>item"`
	IPRanges   []ipRangeXML       `xml:"ipRanges>item"`
}

type userGroupPairXML struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type ipRangeXML struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type describeSecurityGroupsResponse struct {
	requestMeta
	Groups    []securityGroupXML `xml:"securityGroupInfo>item"`
	NextToken string             `xml:"nextToken,omitempty"`
}

// permField collects one value of every rule, inbound or outbound, for
// the ip-permission.* and egress.ip-permission.* filters.
func permField(egress bool, get func(ipPermissionXML) []string) func(securityGroupXML) []string {
	return func(g securityGroupXML) []string {
		perms := g.IPPermissions
		if egress {
			perms = g.IPPermissionsOut
		}
		var out []string
		for _, p := range perms {
			out = append(out, get(p)...)
		}
		return out
	}
}

func permPort(port *int32) []string {
	if port == nil {
		return nil
	}
	return []string{strconv.Itoa(int(*port))}
}

var securityGroupFilters = func() filterSpec[securityGroupXML] {
	fields := map[string]func(securityGroupXML) []string{
		"group-id":    func(v securityGroupXML) []string { return one(v.GroupID) },
		"group-name":  func(v securityGroupXML) []string { return one(v.GroupName) },
		"description": func(v securityGroupXML) []string { return one(v.GroupDescription) },
		"vpc-id":      func(v securityGroupXML) []string { return one(v.VpcID) },
		"owner-id":    func(v securityGroupXML) []string { return one(v.OwnerID) },
	}
	for prefix, egress := range map[string]bool{"ip-permission.": false, "egress.ip-permission.": true} {
		fields[prefix+"protocol"] = permField(egress, func(p ipPermissionXML) []string { return one(p.IPProtocol) })
		fields[prefix+"from-port"] = permField(egress, func(p ipPermissionXML) []string { return permPort(p.FromPort) })
		fields[prefix+"to-port"] = permField(egress, func(p ipPermissionXML) []string { return permPort(p.ToPort) })
		fields[prefix+"cidr"] = permField(egress, func(p ipPermissionXML) []string {
			var out []string
			for _, r := range p.IPRanges {
				out = append(out, r.CidrIP)
			}
			return out
		})
		fields[prefix+"group-id"] = permField(egress, func(p ipPermissionXML) []string {
			var out []string
			for _, g := range p.Groups {
				out = append(out, g.GroupID)
			}
			return out
		})
	}
	return filterSpec[securityGroupXML]{fields: fields, tags: func(v securityGroupXML) []tagXML { return v.Tags }}
}()

func (s *Service) describeSecurityGroups(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids, names := p.list("GroupId"), p.list("GroupName")
	call.AddResource(ids...)
	filters := p.filters()
	if err := securityGroupFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "groupIdSet", len(ids)+len(names) > 0)
	if err != nil {
		return nil, err
	}
	selected, err := selectByID(s.groups, func(g *securityGroup) string { return g.id }, ids, groupNotFound)
	if err != nil {
		return nil, err
	}
	if names != nil {
		selected, err = selectByID(selected, func(g *securityGroup) string { return g.name }, names, groupNotFound)
		if err != nil {
			return nil, err
		}
	}
	items := make([]securityGroupXML, 0, len(selected))
	for _, g := range selected {
		items = append(items, securityGroupXML{
			OwnerID: s.accountID, GroupID: g.id, GroupName: g.name, GroupDescription: g.name, VpcID: g.vpcID,
			SecurityGroupArn: fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", s.region, s.accountID, g.id),
			IPPermissions:    s.permissionsView(g.ingress), IPPermissionsOut: s.permissionsView(g.egress),
			Tags: nameTags(g.name),
		})
	}
	out := &describeSecurityGroupsResponse{}
	out.Groups, out.NextToken = paginate(securityGroupFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

func (s *Service) permissionsView(rules []sgRule) []ipPermissionXML {
	out := make([]ipPermissionXML, 0, len(rules))
	for _, r := range rules {
		x := ipPermissionXML{IPProtocol: r.protocol}
		if r.protocol != "-1" {
			from, to := r.from, r.to
			x.FromPort, x.ToPort = &from, &to
		}
		for _, g := range r.groups {
			x.Groups = append(x.Groups, userGroupPairXML{UserID: s.accountID, GroupID: g, Description: r.description})
		}
		for _, c := range r.cidrs {
			x.IPRanges = append(x.IPRanges, ipRangeXML{CidrIP: c, Description: r.description})
		}
		out = append(out, x)
	}
	return out
}

func groupNotFound(ids []string) *localaws.APIError {
	return localaws.BadRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", strings.Join(ids, ", "))
}

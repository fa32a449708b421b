package ec2sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeVpcs and DescribeSubnets.

type vpcXML struct {
	VpcID           string         `xml:"vpcId"`
	OwnerID         string         `xml:"ownerId"`
	State           string         `xml:"state"`
	CidrBlock       string         `xml:"cidrBlock"`
	CidrAssociation []cidrAssocXML `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID   string         `xml:"dhcpOptionsId"`
	InstanceTenancy string         `xml:"instanceTenancy"`
	IsDefault       bool           `xml:"isDefault"`
	Tags            []tagXML       `xml:"tagSet>item"`
}

type cidrAssocXML struct {
	AssociationID string       `xml:"associationId"`
	CidrBlock     string       `xml:"cidrBlock"`
	State         cidrStateXML `xml:"cidrBlockState"`
}

type cidrStateXML struct {
	State string `xml:"state"`
}

type describeVpcsResponse struct {
	requestMeta
	Vpcs      []vpcXML `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

var vpcFilters = filterSpec[vpcXML]{
	fields: map[string]func(vpcXML) []string{
		"vpc-id":                            func(v vpcXML) []string { return one(v.VpcID) },
		"cidr":                              func(v vpcXML) []string { return one(v.CidrBlock) },
		"cidr-block-association.cidr-block": func(v vpcXML) []string { return one(v.CidrBlock) },
		"cidr-block-association.association-id": func(v vpcXML) []string {
			return one(v.CidrAssociation[0].AssociationID)
		},
		"cidr-block-association.state": func(v vpcXML) []string { return one(v.CidrAssociation[0].State.State) },
		"state":                        func(v vpcXML) []string { return one(v.State) },
		"is-default":                   func(v vpcXML) []string { return one(str(v.IsDefault)) },
		"owner-id":                     func(v vpcXML) []string { return one(v.OwnerID) },
		"dhcp-options-id":              func(v vpcXML) []string { return one(v.DhcpOptionsID) },
	},
	tags: func(v vpcXML) []tagXML { return v.Tags },
}

func (s *Service) describeVpcs(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("VpcId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := vpcFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "", false)
	if err != nil {
		return nil, err
	}
	selected, err := selectByID(s.vpcs, func(v *vpc) string { return v.id }, ids, notFound("InvalidVpcID.NotFound", "vpc"))
	if err != nil {
		return nil, err
	}
	items := make([]vpcXML, 0, len(selected))
	for _, v := range selected {
		items = append(items, vpcXML{
			VpcID: v.id, OwnerID: s.accountID, State: "available", CidrBlock: v.cidr,
			CidrAssociation: []cidrAssocXML{{
				AssociationID: derivedID("vpc-cidr-assoc", v.id), CidrBlock: v.cidr, State: cidrStateXML{"associated"},
			}},
			DhcpOptionsID: derivedID("dopt", s.accountID), InstanceTenancy: "default", Tags: nameTags(v.name),
		})
	}
	out := &describeVpcsResponse{}
	out.Vpcs, out.NextToken = paginate(vpcFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

type subnetXML struct {
	SubnetID                string   `xml:"subnetId"`
	SubnetArn               string   `xml:"subnetArn"`
	State                   string   `xml:"state"`
	OwnerID                 string   `xml:"ownerId"`
	VpcID                   string   `xml:"vpcId"`
	CidrBlock               string   `xml:"cidrBlock"`
	AvailableIPAddressCount int      `xml:"availableIpAddressCount"`
	AvailabilityZone        string   `xml:"availabilityZone"`
	AvailabilityZoneID      string   `xml:"availabilityZoneId"`
	DefaultForAz            bool     `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool     `xml:"mapPublicIpOnLaunch"`
	Tags                    []tagXML `xml:"tagSet>item"`
}

type describeSubnetsResponse struct {
	requestMeta
	Subnets   []subnetXML `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

var subnetFilters = filterSpec[subnetXML]{
	fields: map[string]func(subnetXML) []string{
		"subnet-id":                  func(v subnetXML) []string { return one(v.SubnetID) },
		"subnet-arn":                 func(v subnetXML) []string { return one(v.SubnetArn) },
		"vpc-id":                     func(v subnetXML) []string { return one(v.VpcID) },
		"availability-zone":          func(v subnetXML) []string { return one(v.AvailabilityZone) },
		"availability-zone-id":       func(v subnetXML) []string { return one(v.AvailabilityZoneID) },
		"availabilityZone":           func(v subnetXML) []string { return one(v.AvailabilityZone) },
		"cidr-block":                 func(v subnetXML) []string { return one(v.CidrBlock) },
		"cidr":                       func(v subnetXML) []string { return one(v.CidrBlock) },
		"cidrBlock":                  func(v subnetXML) []string { return one(v.CidrBlock) },
		"state":                      func(v subnetXML) []string { return one(v.State) },
		"owner-id":                   func(v subnetXML) []string { return one(v.OwnerID) },
		"default-for-az":             func(v subnetXML) []string { return one(str(v.DefaultForAz)) },
		"map-public-ip-on-launch":    func(v subnetXML) []string { return one(str(v.MapPublicIPOnLaunch)) },
		"available-ip-address-count": func(v subnetXML) []string { return one(strconv.Itoa(v.AvailableIPAddressCount)) },
	},
	tags: func(v subnetXML) []tagXML { return v.Tags },
}

func (s *Service) describeSubnets(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("SubnetId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := subnetFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "", false)
	if err != nil {
		return nil, err
	}
	selected, err := selectByID(s.subnets, func(v *subnet) string { return v.id }, ids, notFound("InvalidSubnetID.NotFound", "subnet"))
	if err != nil {
		return nil, err
	}
	items := make([]subnetXML, 0, len(selected))
	for _, sn := range selected {
		items = append(items, subnetXML{
			SubnetID: sn.id, SubnetArn: fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", s.region, s.accountID, sn.id),
			State: "available", OwnerID: s.accountID, VpcID: sn.vpcID, CidrBlock: sn.cidr,
			AvailableIPAddressCount: s.freeAddresses(sn), AvailabilityZone: sn.az, AvailabilityZoneID: azID(sn.az),
			Tags: nameTags(sn.name),
		})
	}
	out := &describeSubnetsResponse{}
	out.Subnets, out.NextToken = paginate(subnetFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

// freeAddresses is the subnet's size less AWS's five reserved addresses and
// the ENIs in it.
func (s *Service) freeAddresses(sn *subnet) int {
	prefix, err := netip.ParsePrefix(sn.cidr)
	if err != nil || prefix.Addr().BitLen()-prefix.Bits() > 30 {
		return 0
	}
	n := 1<<(prefix.Addr().BitLen()-prefix.Bits()) - 5
	for _, e := range s.enis {
		if e.subnetID == sn.id {
			n--
		}
	}
	return max(n, 0)
}

// selectByID returns the items whose key is in ids, in model order, or all
// items when ids is nil. Any id that matches nothing fails the whole call,
// as in EC2.
func selectByID[T any](all []T, key func(T) string, ids []string, missing func([]string) *localaws.APIError) ([]T, *localaws.APIError) {
	if ids == nil {
		return all, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []T
	found := map[string]bool{}
	for _, it := range all {
		if k := key(it); want[k] {
			out = append(out, it)
			found[k] = true
		}
	}
	var absent []string
	for _, id := range ids {
		if !found[id] && !slices.Contains(absent, id) {
			absent = append(absent, id)
		}
	}
	if len(absent) > 0 {
		return nil, missing(absent)
	}
	return out, nil
}

// notFound builds the "The vpc ID 'vpc-1' does not exist" family of errors.
func notFound(code, kind string) func([]string) *localaws.APIError {
	return func(ids []string) *localaws.APIError {
		if len(ids) == 1 {
			return localaws.BadRequest(code, "The %s ID '%s' does not exist", kind, ids[0])
		}
		return localaws.BadRequest(code, "The %s IDs '%s' do not exist", kind, strings.Join(ids, ", "))
	}
}

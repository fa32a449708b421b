package ec2sim

import (
	"slices"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute.

type networkInterfaceXML struct {
	NetworkInterfaceID string          `xml:"networkInterfaceId"`
	SubnetID           string          `xml:"subnetId"`
	VpcID              string          `xml:"vpcId"`
	AvailabilityZone   string          `xml:"availabilityZone"`
	AvailabilityZoneID string          `xml:"availabilityZoneId"`
	Description        string          `xml:"description"`
	OwnerID            string          `xml:"ownerId"`
	RequesterManaged   bool            `xml:"requesterManaged"`
	Status             string          `xml:"status"`
	MacAddress         string          `xml:"macAddress"`
	PrivateIPAddress   string          `xml:"privateIpAddress"`
	PrivateDNSName     string          `xml:"privateDnsName"`
	SourceDestCheck    bool            `xml:"sourceDestCheck"`
	Groups             []groupXML      `xml:"groupSet>item"`
	Attachment         *eniAttachXML   `xml:"attachment,omitempty"`
	Association        *eniAssocXML    `xml:"association,omitempty"`
	Tags               []tagXML        `xml:"tagSet>item"`
	PrivateIPs         []eniPrivateXML `xml:"privateIpAddressesSet>item"`
	InterfaceType      string          `xml:"interfaceType"`
}

type eniAttachXML struct {
	AttachmentID        string `xml:"attachmentId"`
	InstanceID          string `xml:"instanceId"`
	InstanceOwnerID     string `xml:"instanceOwnerId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type eniAssocXML struct {
	PublicIP      string `xml:"publicIp"`
	PublicDNSName string `xml:"publicDnsName"`
	IPOwnerID     string `xml:"ipOwnerId"`
	AllocationID  string `xml:"allocationId"`
	AssociationID string `xml:"associationId"`
}

type eniPrivateXML struct {
	PrivateIPAddress string       `xml:"privateIpAddress"`
	PrivateDNSName   string       `xml:"privateDnsName"`
	Primary          bool         `xml:"primary"`
	Association      *eniAssocXML `xml:"association,omitempty"`
}

type describeNetworkInterfacesResponse struct {
	requestMeta
	NetworkInterfaces []networkInterfaceXML `xml:"networkInterfaceSet>item"`
	NextToken         string                `xml:"nextToken,omitempty"`
}

func attachField(get func(*eniAttachXML) string) func(networkInterfaceXML) []string {
	return func(n networkInterfaceXML) []string {
		if n.Attachment == nil {
			return nil
		}
		return one(get(n.Attachment))
	}
}

func eniAssocField(get func(*eniAssocXML) string) func(networkInterfaceXML) []string {
	return func(n networkInterfaceXML) []string {
		if n.Association == nil {
			return nil
		}
		return one(get(n.Association))
	}
}

func eniGroupField(get func(groupXML) string) func(networkInterfaceXML) []string {
	return func(n networkInterfaceXML) []string {
		var out []string
		for _, g := range n.Groups {
			out = append(out, get(g))
		}
		return out
	}
}

var networkInterfaceFilters = filterSpec[networkInterfaceXML]{
	fields: map[string]func(networkInterfaceXML) []string{
		"network-interface-id":         func(n networkInterfaceXML) []string { return one(n.NetworkInterfaceID) },
		"subnet-id":                    func(n networkInterfaceXML) []string { return one(n.SubnetID) },
		"vpc-id":                       func(n networkInterfaceXML) []string { return one(n.VpcID) },
		"availability-zone":            func(n networkInterfaceXML) []string { return one(n.AvailabilityZone) },
		"description":                  func(n networkInterfaceXML) []string { return one(n.Description) },
		"owner-id":                     func(n networkInterfaceXML) []string { return one(n.OwnerID) },
		"requester-managed":            func(n networkInterfaceXML) []string { return one(str(n.RequesterManaged)) },
		"status":                       func(n networkInterfaceXML) []string { return one(n.Status) },
		"mac-address":                  func(n networkInterfaceXML) []string { return one(n.MacAddress) },
		"private-ip-address":           func(n networkInterfaceXML) []string { return one(n.PrivateIPAddress) },
		"addresses.private-ip-address": func(n networkInterfaceXML) []string { return one(n.PrivateIPAddress) },
		"private-dns-name":             func(n networkInterfaceXML) []string { return one(n.PrivateDNSName) },
		"source-dest-check":            func(n networkInterfaceXML) []string { return one(str(n.SourceDestCheck)) },
		"interface-type":               func(n networkInterfaceXML) []string { return one(n.InterfaceType) },
		"group-id":                     eniGroupField(func(g groupXML) string { return g.GroupID }),
		"group-name":                   eniGroupField(func(g groupXML) string { return g.GroupName }),
		"attachment.attachment-id":     attachField(func(a *eniAttachXML) string { return a.AttachmentID }),
		"attachment.instance-id":       attachField(func(a *eniAttachXML) string { return a.InstanceID }),
		"attachment.instance-owner-id": attachField(func(a *eniAttachXML) string { return a.InstanceOwnerID }),
		"attachment.status":            attachField(func(a *eniAttachXML) string { return a.Status }),
		"attachment.delete-on-termination": attachField(func(a *eniAttachXML) string {
			return str(a.DeleteOnTermination)
		}),
		"association.allocation-id":  eniAssocField(func(a *eniAssocXML) string { return a.AllocationID }),
		"association.association-id": eniAssocField(func(a *eniAssocXML) string { return a.AssociationID }),
		"association.public-ip":      eniAssocField(func(a *eniAssocXML) string { return a.PublicIP }),
		"association.ip-owner-id":    eniAssocField(func(a *eniAssocXML) string { return a.IPOwnerID }),
	},
	tags: func(n networkInterfaceXML) []tagXML { return n.Tags },
}

func (s *Service) describeNetworkInterfaces(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("NetworkInterfaceId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := networkInterfaceFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "networkInterfaceIdSet", ids != nil)
	if err != nil {
		return nil, err
	}
	selected, err := selectByID(s.enis, func(n *networkInterface) string { return n.id }, ids, eniNotFound)
	if err != nil {
		return nil, err
	}
	v := s.newViewLocked()
	items := make([]networkInterfaceXML, 0, len(selected))
	for _, n := range selected {
		if v.misses(eniLastChange(n)) {
			if ids != nil {
				return nil, eniNotFound([]string{n.id})
			}
			continue
		}
		items = append(items, s.networkInterfaceView(n, v))
	}
	out := &describeNetworkInterfacesResponse{}
	out.NetworkInterfaces, out.NextToken = paginate(networkInterfaceFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

// networkInterfaceView renders an interface as the view v sees it.
func (s *Service) networkInterfaceView(n *networkInterface, v view) networkInterfaceXML {
	az := s.azOf(n.subnetID)
	groups, sourceDestCheck := v.eni(n)
	x := networkInterfaceXML{
		NetworkInterfaceID: n.id, SubnetID: n.subnetID, VpcID: s.vpcOfENI(n), AvailabilityZone: az,
		AvailabilityZoneID: azID(az), OwnerID: s.accountID, Status: "available", MacAddress: n.mac,
		PrivateIPAddress: n.privateIP, PrivateDNSName: s.privateDNSName(n.privateIP),
		SourceDestCheck: sourceDestCheck, Groups: s.groupViews(groups), InterfaceType: "interface",
	}
	if in := s.instanceByID[n.instanceID]; in != nil {
		x.Status = "in-use"
		x.Attachment = &eniAttachXML{AttachmentID: n.attachmentID, InstanceID: in.id, InstanceOwnerID: s.accountID,
			Status: "attached", AttachTime: timestamp(in.launchTime), DeleteOnTermination: true}
		x.Description = "Primary network interface"
	}
	priv := eniPrivateXML{PrivateIPAddress: n.privateIP, PrivateDNSName: x.PrivateDNSName, Primary: true}
	if a := s.addressOnENI(n.id); a != nil {
		x.Association = &eniAssocXML{PublicIP: a.publicIP, PublicDNSName: publicDNSName(a.publicIP),
			IPOwnerID: s.accountID, AllocationID: a.allocationID, AssociationID: a.associationID}
		priv.Association = x.Association
	}
	x.PrivateIPs = []eniPrivateXML{priv}
	for _, k := range sortedKeys(n.tags) {
		x.Tags = append(x.Tags, tagXML{Key: k, Value: n.tags[k]})
	}
	return x
}

// modifyNetworkInterfaceAttribute changes one attribute of an ENI: its
// security groups (SecurityGroupId.N, replacing the set) or its
// source/destination check (SourceDestCheck.Value).
func (s *Service) modifyNetworkInterfaceAttribute(call *localaws.Call, p params) (response, *localaws.APIError) {
	id := p.get("NetworkInterfaceId")
	call.AddResource(id)
	groups := p.list("SecurityGroupId")
	call.AddResource(groups...)
	if id == "" {
		return nil, localaws.BadRequest("MissingParameter", "The request must contain the parameter networkInterfaceId")
	}
	eni := s.eniByID[id]
	if eni == nil {
		return nil, eniNotFound([]string{id})
	}
	var changes int
	for _, attr := range []string{"SourceDestCheck.Value", "Description.Value", "Attachment.AttachmentId"} {
		if p.has(attr) {
			changes++
		}
	}
	if groups != nil {
		changes++
	}
	switch {
	case changes == 0:
		return nil, localaws.BadRequest("MissingParameter",
			"The request must contain exactly one of the attributes description, sourceDestCheck, groupSet or attachment")
	case changes > 1:
		return nil, localaws.BadRequest("InvalidParameterCombination",
			"Only one attribute of a network interface can be modified per request")
	case p.has("Attachment.AttachmentId"):
		return nil, localaws.BadRequest("InvalidParameterValue",
			"The Switchyard local stack does not modify network interface attachments")
	case p.has("Description.Value"):
		return &returnResponse{Return: true}, nil
	case p.has("SourceDestCheck.Value"):
		check, err := p.boolean("SourceDestCheck.Value")
		if err != nil {
			return nil, err
		}
		if check != eni.sourceDestCheck {
			s.recordENILocked(eni)
			eni.sourceDestCheck = check
		}
		return &returnResponse{Return: true}, nil
	}
	return s.setGroups(eni, groups)
}

func (s *Service) setGroups(eni *networkInterface, groups []string) (response, *localaws.APIError) {
	vpcID := s.vpcOfENI(eni)
	var set []string
	for _, g := range groups {
		sg := s.groupByID[g]
		if sg == nil {
			return nil, groupNotFound([]string{g})
		}
		if sg.vpcID != "" && sg.vpcID != vpcID {
			return nil, localaws.BadRequest("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", g, vpcID)
		}
		if !slices.Contains(set, g) {
			set = append(set, g)
		}
	}
	if !slices.Equal(set, eni.groups) {
		s.recordENILocked(eni)
		eni.groups = set
	}
	return &returnResponse{Return: true}, nil
}

func eniNotFound(ids []string) *localaws.APIError {
	return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface")(ids)
}

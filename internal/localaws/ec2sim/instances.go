package ec2sim

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeInstances and DescribeInstanceStatus.

type instanceXML struct {
	InstanceID         string           `xml:"instanceId"`
	ImageID            string           `xml:"imageId"`
	State              stateXML         `xml:"instanceState"`
	PrivateDNSName     string           `xml:"privateDnsName"`
	DNSName            string           `xml:"dnsName"`
	Reason             string           `xml:"reason"`
	AmiLaunchIndex     int              `xml:"amiLaunchIndex"`
	InstanceType       string           `xml:"instanceType"`
	LaunchTime         string           `xml:"launchTime"`
	Placement          placementXML     `xml:"placement"`
	Monitoring         cidrStateXML     `xml:"monitoring"`
	SubnetID           string           `xml:"subnetId"`
	VpcID              string           `xml:"vpcId"`
	PrivateIPAddress   string           `xml:"privateIpAddress"`
	IPAddress          string           `xml:"ipAddress,omitempty"`
	SourceDestCheck    bool             `xml:"sourceDestCheck"`
	Groups             []groupXML       `xml:"groupSet>item"`
	StateReason        *stateReasonXML  `xml:"stateReason,omitempty"`
	Architecture       string           `xml:"architecture"`
	RootDeviceType     string           `xml:"rootDeviceType"`
	RootDeviceName     string           `xml:"rootDeviceName"`
	VirtualizationType string           `xml:"virtualizationType"`
	Hypervisor         string           `xml:"hypervisor"`
	Tags               []tagXML         `xml:"tagSet>item"`
	NetworkInterfaces  []instanceENIXML `xml:"networkInterfaceSet>item"`
}

type placementXML struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type instanceENIXML struct {
	NetworkInterfaceID string               `xml:"networkInterfaceId"`
	SubnetID           string               `xml:"subnetId"`
	VpcID              string               `xml:"vpcId"`
	OwnerID            string               `xml:"ownerId"`
	Status             string               `xml:"status"`
	MacAddress         string               `xml:"macAddress"`
	PrivateIPAddress   string               `xml:"privateIpAddress"`
	PrivateDNSName     string               `xml:"privateDnsName"`
	SourceDestCheck    bool                 `xml:"sourceDestCheck"`
	Groups             []groupXML           `xml:"groupSet>item"`
	Attachment         instanceAttachXML    `xml:"attachment"`
	Association        *instanceAssocXML    `xml:"association,omitempty"`
	PrivateIPs         []instancePrivateXML `xml:"privateIpAddressesSet>item"`
	InterfaceType      string               `xml:"interfaceType"`
}

type instanceAttachXML struct {
	AttachmentID        string `xml:"attachmentId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type instanceAssocXML struct {
	PublicIP      string `xml:"publicIp"`
	PublicDNSName string `xml:"publicDnsName"`
	IPOwnerID     string `xml:"ipOwnerId"`
}

type instancePrivateXML struct {
	PrivateIPAddress string            `xml:"privateIpAddress"`
	PrivateDNSName   string            `xml:"privateDnsName"`
	Primary          bool              `xml:"primary"`
	Association      *instanceAssocXML `xml:"association,omitempty"`
}

type reservationXML struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	requestMeta
	Reservations []reservationXML `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

func eniField(get func(instanceENIXML) string) func(instanceXML) []string {
	return func(i instanceXML) []string {
		var out []string
		for _, n := range i.NetworkInterfaces {
			out = append(out, get(n))
		}
		return out
	}
}

func groupField(get func(groupXML) string) func(instanceXML) []string {
	return func(i instanceXML) []string {
		var out []string
		for _, g := range i.Groups {
			out = append(out, get(g))
		}
		return out
	}
}

var instanceFilters = filterSpec[instanceXML]{
	fields: map[string]func(instanceXML) []string{
		"instance-id":                            func(i instanceXML) []string { return one(i.InstanceID) },
		"instance-state-name":                    func(i instanceXML) []string { return one(i.State.Name) },
		"instance-state-code":                    func(i instanceXML) []string { return one(strconv.Itoa(i.State.Code)) },
		"instance-type":                          func(i instanceXML) []string { return one(i.InstanceType) },
		"image-id":                               func(i instanceXML) []string { return one(i.ImageID) },
		"availability-zone":                      func(i instanceXML) []string { return one(i.Placement.AvailabilityZone) },
		"subnet-id":                              func(i instanceXML) []string { return one(i.SubnetID) },
		"vpc-id":                                 func(i instanceXML) []string { return one(i.VpcID) },
		"private-ip-address":                     func(i instanceXML) []string { return one(i.PrivateIPAddress) },
		"private-dns-name":                       func(i instanceXML) []string { return one(i.PrivateDNSName) },
		"ip-address":                             func(i instanceXML) []string { return one(i.IPAddress) },
		"source-dest-check":                      func(i instanceXML) []string { return one(str(i.SourceDestCheck)) },
		"instance.group-id":                      groupField(func(g groupXML) string { return g.GroupID }),
		"instance.group-name":                    groupField(func(g groupXML) string { return g.GroupName }),
		"network-interface.network-interface-id": eniField(func(n instanceENIXML) string { return n.NetworkInterfaceID }),
		"network-interface.subnet-id":            eniField(func(n instanceENIXML) string { return n.SubnetID }),
		"network-interface.vpc-id":               eniField(func(n instanceENIXML) string { return n.VpcID }),
		"network-interface.addresses.private-ip-address": eniField(func(n instanceENIXML) string {
			return n.PrivateIPAddress
		}),
	},
	tags: func(i instanceXML) []tagXML { return i.Tags },
}

func (s *Service) describeInstances(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("InstanceId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := instanceFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "instancesSet", ids != nil)
	if err != nil {
		return nil, err
	}
	if err := checkInstanceIDs(ids); err != nil {
		return nil, err
	}
	selected, err := selectByID(s.instances, func(i *instance) string { return i.id }, ids, instanceNotFound)
	if err != nil {
		return nil, err
	}
	v := s.newViewLocked()
	views := make([]instanceXML, 0, len(selected))
	for _, in := range selected {
		if v.misses(s.lastChange(in)) {
			if ids != nil {
				return nil, instanceNotFound([]string{in.id})
			}
			continue
		}
		views = append(views, s.instanceView(in, v))
	}
	out := &describeInstancesResponse{}
	views, out.NextToken = paginate(instanceFilters.apply(views, filters), call.Operation, pg)
	for _, v := range views {
		out.Reservations = append(out.Reservations, reservationXML{
			ReservationID: s.instanceByID[v.InstanceID].reservationID, OwnerID: s.accountID, Instances: []instanceXML{v},
		})
	}
	return out, nil
}

// instanceView renders an instance as the view v sees it.
func (s *Service) instanceView(in *instance, v view) instanceXML {
	eni := s.eniByID[in.eniID]
	sn := s.subnetByID[in.subnetID]
	state, stateChanged := v.instanceState(in)
	x := instanceXML{
		InstanceID: in.id, ImageID: in.imageID, State: stateOf(state),
		PrivateDNSName: s.privateDNSName(in.privateIP), InstanceType: "t3.medium",
		LaunchTime: timestamp(in.launchTime),
		Placement:  placementXML{AvailabilityZone: s.azOf(in.subnetID), Tenancy: "default"},
		Monitoring: cidrStateXML{State: "disabled"}, SubnetID: in.subnetID,
		PrivateIPAddress: in.privateIP, Architecture: "x86_64", RootDeviceType: "ebs",
		RootDeviceName: "/dev/xvda", VirtualizationType: "hvm", Hypervisor: "xen",
	}
	if sn != nil {
		x.VpcID = sn.vpcID
	}
	switch state {
	case StateStopping, StateStopped:
		x.Reason = "User initiated (" + stateChanged.UTC().Format("2006-01-02 15:04:05 MST") + ")"
		x.StateReason = &stateReasonXML{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	case StatePending:
		x.StateReason = &stateReasonXML{Code: "pending", Message: "pending"}
	}
	for _, k := range sortedKeys(in.tags) {
		x.Tags = append(x.Tags, tagXML{Key: k, Value: in.tags[k]})
	}
	if eni != nil {
		groups, sourceDestCheck := v.eni(eni)
		x.SourceDestCheck = sourceDestCheck
		x.Groups = s.groupViews(groups)
		n := instanceENIXML{
			NetworkInterfaceID: eni.id, SubnetID: eni.subnetID, VpcID: s.vpcOfENI(eni), OwnerID: s.accountID,
			Status: "in-use", MacAddress: eni.mac, PrivateIPAddress: eni.privateIP,
			PrivateDNSName: s.privateDNSName(eni.privateIP), SourceDestCheck: sourceDestCheck,
			Groups: x.Groups, InterfaceType: "interface",
			Attachment: instanceAttachXML{AttachmentID: eni.attachmentID, Status: "attached",
				AttachTime: timestamp(in.launchTime), DeleteOnTermination: true},
		}
		priv := instancePrivateXML{PrivateIPAddress: eni.privateIP, PrivateDNSName: n.PrivateDNSName, Primary: true}
		if a := s.addressOnENI(eni.id); a != nil {
			x.IPAddress = a.publicIP
			n.Association = &instanceAssocXML{PublicIP: a.publicIP, PublicDNSName: publicDNSName(a.publicIP), IPOwnerID: s.accountID}
			priv.Association = n.Association
			x.DNSName = n.Association.PublicDNSName
		}
		n.PrivateIPs = []instancePrivateXML{priv}
		x.NetworkInterfaces = []instanceENIXML{n}
	}
	return x
}

func (s *Service) groupViews(ids []string) []groupXML {
	out := make([]groupXML, 0, len(ids))
	for _, id := range ids {
		g := groupXML{GroupID: id}
		if sg := s.groupByID[id]; sg != nil {
			g.GroupName = sg.name
		}
		out = append(out, g)
	}
	return out
}

func (s *Service) privateDNSName(ip string) string {
	if ip == "" {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if s.region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + s.region + ".compute.internal"
}

func publicDNSName(ip string) string {
	return "ec2-" + strings.ReplaceAll(ip, ".", "-") + ".compute-1.amazonaws.com"
}

// timestamp formats a time the way EC2 responses carry it.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// checkInstanceIDs answers InvalidInstanceID.Malformed for ids that cannot
// be instance ids, before any lookup, as EC2 does.
func checkInstanceIDs(ids []string) *localaws.APIError {
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return localaws.BadRequest("InvalidInstanceID.Malformed", "Invalid id: \"%s\" (expecting \"i-...\")", id)
		}
	}
	return nil
}

func instanceNotFound(ids []string) *localaws.APIError {
	return notFound("InvalidInstanceID.NotFound", "instance")(ids)
}

package ec2sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// model is the emulated account: its resources in declaration order, with
// indexes by id. Guarded by Service.mu.
type model struct {
	region    string
	accountID string

	vpcs        []*vpc
	subnets     []*subnet
	routeTables []*routeTable
	groups      []*securityGroup
	enis        []*networkInterface
	instances   []*instance
	addresses   []*address
	endpoints   []*vpcEndpoint // endpoints.go

	vpcByID      map[string]*vpc
	subnetByID   map[string]*subnet
	routeByID    map[string]*routeTable
	groupByID    map[string]*securityGroup
	eniByID      map[string]*networkInterface
	instanceByID map[string]*instance
	addressByID  map[string]*address
	gateways     map[string]bool // internet / NAT / virtual private gateways named by routes

	volumesOf map[string][]*volume // by instance id (snapshots.go)
	snapshots map[string]*snapshot
}

type vpc struct {
	id, cidr, name string
}

type subnet struct {
	id, vpcID, cidr, az, name string
}

type routeTable struct {
	id, vpcID, name string
	main            bool
	subnets         []string
	routes          []*route
}

// route targets "local", a gateway id (igw-, vgw-, nat-) or an ENI id.
// Routes created with an instance id keep the instance's primary ENI, as
// AWS does.
type route struct {
	destination string
	target      string
	origin      string // CreateRouteTable or CreateRoute
}

type securityGroup struct {
	id, vpcID, name string
	ingress, egress []sgRule // securitygroups.go
}

type networkInterface struct {
	id, subnetID, privateIP string
	instanceID              string // "" when detached
	attachmentID            string
	mac                     string
	sourceDestCheck         bool
	groups                  []string
	tags                    map[string]string
	past                    []eniVersion // versions stale reads may still show
}

type instance struct {
	id, name, subnetID, privateIP, eniID string
	imageID, reservationID               string
	state                                string
	tags                                 map[string]string
	launchTime                           time.Time
	stateChanged                         time.Time
	instanceImpaired, systemImpaired     bool
	impairedSince                        time.Time
	generation                           int               // bumped on every state change; cancels stale timers
	past                                 []instanceVersion // versions stale reads may still show
	stops                                []StopRequest     // StopInstances calls naming the instance
}

type address struct {
	allocationID, publicIP string
	associationID          string // "" when not associated
	instanceID, eniID      string
	privateIP              string
}

// seed builds the model from a topology. The topology has been validated by
// localaws.ParseTopology; seed still tolerates missing links.
func seed(t *localaws.Topology, now time.Time) model {
	m := model{
		region: t.Region, accountID: t.AccountID,
		vpcByID: map[string]*vpc{}, subnetByID: map[string]*subnet{}, routeByID: map[string]*routeTable{},
		groupByID: map[string]*securityGroup{}, eniByID: map[string]*networkInterface{},
		instanceByID: map[string]*instance{}, addressByID: map[string]*address{}, gateways: map[string]bool{},
	}
	if m.region == "" {
		m.region = "us-east-1"
	}
	if m.accountID == "" {
		m.accountID = "123456789012"
	}
	for _, v := range t.VPCs {
		x := &vpc{id: v.ID, cidr: v.CIDR, name: v.Name}
		m.vpcs = append(m.vpcs, x)
		m.vpcByID[x.id] = x
	}
	for _, sn := range t.Subnets {
		x := &subnet{id: sn.ID, vpcID: sn.VPCID, cidr: sn.CIDR, az: sn.AvailabilityZone, name: sn.Name}
		if x.az == "" {
			x.az = m.region + "a"
		}
		m.subnets = append(m.subnets, x)
		m.subnetByID[x.id] = x
	}
	for _, g := range t.SecurityGroups {
		x := &securityGroup{id: g.ID, vpcID: g.VPCID, name: g.Name, ingress: seedRules(g.Ingress), egress: seedRules(g.Egress)}
		if g.Egress == nil {
			x.egress = defaultEgress()
		}
		m.groups = append(m.groups, x)
		m.groupByID[x.id] = x
	}
	for _, n := range t.NetworkInterfaces {
		x := &networkInterface{id: n.ID, subnetID: n.SubnetID, privateIP: n.PrivateIP, instanceID: n.InstanceID,
			sourceDestCheck: n.SourceDestCheck, groups: append([]string(nil), n.Groups...), mac: macFor(n.ID), tags: maps.Clone(n.Tags)}
		m.enis = append(m.enis, x)
		m.eniByID[x.id] = x
	}
	for _, i := range t.Instances {
		m.seedInstance(i, now)
	}
	for _, n := range m.enis {
		if n.instanceID != "" && n.attachmentID == "" {
			n.attachmentID = derivedID("eni-attach", n.id)
		}
	}
	for _, rt := range t.RouteTables {
		x := &routeTable{id: rt.ID, vpcID: rt.VPCID, name: rt.Name, main: rt.Main, subnets: append([]string(nil), rt.Subnets...)}
		for _, r := range rt.Routes {
			x.routes = append(x.routes, m.seedRoute(r))
		}
		m.routeTables = append(m.routeTables, x)
		m.routeByID[x.id] = x
	}
	for _, a := range t.Addresses {
		m.seedAddress(a)
	}
	m.seedEndpoints(t, now)
	m.seedVolumes()
	return m
}

// seedInstance links an instance with its primary ENI, creating one when
// the topology declares none (every EC2 instance has one).
func (m *model) seedInstance(i localaws.Instance, now time.Time) {
	x := &instance{id: i.ID, name: i.Name, subnetID: i.SubnetID, privateIP: i.PrivateIP, eniID: i.NetworkInterfaceID,
		state: i.State, tags: maps.Clone(i.Tags), launchTime: now, stateChanged: now,
		imageID: derivedID("ami", i.ID), reservationID: derivedID("r", i.ID)}
	if x.state == "" {
		x.state = StateRunning
	}
	if x.tags == nil {
		x.tags = map[string]string{}
	}
	if x.name != "" {
		x.tags["Name"] = x.name
	} else {
		x.name = x.tags["Name"]
	}
	if x.eniID == "" {
		for _, n := range m.enis {
			if n.instanceID == x.id {
				x.eniID = n.id
				break
			}
		}
	}
	eni := m.eniByID[x.eniID]
	if eni == nil {
		eni = &networkInterface{id: derivedID("eni", x.id), subnetID: x.subnetID, privateIP: x.privateIP, sourceDestCheck: true}
		eni.mac = macFor(eni.id)
		m.enis = append(m.enis, eni)
		m.eniByID[eni.id] = eni
		x.eniID = eni.id
	}
	eni.instanceID = x.id
	if x.privateIP == "" {
		x.privateIP = eni.privateIP
	}
	if eni.privateIP == "" {
		eni.privateIP = x.privateIP
	}
	m.instances = append(m.instances, x)
	m.instanceByID[x.id] = x
}

func (m *model) seedRoute(r localaws.Route) *route {
	x := &route{destination: r.Destination, target: r.Target, origin: "CreateRoute"}
	switch {
	case r.Target == "local":
		x.origin = "CreateRouteTable"
	case strings.HasPrefix(r.Target, "i-"):
		if in := m.instanceByID[r.Target]; in != nil {
			x.target = in.eniID
		}
	case isGateway(r.Target):
		m.gateways[r.Target] = true
	}
	return x
}

func (m *model) seedAddress(a localaws.Address) {
	x := &address{allocationID: a.AllocationID, publicIP: a.PublicIP}
	eniID := a.NetworkInterfaceID
	if eniID == "" && a.InstanceID != "" {
		if in := m.instanceByID[a.InstanceID]; in != nil {
			eniID = in.eniID
		}
	}
	if eni := m.eniByID[eniID]; eni != nil {
		x.eniID, x.instanceID, x.privateIP = eni.id, eni.instanceID, eni.privateIP
		x.associationID = derivedID("eipassoc", x.allocationID)
	}
	m.addresses = append(m.addresses, x)
	m.addressByID[x.allocationID] = x
}

// isGateway reports whether id names a gateway a route can target.
func isGateway(id string) bool {
	for _, p := range []string{"igw-", "vgw-", "nat-"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// derivedID returns a stable id in AWS's long format (prefix-0 + 16 hex
// digits) for resources the topology leaves implicit.
func derivedID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(prefix + "/" + seed))
	return prefix + "-0" + hex.EncodeToString(sum[:])[:16]
}

// newID returns a fresh random id in AWS's long format.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-0" + hex.EncodeToString(b[:])
}

// macFor derives a locally administered MAC address for an ENI.
func macFor(eniID string) string {
	sum := sha256.Sum256([]byte(eniID))
	sum[0] = sum[0]&0xfe | 0x02
	h := hex.EncodeToString(sum[:6])
	return h[0:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10] + ":" + h[10:12]
}

// vpcOfENI returns the VPC of an ENI through its subnet.
func (m *model) vpcOfENI(n *networkInterface) string {
	if sn := m.subnetByID[n.subnetID]; sn != nil {
		return sn.vpcID
	}
	return ""
}

// azOf returns the availability zone of a subnet.
func (m *model) azOf(subnetID string) string {
	if sn := m.subnetByID[subnetID]; sn != nil {
		return sn.az
	}
	return ""
}

// addressOnENI returns the Elastic IP associated with an ENI, if any.
func (m *model) addressOnENI(eniID string) *address {
	for _, a := range m.addresses {
		if a.associationID != "" && a.eniID == eniID {
			return a
		}
	}
	return nil
}

// azID turns "us-east-1c" into a zone id like "use1-az3": the first part
// of the region, the initials of the others, then the zone's letter.
func azID(az string) string {
	if len(az) < 2 {
		return ""
	}
	region, letter := az[:len(az)-1], az[len(az)-1]
	parts := strings.Split(region, "-")
	short := parts[0]
	for _, part := range parts[1:] {
		if part != "" {
			short += part[:1]
		}
	}
	return short + "-az" + string(rune('1'+letter-'a'))
}

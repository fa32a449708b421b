package ec2sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeVpcEndpoints.

// vpcEndpoint is an Interface or Gateway endpoint for an AWS service. The
// requester-managed network interfaces of an Interface endpoint are not
// modelled (DescribeNetworkInterfaces does not show them).
type vpcEndpoint struct {
	id, vpcID, serviceName string
	typ                    string   // localaws.EndpointInterface or EndpointGateway
	state                  string   // lowercase, "available", as AWS answers (the SDK's enum says "Available")
	subnets, groups        []string // Interface
	privateDNS             bool     // Interface
	routeTables            []string // Gateway
	prefixList             string   // Gateway: the destination of its routes
	created                time.Time
}

// seedEndpoints adds the topology's endpoints; a Gateway endpoint adds its
// route (prefix list → endpoint) to each of its route tables, as AWS does.
// Route tables must be seeded first.
func (m *model) seedEndpoints(t *localaws.Topology, now time.Time) {
	for _, e := range t.VPCEndpoints {
		x := &vpcEndpoint{id: e.ID, vpcID: e.VPCID, serviceName: e.ServiceName, typ: e.Type, state: e.State,
			subnets: append([]string(nil), e.SubnetIDs...), groups: append([]string(nil), e.Groups...),
			routeTables: append([]string(nil), e.RouteTableIDs...), prefixList: e.PrefixListID, created: now}
		if x.typ == "" {
			x.typ = localaws.EndpointInterface
		}
		if x.state == "" {
			x.state = "available"
		}
		if x.typ == localaws.EndpointInterface {
			x.privateDNS = e.PrivateDNSEnabled == nil || *e.PrivateDNSEnabled
		}
		if x.typ == localaws.EndpointGateway {
			if x.prefixList == "" {
				x.prefixList = prefixListFor(x.serviceName)
			}
			for _, id := range x.routeTables {
				if rt := m.routeByID[id]; rt != nil && findRoute(rt, x.prefixList) == nil {
					rt.routes = append(rt.routes, &route{destination: x.prefixList, target: x.id, origin: "CreateRoute"})
				}
			}
		}
		m.endpoints = append(m.endpoints, x)
	}
}

// prefixListFor derives a stable prefix list id ("pl-" and 8 hex digits,
// AWS's format for service prefix lists) from a service name.
func prefixListFor(serviceName string) string {
	id := derivedID("pl", serviceName) // pl-0 + 16 hex digits
	return "pl-" + id[len("pl-0"):len("pl-0")+8]
}

type vpcEndpointXML struct {
	VpcEndpointID     string        `xml:"vpcEndpointId"`
	VpcEndpointType   string        `xml:"vpcEndpointType"`
	VpcID             string        `xml:"vpcId"`
	ServiceName       string        `xml:"serviceName"`
	State             string        `xml:"state"`
	PolicyDocument    string        `xml:"policyDocument"`
	RouteTableIDs     []string      `xml:"routeTableIdSet>item"`
	SubnetIDs         []string      `xml:"subnetIdSet>item"`
	Groups            []groupXML    `xml:"groupSet>item"`
	IPAddressType     string        `xml:"ipAddressType,omitempty"`
	PrivateDNSEnabled bool          `xml:"privateDnsEnabled"`
	RequesterManaged  bool          `xml:"requesterManaged"`
	DNSEntries        []dnsEntryXML `xml:"dnsEntrySet>item"`
	CreationTimestamp string        `xml:"creationTimestamp"`
	OwnerID           string        `xml:"ownerId"`
	Tags              []tagXML      `xml:"tagSet>item"`
}

type dnsEntryXML struct {
	DNSName      string `xml:"dnsName"`
	HostedZoneID string `xml:"hostedZoneId"`
}

type describeVpcEndpointsResponse struct {
	requestMeta
	VpcEndpoints []vpcEndpointXML `xml:"vpcEndpointSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

var vpcEndpointFilters = filterSpec[vpcEndpointXML]{
	fields: map[string]func(vpcEndpointXML) []string{
		"vpc-endpoint-id":    func(v vpcEndpointXML) []string { return one(v.VpcEndpointID) },
		"vpc-endpoint-type":  func(v vpcEndpointXML) []string { return one(v.VpcEndpointType) },
		"vpc-endpoint-state": func(v vpcEndpointXML) []string { return one(v.State) },
		"vpc-id":             func(v vpcEndpointXML) []string { return one(v.VpcID) },
		"service-name":       func(v vpcEndpointXML) []string { return one(v.ServiceName) },
		"ip-address-type":    func(v vpcEndpointXML) []string { return one(v.IPAddressType) },
	},
	tags: func(v vpcEndpointXML) []tagXML { return v.Tags },
}

func (s *Service) describeVpcEndpoints(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("VpcEndpointId")
	call.AddResource(ids...)
	for _, id := range ids {
		if !strings.HasPrefix(id, "vpce-") {
			return nil, localaws.BadRequest("InvalidVpcEndpointId.Malformed", "Invalid Id: '%s' (expecting 'vpce-...')", id)
		}
	}
	filters := p.filters()
	if err := vpcEndpointFilters.check(filters); err != nil {
		return nil, err
	}
	// AWS documents no lower bound and caps the page at 1,000 items.
	pg, err := pageParams(p, call.Operation, 1, 1<<31-1, "", false)
	if err != nil {
		return nil, err
	}
	pg.limit = min(pg.limit, 1000)
	selected, err := selectByID(s.endpoints, func(e *vpcEndpoint) string { return e.id }, ids,
		notFound("InvalidVpcEndpointId.NotFound", "vpcEndpoint"))
	if err != nil {
		return nil, err
	}
	items := make([]vpcEndpointXML, 0, len(selected))
	for _, e := range selected {
		items = append(items, s.endpointView(e))
	}
	out := &describeVpcEndpointsResponse{}
	out.VpcEndpoints, out.NextToken = paginate(vpcEndpointFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

func (s *Service) endpointView(e *vpcEndpoint) vpcEndpointXML {
	x := vpcEndpointXML{VpcEndpointID: e.id, VpcEndpointType: e.typ, VpcID: e.vpcID, ServiceName: e.serviceName,
		State: e.state, RouteTableIDs: e.routeTables, SubnetIDs: e.subnets, PrivateDNSEnabled: e.privateDNS,
		CreationTimestamp: e.created.UTC().Format("2006-01-02T15:04:05.000Z"), OwnerID: s.accountID,
		PolicyDocument: fullAccessPolicy}
	for _, g := range e.groups {
		name := ""
		if sg := s.groupByID[g]; sg != nil {
			name = sg.name
		}
		x.Groups = append(x.Groups, groupXML{GroupID: g, GroupName: name})
	}
	if e.typ == localaws.EndpointInterface {
		x.IPAddressType = "ipv4"
		service := e.serviceName[strings.LastIndex(e.serviceName, ".")+1:]
		zone := derivedID("Z", s.region) // Z-0 + 16 hex digits; Route 53's ids are Z + 13 characters
		x.DNSEntries = []dnsEntryXML{{DNSName: fmt.Sprintf("%s.%s.%s.vpce.amazonaws.com", e.id, service, s.region),
			HostedZoneID: "Z" + strings.ToUpper(zone[len(zone)-13:])}}
	}
	return x
}

// fullAccessPolicy is the policy AWS attaches to an endpoint created
// without one.
const fullAccessPolicy = `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`

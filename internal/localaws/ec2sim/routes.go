package ec2sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeRouteTables, CreateRoute and ReplaceRoute.

type routeTableXML struct {
	RouteTableID string        `xml:"routeTableId"`
	VpcID        string        `xml:"vpcId"`
	OwnerID      string        `xml:"ownerId"`
	Routes       []routeXML    `xml:"routeSet>item"`
	Associations []rtbAssocXML `xml:"associationSet>item"`
	Tags         []tagXML      `xml:"tagSet>item"`
}

type routeXML struct {
	DestinationCidrBlock    string `xml:"destinationCidrBlock,omitempty"`
	DestinationPrefixListID string `xml:"destinationPrefixListId,omitempty"`
	GatewayID               string `xml:"gatewayId,omitempty"`
	InstanceID              string `xml:"instanceId,omitempty"`
	InstanceOwnerID         string `xml:"instanceOwnerId,omitempty"`
	NatGatewayID            string `xml:"natGatewayId,omitempty"`
	NetworkInterfaceID      string `xml:"networkInterfaceId,omitempty"`
	State                   string `xml:"state"`
	Origin                  string `xml:"origin"`
}

type rtbAssocXML struct {
	AssociationID string       `xml:"routeTableAssociationId"`
	RouteTableID  string       `xml:"routeTableId"`
	SubnetID      string       `xml:"subnetId,omitempty"`
	Main          bool         `xml:"main"`
	State         cidrStateXML `xml:"associationState"`
}

type describeRouteTablesResponse struct {
	requestMeta
	RouteTables []routeTableXML `xml:"routeTableSet>item"`
	NextToken   string          `xml:"nextToken,omitempty"`
}

func routeField(get func(routeXML) string) func(routeTableXML) []string {
	return func(t routeTableXML) []string {
		var out []string
		for _, r := range t.Routes {
			if v := get(r); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
}

func assocField(get func(rtbAssocXML) string) func(routeTableXML) []string {
	return func(t routeTableXML) []string {
		var out []string
		for _, a := range t.Associations {
			if v := get(a); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
}

var routeTableFilters = filterSpec[routeTableXML]{
	fields: map[string]func(routeTableXML) []string{
		"route-table-id":                         func(t routeTableXML) []string { return one(t.RouteTableID) },
		"vpc-id":                                 func(t routeTableXML) []string { return one(t.VpcID) },
		"owner-id":                               func(t routeTableXML) []string { return one(t.OwnerID) },
		"association.route-table-association-id": assocField(func(a rtbAssocXML) string { return a.AssociationID }),
		"association.route-table-id":             assocField(func(a rtbAssocXML) string { return a.RouteTableID }),
		"association.subnet-id":                  assocField(func(a rtbAssocXML) string { return a.SubnetID }),
		"association.main":                       assocField(func(a rtbAssocXML) string { return str(a.Main) }),
		"route.destination-cidr-block":           routeField(func(r routeXML) string { return r.DestinationCidrBlock }),
		"route.destination-prefix-list-id":       routeField(func(r routeXML) string { return r.DestinationPrefixListID }),
		"route.gateway-id":                       routeField(func(r routeXML) string { return r.GatewayID }),
		"route.instance-id":                      routeField(func(r routeXML) string { return r.InstanceID }),
		"route.nat-gateway-id":                   routeField(func(r routeXML) string { return r.NatGatewayID }),
		"route.network-interface-id":             routeField(func(r routeXML) string { return r.NetworkInterfaceID }),
		"route.origin":                           routeField(func(r routeXML) string { return r.Origin }),
		"route.state":                            routeField(func(r routeXML) string { return r.State }),
	},
	tags: func(t routeTableXML) []tagXML { return t.Tags },
}

func (s *Service) describeRouteTables(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("RouteTableId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := routeTableFilters.check(filters); err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 100, "", false)
	if err != nil {
		return nil, err
	}
	selected, err := selectByID(s.routeTables, func(t *routeTable) string { return t.id }, ids,
		notFound("InvalidRouteTableID.NotFound", "routeTable"))
	if err != nil {
		return nil, err
	}
	items := make([]routeTableXML, 0, len(selected))
	for _, t := range selected {
		items = append(items, s.routeTableView(t))
	}
	out := &describeRouteTablesResponse{}
	out.RouteTables, out.NextToken = paginate(routeTableFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

func (s *Service) routeTableView(t *routeTable) routeTableXML {
	x := routeTableXML{RouteTableID: t.id, VpcID: t.vpcID, OwnerID: s.accountID, Tags: nameTags(t.name)}
	for _, r := range t.routes {
		x.Routes = append(x.Routes, s.routeView(r))
	}
	associated := cidrStateXML{State: "associated"}
	if t.main {
		x.Associations = append(x.Associations, rtbAssocXML{
			AssociationID: derivedID("rtbassoc", t.id+"/main"), RouteTableID: t.id, Main: true, State: associated})
	}
	for _, sn := range t.subnets {
		x.Associations = append(x.Associations, rtbAssocXML{
			AssociationID: derivedID("rtbassoc", t.id+"/"+sn), RouteTableID: t.id, SubnetID: sn, State: associated})
	}
	return x
}

// routeView shows a route as DescribeRouteTables does. A route to an ENI
// names the instance the ENI is attached to and is a blackhole unless that
// instance is pending or running.
func (s *Service) routeView(r *route) routeXML {
	x := routeXML{DestinationCidrBlock: r.destination, State: "active", Origin: r.origin}
	if strings.HasPrefix(r.destination, "pl-") { // a gateway endpoint's route
		x.DestinationCidrBlock, x.DestinationPrefixListID = "", r.destination
	}
	switch {
	case strings.HasPrefix(r.target, "nat-"):
		x.NatGatewayID = r.target
	case strings.HasPrefix(r.target, "eni-"):
		x.NetworkInterfaceID = r.target
		x.State = "blackhole"
		if eni := s.eniByID[r.target]; eni != nil && eni.instanceID != "" {
			x.InstanceID, x.InstanceOwnerID = eni.instanceID, s.accountID
			if in := s.instanceByID[eni.instanceID]; in != nil && (in.state == StateRunning || in.state == StatePending) {
				x.State = "active"
			}
		}
	default: // "local", igw-, vgw-, and vpce- (a gateway endpoint)
		x.GatewayID = r.target
	}
	return x
}

// createRoute adds a route; RouteAlreadyExists when the table has one for
// the destination.
func (s *Service) createRoute(call *localaws.Call, p params) (response, *localaws.APIError) {
	rt, dest, target, err := s.routeRequest(call, p, false)
	if err != nil {
		return nil, err
	}
	if findRoute(rt, dest) != nil {
		return nil, localaws.BadRequest("RouteAlreadyExists", "The route identified by %s already exists.", dest)
	}
	rt.routes = append(rt.routes, &route{destination: dest, target: target, origin: "CreateRoute"})
	return &returnResponse{Return: true}, nil
}

// replaceRoute points an existing route at a new target. A destination the
// table has no route for is InvalidParameterValue, not InvalidRoute.NotFound
// (which DeleteRoute answers): that is what EC2 returns, checked against AWS
// by moto (getmoto/moto#6425), with the message below.
func (s *Service) replaceRoute(call *localaws.Call, p params) (response, *localaws.APIError) {
	rt, dest, target, err := s.routeRequest(call, p, true)
	if err != nil {
		return nil, err
	}
	r := findRoute(rt, dest)
	if r == nil {
		return nil, localaws.BadRequest("InvalidParameterValue",
			"There is no route defined for '%s' in the route table. Use CreateRoute instead.", dest)
	}
	if r.target == "local" && target != "local" {
		return nil, localaws.BadRequest("InvalidParameterValue",
			"The route identified by %s is the local route of the VPC; the local stack does not replace it.", dest)
	}
	r.target = target
	return &returnResponse{Return: true}, nil
}

// RemoveRoute deletes the route for destinationCIDR from a route table, as
// another actor's DeleteRoute would: a test control for a route that
// vanishes under a caller. The local route of the VPC cannot be removed.
func (s *Service) RemoveRoute(routeTableID, destinationCIDR string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routeByID[routeTableID]
	if rt == nil {
		return fmt.Errorf("ec2sim: no route table %q", routeTableID)
	}
	for i, r := range rt.routes {
		if r.destination != destinationCIDR {
			continue
		}
		if r.target == "local" {
			return fmt.Errorf("ec2sim: %s in %s is the local route of the VPC", destinationCIDR, routeTableID)
		}
		rt.routes = slices.Delete(rt.routes, i, i+1)
		return nil
	}
	return fmt.Errorf("ec2sim: route table %s has no route for %s", routeTableID, destinationCIDR)
}

func findRoute(rt *routeTable, dest string) *route {
	for _, r := range rt.routes {
		if r.destination == dest {
			return r
		}
	}
	return nil
}

// routeTargetParams are the target parameters of CreateRoute/ReplaceRoute.
// Those after NetworkInterfaceId name targets the emulator does not model.
var routeTargetParams = []string{"GatewayId", "NatGatewayId", "InstanceId", "NetworkInterfaceId",
	"TransitGatewayId", "VpcPeeringConnectionId", "EgressOnlyInternetGatewayId", "LocalGatewayId",
	"CarrierGatewayId", "VpcEndpointId", "CoreNetworkArn", "OdbNetworkArn"}

// routeRequest validates the common part of CreateRoute and ReplaceRoute
// and resolves the target: instances are replaced by their primary ENI.
func (s *Service) routeRequest(call *localaws.Call, p params, replace bool) (*routeTable, string, string, *localaws.APIError) {
	rtID := p.get("RouteTableId")
	call.AddResource(rtID)
	var named []string
	for _, name := range routeTargetParams {
		if v := p.get(name); v != "" {
			named = append(named, name)
			call.AddResource(v)
		}
	}
	local, err := p.boolean("LocalTarget")
	if err != nil {
		return nil, "", "", err
	}
	if rtID == "" {
		return nil, "", "", localaws.BadRequest("MissingParameter", "The request must contain the parameter routeTableId")
	}
	dest := p.get("DestinationCidrBlock")
	if dest == "" {
		return nil, "", "", localaws.BadRequest("MissingParameter", "The request must contain the parameter destinationCidrBlock")
	}
	prefix, perr := netip.ParsePrefix(dest)
	if perr != nil || !prefix.Addr().Is4() || prefix.Masked() != prefix {
		return nil, "", "", localaws.BadRequest("InvalidParameterValue",
			"Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", dest)
	}
	rt := s.routeByID[rtID]
	if rt == nil {
		return nil, "", "", notFound("InvalidRouteTableID.NotFound", "routeTable")([]string{rtID})
	}
	switch {
	case local && replace && len(named) == 0:
		return rt, dest, "local", nil
	case len(named) == 0 && !local:
		return nil, "", "", localaws.BadRequest("MissingParameter",
			"The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, instanceId, "+
				"vpcPeeringConnectionId, transitGatewayId, egressOnlyInternetGatewayId, localGatewayId or carrierGatewayId")
	case len(named) > 1 || local:
		return nil, "", "", localaws.BadRequest("InvalidParameterCombination",
			"More than one route target was specified: %s", strings.Join(named, ", "))
	}
	target, terr := s.resolveRouteTarget(rt, named[0], p.get(named[0]))
	if terr != nil {
		return nil, "", "", terr
	}
	call.AddResource(target)
	return rt, dest, target, nil
}

func (s *Service) resolveRouteTarget(rt *routeTable, param, id string) (string, *localaws.APIError) {
	switch param {
	case "GatewayId":
		if !s.gateways[id] || strings.HasPrefix(id, "nat-") {
			return "", localaws.BadRequest("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
		}
		return id, nil
	case "NatGatewayId":
		if !s.gateways[id] || !strings.HasPrefix(id, "nat-") {
			return "", localaws.BadRequest("NatGatewayNotFound", "The natGateway ID '%s' does not exist", id)
		}
		return id, nil
	case "InstanceId":
		if err := checkInstanceIDs([]string{id}); err != nil {
			return "", err
		}
		in := s.instanceByID[id]
		if in == nil {
			return "", instanceNotFound([]string{id})
		}
		return s.sameNetwork(rt, in.eniID)
	case "NetworkInterfaceId":
		if s.eniByID[id] == nil {
			return "", notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface")([]string{id})
		}
		return s.sameNetwork(rt, id)
	}
	return "", localaws.BadRequest("InvalidParameterValue",
		"Route target %s is not supported by the Switchyard local stack.", lowerFirst(param))
}

// sameNetwork refuses a target ENI outside the route table's VPC.
func (s *Service) sameNetwork(rt *routeTable, eniID string) (string, *localaws.APIError) {
	eni := s.eniByID[eniID]
	if eni == nil {
		return "", notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface")([]string{eniID})
	}
	if vpc := s.vpcOfENI(eni); vpc != rt.vpcID {
		return "", localaws.BadRequest("InvalidParameterValue",
			"Route table %s and network interface %s belong to different networks.", rt.id, eniID)
	}
	return eniID, nil
}

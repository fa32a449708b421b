package ec2sim

import (
	"maps"
	"slices"
)

// In-process views of the emulated state for the local data plane and for
// tests. They read the same state the wire API changes, without HTTP, and
// are safe for concurrent use.

// RouteTarget returns the target of the route for destinationCIDR in a route
// table: "local", a gateway id ("igw-…", "nat-…") or a network interface id
// ("eni-…"; routes created with an instance id resolve to its ENI). ok is
// false when the table or the route does not exist.
func (s *Service) RouteTarget(routeTableID, destinationCIDR string) (target string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routeByID[routeTableID]
	if rt == nil {
		return "", false
	}
	if r := findRoute(rt, destinationCIDR); r != nil {
		return r.target, true
	}
	return "", false
}

// RouteTargets returns, for every route table with a route for
// destinationCIDR, the table id mapped to the route's target.
func (s *Service) RouteTargets(destinationCIDR string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, rt := range s.routeTables {
		if r := findRoute(rt, destinationCIDR); r != nil {
			out[rt.id] = r.target
		}
	}
	return out
}

// RouteTableOfSubnet returns the route table a subnet uses: the one it is
// associated with explicitly, else its VPC's main table.
func (s *Service) RouteTableOfSubnet(subnetID string) (routeTableID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := s.subnetByID[subnetID]
	if sn == nil {
		return "", false
	}
	for _, rt := range s.routeTables {
		if slices.Contains(rt.subnets, subnetID) {
			return rt.id, true
		}
	}
	for _, rt := range s.routeTables {
		if rt.main && rt.vpcID == sn.vpcID {
			return rt.id, true
		}
	}
	return "", false
}

// InstanceState returns an instance's state name ("running", "stopping",
// "stopped", ...) or "" when there is no such instance.
func (s *Service) InstanceState(instanceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.instanceByID[instanceID]; in != nil {
		return in.state
	}
	return ""
}

// InstanceNetworkInterface returns an instance's primary ENI and private IP.
func (s *Service) InstanceNetworkInterface(instanceID string) (eniID, privateIP string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instanceByID[instanceID]
	if in == nil {
		return "", "", false
	}
	return in.eniID, in.privateIP, true
}

// NetworkInterface returns the instance an ENI is attached to ("" when
// detached) and its private IP.
func (s *Service) NetworkInterface(eniID string) (instanceID, privateIP string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	eni := s.eniByID[eniID]
	if eni == nil {
		return "", "", false
	}
	return eni.instanceID, eni.privateIP, true
}

// SecurityGroups returns the security group ids of an ENI, nil when there
// is no such ENI.
func (s *Service) SecurityGroups(eniID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if eni := s.eniByID[eniID]; eni != nil {
		return slices.Clone(eni.groups)
	}
	return nil
}

// SourceDestCheck returns whether an ENI's source/destination check is on.
func (s *Service) SourceDestCheck(eniID string) (on, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if eni := s.eniByID[eniID]; eni != nil {
		return eni.sourceDestCheck, true
	}
	return false, false
}

// AddressTarget returns where an Elastic IP points: the instance and the
// ENI it is associated with. ok is false when the allocation does not
// exist or is not associated.
func (s *Service) AddressTarget(allocationID string) (instanceID, eniID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.addressByID[allocationID]
	if a == nil || a.associationID == "" {
		return "", "", false
	}
	return a.instanceID, a.eniID, true
}

// AddressByPublicIP returns the allocation id of an Elastic IP.
func (s *Service) AddressByPublicIP(publicIP string) (allocationID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.addresses {
		if a.publicIP == publicIP {
			return a.allocationID, true
		}
	}
	return "", false
}

// InstanceIDs returns the ids of all instances, in topology order.
func (s *Service) InstanceIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in.id)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

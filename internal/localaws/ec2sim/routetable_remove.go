package ec2sim

import (
	"fmt"
	"slices"
)

// RemoveRouteTable deletes a route table with all its routes, as another
// actor's DeleteRouteTable would: a test control for a table that vanishes
// under a caller, which from then on gets InvalidRouteTableID.NotFound for
// it. As EC2 does, it refuses the main table of a VPC and a table still
// associated with subnets.
func (s *Service) RemoveRouteTable(routeTableID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routeByID[routeTableID]
	switch {
	case rt == nil:
		return fmt.Errorf("ec2sim: no route table %q", routeTableID)
	case rt.main:
		return fmt.Errorf("ec2sim: %s is the main route table of %s", routeTableID, rt.vpcID)
	case len(rt.subnets) > 0:
		return fmt.Errorf("ec2sim: %s is associated with %v", routeTableID, rt.subnets)
	}
	delete(s.routeByID, routeTableID)
	s.routeTables = slices.DeleteFunc(s.routeTables, func(t *routeTable) bool { return t == rt })
	return nil
}

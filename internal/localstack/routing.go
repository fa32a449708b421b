package localstack

import (
	"fmt"
	"net"

	"github.com/switchyard/switchyard/internal/dataplane"
)

// Client-facing addresses of the reference topology.
const (
	OverlayCIDR = "10.1.0.10/32"
	DNSName     = "pg.db.switchyard.internal"
	// clientSubnet is where the demo's clients sit (private subnet A2): the
	// overlay IP is resolved through that subnet's route table.
	clientSubnetName = "private-a2"
)

// startDataPlane starts one forwarder per client-facing address. Each new
// connection goes to whichever node the emulated AWS state points at now,
// and is refused when that node's instance is not running.
func (s *Stack) startDataPlane() error {
	var err error
	if s.ClientOverlay, err = dataplane.NewForwarder("overlay-ip "+OverlayCIDR, s.resolveOverlay, dataplane.WithLogger(s.log)); err != nil {
		return err
	}
	s.onClose(s.ClientOverlay.Close)
	if s.ClientEIP, err = dataplane.NewForwarder("elastic-ip", s.resolveEIP, dataplane.WithLogger(s.log)); err != nil {
		return err
	}
	s.onClose(s.ClientEIP.Close)
	if s.ClientDNS, err = dataplane.NewForwarder("dns "+DNSName, s.resolveDNS, dataplane.WithLogger(s.log)); err != nil {
		return err
	}
	s.onClose(s.ClientDNS.Close)
	return nil
}

func (s *Stack) subnetID(name string) (string, bool) {
	for _, sn := range s.Topology.Subnets {
		if sn.Name == name {
			return sn.ID, true
		}
	}
	return "", false
}

// RoutedNode names the node the overlay route of the client subnet points at.
func (s *Stack) RoutedNode() (string, error) {
	subnet, ok := s.subnetID(clientSubnetName)
	if !ok {
		return "", fmt.Errorf("no subnet %s in the topology", clientSubnetName)
	}
	rt, ok := s.EC2.RouteTableOfSubnet(subnet)
	if !ok {
		return "", fmt.Errorf("subnet %s has no route table", clientSubnetName)
	}
	target, ok := s.EC2.RouteTarget(rt, OverlayCIDR)
	if !ok {
		return "", fmt.Errorf("route table %s has no route to %s", rt, OverlayCIDR)
	}
	n := s.nodeOfENI(target)
	if n == nil {
		if inst := s.nodeOfInstance(target); inst != nil {
			return inst.Name, nil
		}
		return "", fmt.Errorf("the route to %s points at %s, which is no node", OverlayCIDR, target)
	}
	return n.Name, nil
}

func (s *Stack) resolveOverlay() (string, error) {
	name, err := s.RoutedNode()
	if err != nil {
		return "", err
	}
	return s.reachable(s.Nodes[name])
}

func (s *Stack) resolveEIP() (string, error) {
	if len(s.Topology.Addresses) == 0 {
		return "", fmt.Errorf("the topology has no Elastic IP")
	}
	inst, eni, ok := s.EC2.AddressTarget(s.Topology.Addresses[0].AllocationID)
	if !ok {
		return "", fmt.Errorf("the Elastic IP is not associated")
	}
	if n := s.nodeOfENI(eni); n != nil {
		return s.reachable(n)
	}
	if n := s.nodeOfInstance(inst); n != nil {
		return s.reachable(n)
	}
	return "", fmt.Errorf("the Elastic IP is associated with %s%s, which is no node", inst, eni)
}

func (s *Stack) resolveDNS() (string, error) {
	ips := s.Route53.Resolve(DNSName, "A")
	if len(ips) == 0 {
		return "", fmt.Errorf("%s does not resolve", DNSName)
	}
	for _, n := range s.Nodes {
		if n.Instance.PrivateIP == ips[0] {
			return s.reachable(n)
		}
	}
	return "", fmt.Errorf("%s resolves to %s, which is no node", DNSName, ips[0])
}

// reachable returns the node's PostgreSQL address if its instance runs.
func (s *Stack) reachable(n *Node) (string, error) {
	if st := s.EC2.InstanceState(n.Instance.ID); st != "running" {
		return "", fmt.Errorf("%s's instance %s is %s", n.Name, n.Instance.ID, st)
	}
	return n.PG.Addr(), nil
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

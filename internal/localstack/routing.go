package localstack

import (
	"fmt"
	"net"
	"sync"
	"time"

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
	name, err := s.eipNode()
	if err != nil {
		return "", err
	}
	return s.reachable(s.Nodes[name])
}

// dnsCache is the clients' caching resolver: an answer is kept for its
// record's TTL, as the VPC resolver, nscd and client libraries keep it, so
// a client reconnecting after a failover reaches the old address until
// the TTL runs out. Negative answers are not cached.
type dnsCache struct {
	mu      sync.Mutex
	ip      string
	expires time.Time
}

// lookup returns the cached answer or resolves afresh.
func (c *dnsCache) lookup(resolve func() ([]string, time.Duration)) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ip != "" && time.Now().Before(c.expires) {
		return c.ip, true
	}
	ips, ttl := resolve()
	if len(ips) == 0 {
		c.ip = ""
		return "", false
	}
	c.ip, c.expires = ips[0], time.Now().Add(ttl)
	return c.ip, true
}

func (s *Stack) resolveDNS() (string, error) {
	ip, ok := s.dns.lookup(func() ([]string, time.Duration) { return s.Route53.ResolveTTL(DNSName, "A") })
	if !ok {
		return "", fmt.Errorf("%s does not resolve", DNSName)
	}
	ips := []string{ip}
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

// Client-routing scenarios: which client-facing address a client uses.
const (
	ScenarioRouteTable = "routetable" // the overlay IP, through the VPC route tables
	ScenarioEIP        = "eip"        // the Elastic IP (internet clients)
	ScenarioRoute53    = "route53"    // the DNS name (on-premises or another VPC), cached for its TTL
)

// Scenarios lists them in the order the demo and the benchmark use.
var Scenarios = []string{ScenarioRouteTable, ScenarioEIP, ScenarioRoute53}

// ClientPath is how a client of one scenario reaches the primary: the
// local address it connects to, and where the AWS state behind it points.
type ClientPath struct {
	Scenario string
	// Label names the address in a timeline ("overlay IP 10.1.0.10/32").
	Label     string
	Forwarder *dataplane.Forwarder
	// Routed names the node the target points at now, as AWS says (for
	// DNS: the record's served value, not a client's cached answer).
	Routed func() (string, error)
}

// ClientPath returns the path of a scenario.
func (s *Stack) ClientPath(scenario string) (ClientPath, error) {
	switch scenario {
	case ScenarioRouteTable:
		return ClientPath{scenario, "overlay IP " + OverlayCIDR, s.ClientOverlay, s.RoutedNode}, nil
	case ScenarioEIP:
		return ClientPath{scenario, "Elastic IP", s.ClientEIP, s.eipNode}, nil
	case ScenarioRoute53:
		return ClientPath{scenario, "DNS name " + DNSName, s.ClientDNS, s.dnsNode}, nil
	}
	return ClientPath{}, fmt.Errorf("scenario %q: want one of %v", scenario, Scenarios)
}

func (s *Stack) eipNode() (string, error) {
	if len(s.Topology.Addresses) == 0 {
		return "", fmt.Errorf("the topology has no Elastic IP")
	}
	inst, eni, ok := s.EC2.AddressTarget(s.Topology.Addresses[0].AllocationID)
	if !ok {
		return "", fmt.Errorf("the Elastic IP is not associated")
	}
	if n := s.nodeOfENI(eni); n != nil {
		return n.Name, nil
	}
	if n := s.nodeOfInstance(inst); n != nil {
		return n.Name, nil
	}
	return "", fmt.Errorf("the Elastic IP is associated with %s%s, which is no node", inst, eni)
}

func (s *Stack) dnsNode() (string, error) {
	ips := s.Route53.Resolve(DNSName, "A")
	if len(ips) == 0 {
		return "", fmt.Errorf("%s does not resolve", DNSName)
	}
	for _, n := range s.Nodes {
		if n.Instance.PrivateIP == ips[0] {
			return n.Name, nil
		}
	}
	return "", fmt.Errorf("%s resolves to %s, which is no node", DNSName, ips[0])
}

package localaws

import (
	"fmt"
	"net/netip"
	"os"

	"gopkg.in/yaml.v3"
)

// Topology is the declarative seed of the emulated account: a network, its
// instances and the client-facing addresses. Files under testdata/ and
// events/ use it; LoadTopology reads YAML or JSON.
type Topology struct {
	Region            string             `yaml:"region" json:"region"`
	AccountID         string             `yaml:"accountId" json:"accountId"`
	VPCs              []VPC              `yaml:"vpcs" json:"vpcs"`
	Subnets           []Subnet           `yaml:"subnets" json:"subnets"`
	RouteTables       []RouteTable       `yaml:"routeTables" json:"routeTables"`
	SecurityGroups    []SecurityGroup    `yaml:"securityGroups" json:"securityGroups"`
	VPCEndpoints      []VPCEndpoint      `yaml:"vpcEndpoints" json:"vpcEndpoints"`
	NetworkInterfaces []NetworkInterface `yaml:"networkInterfaces" json:"networkInterfaces"`
	Instances         []Instance         `yaml:"instances" json:"instances"`
	Addresses         []Address          `yaml:"addresses" json:"addresses"`
	HostedZones       []HostedZone       `yaml:"hostedZones" json:"hostedZones"`
	Secrets           []Secret           `yaml:"secrets" json:"secrets"`
}

// VPC is an emulated VPC.
type VPC struct {
	ID   string `yaml:"id" json:"id"`
	CIDR string `yaml:"cidr" json:"cidr"`
	Name string `yaml:"name" json:"name"`
}

// Subnet is an emulated subnet in one AZ.
type Subnet struct {
	ID               string `yaml:"id" json:"id"`
	VPCID            string `yaml:"vpcId" json:"vpcId"`
	CIDR             string `yaml:"cidr" json:"cidr"`
	AvailabilityZone string `yaml:"availabilityZone" json:"availabilityZone"`
	Name             string `yaml:"name" json:"name"`
}

// RouteTable is an emulated route table with its subnet associations.
type RouteTable struct {
	ID      string   `yaml:"id" json:"id"`
	VPCID   string   `yaml:"vpcId" json:"vpcId"`
	Name    string   `yaml:"name" json:"name"`
	Main    bool     `yaml:"main" json:"main"`
	Subnets []string `yaml:"subnets" json:"subnets"`
	Routes  []Route  `yaml:"routes" json:"routes"`
}

// Route is one route. Target is "local", or the id of a gateway ("igw-…"),
// NAT gateway ("nat-…"), network interface ("eni-…") or instance ("i-…").
type Route struct {
	Destination string `yaml:"destination" json:"destination"`
	Target      string `yaml:"target" json:"target"`
}

// SecurityGroup is an emulated security group with its rules.
type SecurityGroup struct {
	ID    string `yaml:"id" json:"id"`
	VPCID string `yaml:"vpcId" json:"vpcId"`
	Name  string `yaml:"name" json:"name"`
	// Ingress lists the inbound rules; none when empty.
	Ingress []SecurityGroupRule `yaml:"ingress" json:"ingress"`
	// Egress lists the outbound rules. Left out (nil), the group has what
	// AWS gives a new group: all traffic to 0.0.0.0/0. An empty list
	// (egress: []) means no outbound rule at all.
	Egress []SecurityGroupRule `yaml:"egress" json:"egress"`
}

// SecurityGroupRule allows one protocol and port range from (ingress) or
// to (egress) the listed security groups and IPv4 CIDR blocks.
type SecurityGroupRule struct {
	// Protocol is "tcp", "udp", "icmp" or "-1" (all traffic, ports
	// ignored); a number is accepted as AWS accepts it ("6" is tcp).
	Protocol string `yaml:"protocol" json:"protocol"`
	FromPort int32  `yaml:"fromPort" json:"fromPort"`
	// ToPort is FromPort when 0.
	ToPort      int32    `yaml:"toPort" json:"toPort"`
	Groups      []string `yaml:"groups" json:"groups"`
	CIDRs       []string `yaml:"cidrs" json:"cidrs"`
	Description string   `yaml:"description" json:"description"`
}

// VPCEndpoint is a VPC endpoint for an AWS service. An Interface endpoint
// (the default) lives in subnets behind security groups; a Gateway
// endpoint (S3, DynamoDB) adds a route to the service's prefix list, with
// the endpoint as target, to each of its route tables, as AWS does.
type VPCEndpoint struct {
	ID          string `yaml:"id" json:"id"`
	VPCID       string `yaml:"vpcId" json:"vpcId"`
	ServiceName string `yaml:"serviceName" json:"serviceName"` // com.amazonaws.<region>.<service>
	Type        string `yaml:"type" json:"type"`               // Interface (default) or Gateway
	State       string `yaml:"state" json:"state"`             // available unless set
	// Interface endpoints: their subnets, security groups and whether
	// private DNS is on (AWS's default, true, when left out).
	SubnetIDs         []string `yaml:"subnetIds" json:"subnetIds"`
	Groups            []string `yaml:"groups" json:"groups"`
	PrivateDNSEnabled *bool    `yaml:"privateDnsEnabled" json:"privateDnsEnabled"`
	// Gateway endpoints: the route tables that get the route, and the
	// service's prefix list (derived from the service name when empty).
	RouteTableIDs []string `yaml:"routeTableIds" json:"routeTableIds"`
	PrefixListID  string   `yaml:"prefixListId" json:"prefixListId"`
}

// Endpoint types.
const (
	EndpointInterface = "Interface"
	EndpointGateway   = "Gateway"
)

// NetworkInterface is an emulated ENI.
type NetworkInterface struct {
	ID              string   `yaml:"id" json:"id"`
	SubnetID        string   `yaml:"subnetId" json:"subnetId"`
	PrivateIP       string   `yaml:"privateIp" json:"privateIp"`
	InstanceID      string   `yaml:"instanceId" json:"instanceId"`
	SourceDestCheck bool     `yaml:"sourceDestCheck" json:"sourceDestCheck"`
	Groups          []string `yaml:"groups" json:"groups"`
	// Tags are the interface's tags (DescribeNetworkInterfaces' tagSet
	// and tag filters).
	Tags map[string]string `yaml:"tags" json:"tags"`
}

// Instance is an emulated EC2 instance. State is "running" unless set.
type Instance struct {
	ID                 string            `yaml:"id" json:"id"`
	Name               string            `yaml:"name" json:"name"`
	SubnetID           string            `yaml:"subnetId" json:"subnetId"`
	PrivateIP          string            `yaml:"privateIp" json:"privateIp"`
	NetworkInterfaceID string            `yaml:"networkInterfaceId" json:"networkInterfaceId"`
	State              string            `yaml:"state" json:"state"`
	Tags               map[string]string `yaml:"tags" json:"tags"`
}

// Address is an Elastic IP, optionally associated with an instance or ENI.
type Address struct {
	AllocationID       string `yaml:"allocationId" json:"allocationId"`
	PublicIP           string `yaml:"publicIp" json:"publicIp"`
	InstanceID         string `yaml:"instanceId" json:"instanceId"`
	NetworkInterfaceID string `yaml:"networkInterfaceId" json:"networkInterfaceId"`
}

// HostedZone is a Route 53 hosted zone with its records.
type HostedZone struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"` // with or without the trailing dot
	Private bool     `yaml:"private" json:"private"`
	VPCs    []string `yaml:"vpcs" json:"vpcs"`
	Records []Record `yaml:"records" json:"records"`
}

// Record is a Route 53 resource record set.
type Record struct {
	Name   string   `yaml:"name" json:"name"`
	Type   string   `yaml:"type" json:"type"`
	TTL    int64    `yaml:"ttl" json:"ttl"`
	Values []string `yaml:"values" json:"values"`
}

// Secret is a Secrets Manager secret with a string value.
type Secret struct {
	Name  string `yaml:"name" json:"name"`
	Value string `yaml:"value" json:"value"`
}

// LoadTopology reads a topology from a YAML or JSON file.
func LoadTopology(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading topology: %w", err)
	}
	return ParseTopology(data)
}

// ParseTopology parses a topology from YAML or JSON and checks that every
// reference in it names something declared in it.
func ParseTopology(data []byte) (*Topology, error) {
	var t Topology
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("parsing topology: %w", err)
	}
	if t.Region == "" {
		t.Region = "us-east-1"
	}
	if t.AccountID == "" {
		t.AccountID = "123456789012"
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks that ids are unique and references resolve.
func (t *Topology) Validate() error {
	ids := map[string]string{}
	add := func(kind, id string) error {
		if id == "" {
			return fmt.Errorf("topology: a %s has no id", kind)
		}
		if prev, ok := ids[id]; ok {
			return fmt.Errorf("topology: id %q is used by a %s and a %s", id, prev, kind)
		}
		ids[id] = kind
		return nil
	}
	for _, v := range t.VPCs {
		if err := add("vpc", v.ID); err != nil {
			return err
		}
	}
	need := func(kind, ref, from string) error {
		if ids[ref] != kind {
			return fmt.Errorf("topology: %s refers to %s %q, which is not declared", from, kind, ref)
		}
		return nil
	}
	for _, s := range t.Subnets {
		if err := add("subnet", s.ID); err != nil {
			return err
		}
		if err := need("vpc", s.VPCID, "subnet "+s.ID); err != nil {
			return err
		}
	}
	for _, g := range t.SecurityGroups {
		if err := add("security group", g.ID); err != nil {
			return err
		}
	}
	for _, g := range t.SecurityGroups {
		if err := validateRules(g, need); err != nil {
			return err
		}
	}
	for _, n := range t.NetworkInterfaces {
		if err := add("network interface", n.ID); err != nil {
			return err
		}
		if err := need("subnet", n.SubnetID, "network interface "+n.ID); err != nil {
			return err
		}
	}
	for _, i := range t.Instances {
		if err := add("instance", i.ID); err != nil {
			return err
		}
		if err := need("subnet", i.SubnetID, "instance "+i.ID); err != nil {
			return err
		}
		if i.NetworkInterfaceID != "" {
			if err := need("network interface", i.NetworkInterfaceID, "instance "+i.ID); err != nil {
				return err
			}
		}
	}
	for _, rt := range t.RouteTables {
		if err := add("route table", rt.ID); err != nil {
			return err
		}
		if err := need("vpc", rt.VPCID, "route table "+rt.ID); err != nil {
			return err
		}
		for _, s := range rt.Subnets {
			if err := need("subnet", s, "route table "+rt.ID); err != nil {
				return err
			}
		}
	}
	for _, a := range t.Addresses {
		if err := add("address", a.AllocationID); err != nil {
			return err
		}
	}
	for _, z := range t.HostedZones {
		if err := add("hosted zone", z.ID); err != nil {
			return err
		}
	}
	for _, e := range t.VPCEndpoints {
		if err := add("vpc endpoint", e.ID); err != nil {
			return err
		}
		if err := validateEndpoint(e, need); err != nil {
			return err
		}
	}
	return nil
}

// validateRules checks a security group's rules: a known protocol, ports
// in range, and sources that are declared groups or IPv4 CIDR blocks.
func validateRules(g SecurityGroup, need func(kind, ref, from string) error) error {
	for dir, rules := range map[string][]SecurityGroupRule{"ingress": g.Ingress, "egress": g.Egress} {
		for i, r := range rules {
			where := fmt.Sprintf("security group %s %s rule %d", g.ID, dir, i+1)
			switch r.Protocol {
			case "tcp", "udp", "icmp", "-1", "all", "6", "17", "1":
			default:
				return fmt.Errorf("topology: %s has protocol %q, want tcp, udp, icmp or -1", where, r.Protocol)
			}
			if r.FromPort < -1 || r.FromPort > 65535 || r.ToPort < -1 || r.ToPort > 65535 || (r.ToPort != 0 && r.ToPort < r.FromPort) {
				return fmt.Errorf("topology: %s has the port range %d-%d", where, r.FromPort, r.ToPort)
			}
			for _, ref := range r.Groups {
				if err := need("security group", ref, where); err != nil {
					return err
				}
			}
			for _, c := range r.CIDRs {
				if p, err := netip.ParsePrefix(c); err != nil || !p.Addr().Is4() {
					return fmt.Errorf("topology: %s has %q, not an IPv4 CIDR block", where, c)
				}
			}
		}
	}
	return nil
}

// validateEndpoint checks a VPC endpoint's type and references.
func validateEndpoint(e VPCEndpoint, need func(kind, ref, from string) error) error {
	where := "vpc endpoint " + e.ID
	if err := need("vpc", e.VPCID, where); err != nil {
		return err
	}
	if e.ServiceName == "" {
		return fmt.Errorf("topology: %s has no serviceName", where)
	}
	switch e.Type {
	case "", EndpointInterface:
		if len(e.RouteTableIDs) > 0 || e.PrefixListID != "" {
			return fmt.Errorf("topology: %s is an Interface endpoint: it has no route tables or prefix list", where)
		}
		for _, sn := range e.SubnetIDs {
			if err := need("subnet", sn, where); err != nil {
				return err
			}
		}
		for _, g := range e.Groups {
			if err := need("security group", g, where); err != nil {
				return err
			}
		}
	case EndpointGateway:
		if len(e.SubnetIDs) > 0 || len(e.Groups) > 0 || e.PrivateDNSEnabled != nil {
			return fmt.Errorf("topology: %s is a Gateway endpoint: it has no subnets, groups or private DNS", where)
		}
		for _, rt := range e.RouteTableIDs {
			if err := need("route table", rt, where); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("topology: %s has type %q, want Interface or Gateway", where, e.Type)
	}
	return nil
}

package localaws

import (
	"fmt"
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

// SecurityGroup is an emulated security group.
type SecurityGroup struct {
	ID    string `yaml:"id" json:"id"`
	VPCID string `yaml:"vpcId" json:"vpcId"`
	Name  string `yaml:"name" json:"name"`
}

// NetworkInterface is an emulated ENI.
type NetworkInterface struct {
	ID              string   `yaml:"id" json:"id"`
	SubnetID        string   `yaml:"subnetId" json:"subnetId"`
	PrivateIP       string   `yaml:"privateIp" json:"privateIp"`
	InstanceID      string   `yaml:"instanceId" json:"instanceId"`
	SourceDestCheck bool     `yaml:"sourceDestCheck" json:"sourceDestCheck"`
	Groups          []string `yaml:"groups" json:"groups"`
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
	return nil
}

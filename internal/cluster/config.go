package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"
)

// EnvConfig is the environment variable that carries the cluster
// configuration as JSON into every Lambda.
const EnvConfig = "SWITCHYARD_CONFIG"

// Config is the configuration of one cluster.
type Config struct {
	Name      string    `json:"name"`
	Nodes     []Node    `json:"nodes"`
	Routing   Routing   `json:"routing"`
	Fence     Fence     `json:"fence"`
	Promotion Promotion `json:"promotion"`
	Detection Detection `json:"detection"`
	Database  Database  `json:"database"`
	// Lease is the primary lease the recorded primary's agent renews.
	Lease PrimaryLease `json:"lease"`
	// Replication is the pair's replication mode and synchronous policy.
	Replication Replication `json:"replication"`
	// Rejoin is what a former primary's agent does once another node is
	// the recorded primary (rejoin.go).
	Rejoin Rejoin `json:"rejoin,omitempty"`
	// Table is the DynamoDB table holding the cluster record.
	Table string `json:"table"`
}

// Node is one of the two database nodes.
type Node struct {
	Name               string `json:"name"`
	InstanceID         string `json:"instanceId"`
	NetworkInterfaceID string `json:"networkInterfaceId"`
	PrivateIP          string `json:"privateIp"`
	AvailabilityZone   string `json:"availabilityZone"`
	// PostgresAddr is host:port at which the Lambdas reach this node's
	// PostgreSQL from inside the VPC.
	PostgresAddr string `json:"postgresAddr"`
}

// Routing lists the client-facing addresses to move on failover. Any
// combination may be configured; at least one must be.
type Routing struct {
	OverlayIP *OverlayIP  `json:"overlayIp,omitempty"`
	ElasticIP *ElasticIP  `json:"elasticIp,omitempty"`
	DNS       []DNSRecord `json:"dns,omitempty"`
	// ClientEndpoint is host:port through which Verify writes as a client
	// would (the overlay IP, the Elastic IP or the DNS name with the port).
	ClientEndpoint string `json:"clientEndpoint"`
}

// OverlayIP is the route-table scenario: every route table whose
// destination is CIDR, in the configured VPC that holds the active node's
// ENI, is pointed at that ENI. Matching tables of other configured VPCs
// (reaching the overlay through a transit gateway or peering) are reported,
// not changed: AWS refuses a route to an ENI of another VPC.
type OverlayIP struct {
	CIDR   string   `json:"cidr"`
	VPCIDs []string `json:"vpcIds"`
	// RouteTableIDs, when set, are the route tables the overlay route
	// belongs in (given explicitly instead of found by destination): the
	// Reroute step changes only these, and the drift check and validate
	// report one of them without the route (lost) and any other table of
	// the VPCs with it (gained).
	RouteTableIDs []string `json:"routeTableIds,omitempty"`
}

// ElasticIP is the public-address scenario.
type ElasticIP struct {
	AllocationID string `json:"allocationId"`
}

// DNSRecord is a Route 53 A record pointed at the active node's private IP.
type DNSRecord struct {
	HostedZoneID string `json:"hostedZoneId"`
	Name         string `json:"name"`
	TTL          int64  `json:"ttl"`
}

// Fence modes. Both confirm the fence from a forced stop (StopInstances
// with Force and SkipOsShutdown) observed consistently; see internal/fence.
const (
	FenceStop           = "stop"             // force-stop the instance and confirm it
	FenceIsolateAndStop = "isolate-and-stop" // swap the ENI's security groups (best effort), then stop

	// fenceIsolate is no longer offered: security groups are stateful, so
	// replacing them leaves open connections (pooled clients) writing.
	fenceIsolate = "isolate"
)

// DefaultFenceConfirmObservations is how many consistent observations of
// a stopped instance confirm a fence when the config does not say.
const DefaultFenceConfirmObservations = 3

// Fence says how a failed primary is fenced.
type Fence struct {
	Mode                     string `json:"mode"`
	IsolationSecurityGroupID string `json:"isolationSecurityGroupId,omitempty"`
	// StopTimeoutSeconds bounds the whole fence: the stop and its
	// confirmation.
	StopTimeoutSeconds int `json:"stopTimeoutSeconds"`
	// ConfirmObservations is how many DescribeInstances reads in a row,
	// one poll interval apart, must show the instance down before the
	// fence is confirmed (with a failing probe of its PostgreSQL). At
	// least 2: a single read is never proof; 0 means
	// DefaultFenceConfirmObservations.
	ConfirmObservations int `json:"confirmObservations"`
}

// Promotion bounds what may be promoted.
type Promotion struct {
	// MaxLagBytes is the largest distance, in WAL bytes, between the last
	// known primary position and what the standby has received, at which
	// the standby may still be promoted without force under asynchronous
	// replication (synchronous replication allows no lag). 0 means the
	// default (DefaultAsyncMaxLagBytes); the smallest limit is 1.
	MaxLagBytes int64 `json:"maxLagBytes"`
	// PromoteTimeoutSeconds bounds pg_promote's wait.
	PromoteTimeoutSeconds int `json:"promoteTimeoutSeconds"`
}

// Detection configures the heartbeats and how old they may be.
type Detection struct {
	Namespace string `json:"namespace"`
	// AlarmName is the CloudWatch alarm on the primary's heartbeat whose
	// ALARM transitions start a failover.
	AlarmName string `json:"alarmName"`
	// ReachabilityAlarmName is the CloudWatch alarm on the standby's
	// PrimaryUnreachableSeconds metric (the fast path's backstop: a datapoint that
	// exists when things are bad, so it does not wait for missing data);
	// its ALARM transitions start a failover too. "none" turns it off.
	ReachabilityAlarmName string `json:"reachabilityAlarmName,omitempty"`
	// HeartbeatStaleSeconds: a heartbeat older than this counts as missing
	// (default DefaultHeartbeatStaleSeconds). The agents send healthy
	// heartbeats every flush interval (probe.DefaultFlushInterval, 50 s),
	// so a limit below that would call every healthy primary stale.
	HeartbeatStaleSeconds int `json:"heartbeatStaleSeconds"`
	// FastPath is the standby agent's detector (fastpath.go).
	FastPath FastPath `json:"fastPath"`
}

// Database says how to reach PostgreSQL.
type Database struct {
	Name string `json:"name"`
	// SecretID names the Secrets Manager secret holding
	// {"username": …, "password": …}.
	SecretID              string `json:"secretId"`
	ConnectTimeoutSeconds int    `json:"connectTimeoutSeconds"`
	// SSLMode is libpq's sslmode for the Lambdas' connections (default
	// "prefer"; use "verify-full" with a CA in production).
	SSLMode string `json:"sslMode"`
}

// ConnectTimeout is Database.ConnectTimeoutSeconds as a duration.
func (c *Config) ConnectTimeout() time.Duration {
	return time.Duration(c.Database.ConnectTimeoutSeconds) * time.Second
}

// DefaultDNSTTL is the TTL (seconds) Reroute gives a client-facing DNS
// record when the configuration names none: clients may keep reaching the
// old primary for this long after the record changed.
const DefaultDNSTTL = 10

// Load reads a Config from a JSON file, applies defaults and validates it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cluster config: %w", err)
	}
	return Parse(data)
}

// FromEnv reads the Config from the SWITCHYARD_CONFIG environment variable.
func FromEnv() (*Config, error) {
	raw := os.Getenv(EnvConfig)
	if raw == "" {
		return nil, fmt.Errorf("cluster config: environment variable %s is not set", EnvConfig)
	}
	return Parse([]byte(raw))
}

// Parse decodes JSON strictly (unknown fields are an error), applies
// defaults and validates.
func Parse(data []byte) (*Config, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parsing cluster config: %w", err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Fence.Mode == "" {
		c.Fence.Mode = FenceStop
	}
	if c.Fence.StopTimeoutSeconds == 0 {
		c.Fence.StopTimeoutSeconds = 120
	}
	if c.Fence.ConfirmObservations == 0 {
		c.Fence.ConfirmObservations = DefaultFenceConfirmObservations
	}
	if c.Promotion.PromoteTimeoutSeconds == 0 {
		c.Promotion.PromoteTimeoutSeconds = 60
	}
	if c.Detection.Namespace == "" {
		c.Detection.Namespace = "Switchyard"
	}
	if c.Detection.AlarmName == "" {
		c.Detection.AlarmName = DefaultHeartbeatAlarm(c.Name)
	}
	if c.Detection.ReachabilityAlarmName == "" {
		c.Detection.ReachabilityAlarmName = DefaultReachabilityAlarm(c.Name)
	}
	c.applySafetyDefaults()
	c.applyFastPathDefaults()
	if c.Promotion.MaxLagBytes == 0 {
		c.Promotion.MaxLagBytes = DefaultAsyncMaxLagBytes
	}
	if c.Detection.HeartbeatStaleSeconds == 0 {
		c.Detection.HeartbeatStaleSeconds = DefaultHeartbeatStaleSeconds
	}
	if c.Database.Name == "" {
		c.Database.Name = "postgres"
	}
	if c.Database.SSLMode == "" {
		c.Database.SSLMode = "prefer"
	}
	if c.Database.ConnectTimeoutSeconds == 0 {
		c.Database.ConnectTimeoutSeconds = 5
	}
	for i := range c.Routing.DNS {
		if c.Routing.DNS[i].TTL == 0 {
			c.Routing.DNS[i].TTL = DefaultDNSTTL
		}
	}
}

// Validate names the first problem in the configuration.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Name == "" {
		bad("name is empty")
	} else if !clusterName.MatchString(c.Name) {
		bad("name %q is not 1-40 lower-case letters, digits and hyphens starting with a letter or digit (the template's ClusterName; the cluster's items in the table are keyed by it)", c.Name)
	}
	if c.Table == "" {
		bad("table (the DynamoDB table of the cluster record) is empty")
	}
	if len(c.Nodes) != 2 {
		bad("nodes: a cluster has exactly 2 nodes, got %d", len(c.Nodes))
	}
	seen := map[string]bool{}
	for i, n := range c.Nodes {
		where := fmt.Sprintf("nodes[%d]", i)
		if n.Name == "" {
			bad("%s.name is empty", where)
		} else if seen[n.Name] {
			bad("%s.name %q is used twice", where, n.Name)
		}
		seen[n.Name] = true
		if !strings.HasPrefix(n.InstanceID, "i-") {
			bad("%s.instanceId %q is not an EC2 instance id (i-…)", where, n.InstanceID)
		}
		if !strings.HasPrefix(n.NetworkInterfaceID, "eni-") {
			bad("%s.networkInterfaceId %q is not an ENI id (eni-…)", where, n.NetworkInterfaceID)
		}
		if _, err := netip.ParseAddr(n.PrivateIP); err != nil {
			bad("%s.privateIp %q is not an IP address", where, n.PrivateIP)
		}
		if _, _, err := net.SplitHostPort(n.PostgresAddr); err != nil {
			bad("%s.postgresAddr %q is not host:port", where, n.PostgresAddr)
		}
	}
	r := c.Routing
	if r.OverlayIP == nil && r.ElasticIP == nil && len(r.DNS) == 0 {
		bad("routing: configure at least one of overlayIp, elasticIp, dns")
	}
	if o := r.OverlayIP; o != nil {
		p, err := netip.ParsePrefix(o.CIDR)
		if err != nil || !p.Addr().Is4() || p.Bits() != 32 {
			bad("routing.overlayIp.cidr %q is not an IPv4 /32", o.CIDR)
		}
		if len(o.VPCIDs) == 0 {
			bad("routing.overlayIp.vpcIds is empty")
		}
		for _, v := range o.VPCIDs {
			if !strings.HasPrefix(v, "vpc-") {
				bad("routing.overlayIp.vpcIds: %q is not a VPC id (vpc-…)", v)
			}
		}
		for _, t := range o.RouteTableIDs {
			if !strings.HasPrefix(t, "rtb-") {
				bad("routing.overlayIp.routeTableIds: %q is not a route table id (rtb-…)", t)
			}
		}
	}
	if e := r.ElasticIP; e != nil && !strings.HasPrefix(e.AllocationID, "eipalloc-") {
		bad("routing.elasticIp.allocationId %q is not an allocation id (eipalloc-…)", e.AllocationID)
	}
	for i, d := range r.DNS {
		if d.HostedZoneID == "" || d.Name == "" {
			bad("routing.dns[%d] needs hostedZoneId and name", i)
		}
		if d.TTL < 0 {
			bad("routing.dns[%d].ttl is negative", i)
		}
	}
	if _, _, err := net.SplitHostPort(r.ClientEndpoint); err != nil {
		bad("routing.clientEndpoint %q is not host:port", r.ClientEndpoint)
	}
	switch c.Fence.Mode {
	case FenceStop:
	case FenceIsolateAndStop:
		if !strings.HasPrefix(c.Fence.IsolationSecurityGroupID, "sg-") {
			bad("fence.isolationSecurityGroupId %q is not a security group id (sg-…); fence mode %q needs one",
				c.Fence.IsolationSecurityGroupID, c.Fence.Mode)
		}
	case fenceIsolate:
		bad("fence.mode %q is not a fence: security group changes do not end connections already open, so pooled clients "+
			"keep writing to the old primary; use %q, or %q (with fence.isolationSecurityGroupId)", fenceIsolate, FenceStop, FenceIsolateAndStop)
	default:
		bad("fence.mode %q is not one of %q, %q", c.Fence.Mode, FenceStop, FenceIsolateAndStop)
	}
	if c.Fence.ConfirmObservations < 0 || c.Fence.ConfirmObservations == 1 {
		bad("fence.confirmObservations %d is below 2: a single read is never proof of a stopped instance", c.Fence.ConfirmObservations)
	}
	if c.Fence.StopTimeoutSeconds < 0 || c.Promotion.PromoteTimeoutSeconds < 0 {
		bad("timeouts must not be negative")
	}
	if c.Promotion.MaxLagBytes < 0 {
		bad("promotion.maxLagBytes is negative")
	}
	if c.Database.SecretID == "" {
		bad("database.secretId is empty")
	}
	c.validateSafety(bad)
	c.validateFastPath(bad)
	if len(errs) > 0 {
		return fmt.Errorf("cluster config: %w", errors.Join(errs...))
	}
	return nil
}

// Node returns the node with the given name.
func (c *Config) Node(name string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Peer returns the other node of the pair.
func (c *Config) Peer(name string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Name != name {
			return n, true
		}
	}
	return Node{}, false
}

// NodeByInstance returns the node running on the given instance.
func (c *Config) NodeByInstance(instanceID string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.InstanceID == instanceID {
			return n, true
		}
	}
	return Node{}, false
}

// NodeByENI returns the node owning the given network interface.
func (c *Config) NodeByENI(eni string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.NetworkInterfaceID == eni {
			return n, true
		}
	}
	return Node{}, false
}

// StopTimeout is Fence.StopTimeoutSeconds as a duration.
func (c *Config) StopTimeout() time.Duration {
	return time.Duration(c.Fence.StopTimeoutSeconds) * time.Second
}

// DefaultHeartbeatStaleSeconds is how old the primary's newest healthy
// heartbeat in CloudWatch may be before Assess counts it as missing: the
// agents' flush interval (probe.DefaultFlushInterval, 50 s) plus 40 s for
// the call, ingestion and a flush that failed once.
const DefaultHeartbeatStaleSeconds = 90

// clusterName is the template's ClusterName pattern: the record's key in
// the table is the name, its history's the name plus "#history", which no
// name can then collide with.
var clusterName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// HeartbeatStale is Detection.HeartbeatStaleSeconds as a duration.
func (c *Config) HeartbeatStale() time.Duration {
	return time.Duration(c.Detection.HeartbeatStaleSeconds) * time.Second
}

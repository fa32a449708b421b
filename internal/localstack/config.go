package localstack

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
)

// clusterConfig describes the local cluster exactly as a deployment's
// SWITCHYARD_CONFIG would, except that the nodes' PostgreSQL addresses are
// the data-plane links the functions reach them through, and the client
// endpoint is the overlay-IP forwarder.
func (s *Stack) clusterConfig() (*cluster.Config, error) {
	t := s.Topology
	cfg := cluster.Config{
		Name:  s.Options.ClusterName,
		Table: "switchyard-" + s.Options.ClusterName,
		Routing: cluster.Routing{
			OverlayIP:      &cluster.OverlayIP{CIDR: OverlayCIDR, VPCIDs: []string{t.VPCs[0].ID}},
			ClientEndpoint: s.ClientOverlay.Addr(),
		},
		Detection:   cluster.Detection{HeartbeatStaleSeconds: int(localHeartbeatStale / time.Second)},
		Fence:       cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 60},
		Promotion:   cluster.Promotion{MaxLagBytes: s.Options.MaxLagBytes},
		Replication: cluster.Replication{Mode: replicationMode(s.Options.Async), SyncPolicy: s.Options.SyncPolicy},
		Rejoin:      cluster.Rejoin{Disabled: !s.Options.Rejoin},
		Database:    cluster.Database{Name: DatabaseName, SecretID: SecretName, SSLMode: "disable", ConnectTimeoutSeconds: 2},
	}
	if len(t.Addresses) > 0 {
		cfg.Routing.ElasticIP = &cluster.ElasticIP{AllocationID: t.Addresses[0].AllocationID}
	}
	for _, z := range t.HostedZones {
		for _, r := range z.Records {
			if r.Type == "A" && trimDot(r.Name) == DNSName {
				cfg.Routing.DNS = append(cfg.Routing.DNS, cluster.DNSRecord{HostedZoneID: z.ID, Name: DNSName, TTL: cluster.DefaultDNSTTL})
			}
		}
	}
	if err := s.routeOnly(&cfg.Routing); err != nil {
		return nil, err
	}
	for _, name := range []string{s.Pair.Primary.Name, s.Pair.Standby.Name} {
		n := s.Nodes[name]
		az := ""
		for _, sn := range t.Subnets {
			if sn.ID == n.Instance.SubnetID {
				az = sn.AvailabilityZone
			}
		}
		cfg.Nodes = append(cfg.Nodes, cluster.Node{Name: n.Name, InstanceID: n.Instance.ID, NetworkInterfaceID: n.ENI,
			PrivateIP: n.Instance.PrivateIP, AvailabilityZone: az, PostgresAddr: n.FunctionLink.Addr()})
	}
	data, err := marshalConfig(&cfg)
	if err != nil {
		return nil, err
	}
	parsed, err := cluster.Parse(data) // applies defaults and validates, as a Lambda would
	if err != nil {
		return nil, fmt.Errorf("local cluster config: %w", err)
	}
	return parsed, nil
}

func replicationMode(async bool) string {
	if async {
		return cluster.ReplicationAsync
	}
	return cluster.ReplicationSync
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

func marshalConfig(c *cluster.Config) ([]byte, error) { return json.Marshal(c) }

// routeOnly keeps the targets of Options.Routes alone (all when empty) and
// points the client endpoint at the first one's address.
func (s *Stack) routeOnly(r *cluster.Routing) error {
	routes := s.Options.Routes
	if len(routes) == 0 {
		return nil
	}
	configured := map[string]bool{ScenarioRouteTable: r.OverlayIP != nil, ScenarioEIP: r.ElasticIP != nil, ScenarioRoute53: len(r.DNS) > 0}
	for _, n := range routes {
		if !configured[n] {
			return fmt.Errorf("local cluster config: routes %v: the topology has no %s target (want some of %v)", routes, n, Scenarios)
		}
	}
	if !slices.Contains(routes, ScenarioRouteTable) {
		r.OverlayIP = nil
	}
	if !slices.Contains(routes, ScenarioEIP) {
		r.ElasticIP = nil
	}
	if !slices.Contains(routes, ScenarioRoute53) {
		r.DNS = nil
	}
	path, err := s.ClientPath(routes[0])
	if err != nil {
		return err
	}
	r.ClientEndpoint = path.Forwarder.Addr()
	return nil
}

package discover

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/cluster"
)

// Parameter is one template parameter and its value.
type Parameter struct {
	Key, Value string
}

// Parameters are the template parameters the result fills in, in the
// template's order: Node1* (the first node, the primary at deployment),
// Node2*, and OverlayVpcIds when an overlay was looked up.
func (r Result) Parameters() []Parameter {
	var out []Parameter
	for i, n := range r.Nodes {
		p := fmt.Sprintf("Node%d", i+1)
		out = append(out,
			Parameter{p + "Name", n.Name},
			Parameter{p + "InstanceId", n.InstanceID},
			Parameter{p + "EniId", n.NetworkInterfaceID},
			Parameter{p + "PrivateIp", n.PrivateIP},
			Parameter{p + "AvailabilityZone", n.AvailabilityZone})
	}
	if r.OverlayCIDR != "" {
		out = append(out, Parameter{"OverlayVpcIds", strings.Join(r.OverlayVPCIDs, ",")})
	}
	return out
}

// ParameterOverrides is Parameters as `sam deploy --parameter-overrides`
// takes them.
func (r Result) ParameterOverrides() string {
	var parts []string
	for _, p := range r.Parameters() {
		parts = append(parts, p.Key+"="+p.Value)
	}
	return strings.Join(parts, " ")
}

// ConfigNodes are the nodes as the cluster configuration's "nodes" names
// them, PostgreSQL listening on port at each node's private IP.
func (r Result) ConfigNodes(port int) []cluster.Node {
	out := make([]cluster.Node, 0, len(r.Nodes))
	for _, n := range r.Nodes {
		out = append(out, cluster.Node{
			Name: n.Name, InstanceID: n.InstanceID, NetworkInterfaceID: n.NetworkInterfaceID,
			PrivateIP: n.PrivateIP, AvailabilityZone: n.AvailabilityZone,
			PostgresAddr: net.JoinHostPort(n.PrivateIP, strconv.Itoa(port)),
		})
	}
	return out
}

package reroute

import (
	"fmt"
	"slices"
	"strings"
)

// ErrSourceDestCheck says the target's network interface has
// source/destination checking on, so it would drop traffic for the overlay
// IP. Nothing was changed.
type ErrSourceDestCheck struct {
	NetworkInterfaceID string
}

func (e *ErrSourceDestCheck) Error() string {
	return fmt.Sprintf("network interface %s has source/destination check enabled: it would drop overlay-IP traffic; "+
		"disable it (ModifyNetworkInterfaceAttribute SourceDestCheck=false) before routing the overlay IP to it",
		e.NetworkInterfaceID)
}

// ErrNoRouteTables says no route table of the target interface's VPC
// (among the configured VPCs) has a route for the overlay CIDR, so there is
// nothing to point at the new primary.
type ErrNoRouteTables struct {
	CIDR      string
	VPCIDs    []string // the configured VPCs
	TargetVPC string   // the VPC of the target's network interface
}

func (e *ErrNoRouteTables) Error() string {
	if !slices.Contains(e.VPCIDs, e.TargetVPC) {
		return fmt.Sprintf("the target's network interface is in %s, which is not among the configured VPCs (%s)",
			e.TargetVPC, strings.Join(e.VPCIDs, ", "))
	}
	return fmt.Sprintf("no route table in %s has a route for %s", e.TargetVPC, e.CIDR)
}

// ErrRouteGone says a route table that had a route for the overlay CIDR
// when the tables were read had none when ReplaceRoute ran: someone deleted
// it in between. RouteTables does not create routes, so it fails for that
// table (the others are still rerouted); a later run no longer finds the
// table and leaves it alone.
type ErrRouteGone struct {
	RouteTableID string
	CIDR         string
	Err          error // ReplaceRoute's answer
}

func (e *ErrRouteGone) Error() string {
	return fmt.Sprintf("route table %s no longer has a route for %s (deleted after the tables were read; "+
		"rerouting replaces routes, it does not create them): %v", e.RouteTableID, e.CIDR, e.Err)
}

// Unwrap returns ReplaceRoute's error.
func (e *ErrRouteGone) Unwrap() error { return e.Err }

// ErrNotConverged says a change was made but describing the resource
// again did not show it before the verification deadline.
type ErrNotConverged struct {
	Target string // TargetOverlayIP, TargetElasticIP or TargetDNS
	Detail string // what was observed last
	Err    error  // the deadline's error, joined with the last AWS error
}

func (e *ErrNotConverged) Error() string {
	msg := fmt.Sprintf("%s not observed rerouted: %s", e.Target, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ErrNotConverged) Unwrap() error { return e.Err }

// ErrDNSNotInSync says a Route 53 change did not reach INSYNC before the
// caller's deadline. The change itself was accepted and will complete.
type ErrDNSNotInSync struct {
	HostedZoneID string
	ChangeID     string
	Err          error
}

func (e *ErrDNSNotInSync) Error() string {
	msg := fmt.Sprintf("Route 53 change %s in hosted zone %s not INSYNC before the deadline", e.ChangeID, e.HostedZoneID)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ErrDNSNotInSync) Unwrap() error { return e.Err }

// ErrRerouteFailed is All's error: the targets that failed, each with its
// error. errors.As finds the per-target named errors through it.
type ErrRerouteFailed struct {
	Failed []string
	Errs   []error
}

func (e *ErrRerouteFailed) Error() string {
	parts := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		parts[i] = err.Error()
	}
	return fmt.Sprintf("reroute failed for %s: %s", strings.Join(e.Failed, ", "), strings.Join(parts, "; "))
}

// Unwrap returns the per-target errors.
func (e *ErrRerouteFailed) Unwrap() []error { return e.Errs }

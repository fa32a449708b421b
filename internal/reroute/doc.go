// Package reroute moves the client-facing address of a cluster to the new
// primary: the overlay IP's routes in every route table of the configured
// VPCs, the Elastic IP, and the Route 53 records.
//
// Each function looks before it acts and skips what is already right, so a
// retry after success, or after a partial run, converges. Each verifies its
// work by describing the resource again (polling briefly, since EC2 reads
// are eventually consistent) and is bounded by the caller's context.
// Throttled and transiently failing mutating calls (ReplaceRoute,
// AssociateAddress, ChangeResourceRecordSets) are retried with exponential
// backoff and jitter, a few times, on top of the SDK's own retries.
//
// A route deleted between reading the tables and replacing it is reported
// as *ErrRouteGone for its table (EC2 answers ReplaceRoute of a missing
// route with InvalidParameterValue, which reroute tells from other invalid
// parameters by its message or by describing the table); routes are never
// created.
//
// All runs the configured targets in parallel and reports each target's
// outcome; its error names every target that failed.
//
// A route can target only a network interface of its own VPC, so of the
// configured VPCs only the target interface's VPC has its tables rewritten;
// tables of the others that route the overlay CIDR (through a transit
// gateway, say) are reported and left alone.
//
// The overlay-IP scenario needs the target's network interface to have
// source/destination checking disabled, or the instance drops packets
// addressed to the overlay IP; RouteTables refuses up front
// (*ErrSourceDestCheck) and changes nothing when it is on.
package reroute

// Package preflight checks a cluster's prerequisites against the account
// it runs in (AWS, or the local stack's emulator), with read-only calls
// only: each node's instance and network interface (source/destination
// check off when the overlay IP is used), the overlay address outside
// every VPC's CIDR blocks and routed to a node in at least one route
// table, the Elastic IP allocation, each DNS record's hosted zone (a
// private one associated with the client VPCs) and the record itself with
// the configured TTL, and, when given, that the Lambdas' subnets reach the
// AWS APIs (Route 53 has no interface endpoint: a NAT route is needed).
// Each check says what is wrong and the command or setting that fixes
// it; `switchyard validate` prints them.
package preflight

// Package discover finds a cluster's two nodes in EC2 by tag, read-only:
// the instances, the network interface of each (by tag, or the instance's
// primary interface), its private IP, AZ and VPC, and the route tables
// that hold the overlay route. `switchyard discover` prints what it found
// as the template's parameters or as the cluster configuration's nodes.
//
// Discovery runs when a cluster is set up, not during a failover: the
// deployed configuration names instances and interfaces by id, because the
// template scopes the fence's ec2:StopInstances to those two instances and
// a failover must never force-stop whatever instance happens to carry a
// tag at that moment (a copied tag, or an eventually consistent
// DescribeInstances answer, would otherwise pick the victim). Describe
// (describe.go) shows what the configured ids are today, for
// `switchyard status --config`.
package discover

// Package preflight checks a cluster's prerequisites against the account
// it runs in (AWS, or the local stack's emulator), with read-only calls
// only: each node's instance and network interface (source/destination
// check off when the overlay IP is used), the overlay address outside
// every VPC's CIDR blocks and routed to a node in at least one route
// table, the Elastic IP allocation, each DNS record's hosted zone (a
// private one associated with the client VPCs) and the record itself with
// the configured TTL.
//
// Given the Lambdas' subnets (Options.LambdaSubnets), it checks that each
// reaches the AWS APIs the in-VPC Lambdas call (lambdaServices: EC2,
// CloudWatch, DynamoDB, Secrets Manager) through a NAT gateway, a gateway
// endpoint's route or an interface endpoint with private DNS whose groups
// admit the Lambdas on 443, and Route 53 through a NAT when routing.dns is
// configured (it has no VPC endpoint; an internet gateway does not help a
// Lambda, which gets no public IP). An interface endpoint with private DNS
// takes a service's calls even beside a NAT, so its groups are checked
// then too. Given the Lambdas' security groups, it checks that each
// node's groups admit them on the node's PostgreSQL port and that their
// outbound rules allow it. With Options.Connect it reads the database
// secret and logs in to each node (the only check that is not a describe
// call; it connects from where it runs).
//
// Each check says what is wrong and the command or setting that fixes
// it; `switchyard validate` prints them.
package preflight

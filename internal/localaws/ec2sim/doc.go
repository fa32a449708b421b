// Package ec2sim emulates the part of Amazon EC2 that Switchyard uses, over
// EC2's real wire protocol, for the local stack and the tests.
//
// The protocol is EC2 Query as aws-sdk-go-v2 speaks it: a form-urlencoded
// POST carrying Action, Version=2016-11-15 and flattened list parameters
// (InstanceId.1, Filter.1.Name, Filter.1.Value.1, ...). Answers are XML in
// the http://ec2.amazonaws.com/doc/2016-11-15/ namespace with a requestId;
// errors are <Response><Errors><Error><Code/><Message/></Error></Errors>
// <RequestID/></Response> with AWS's code and HTTP status, so the unmodified
// SDK client parses them into the same smithy.APIError it would see from AWS.
//
// Service is seeded from a *localaws.Topology and implements
// localaws.Service; register it on a localaws.Server, which adds the call
// log, fault injection and throttling. Describe calls draw from the
// non-mutating token bucket, everything else from the mutating one, and an
// empty bucket answers RequestLimitExceeded with HTTP 503, as EC2 does.
//
// Emulated operations: DescribeVpcs, DescribeSubnets, DescribeSecurityGroups,
// DescribeRouteTables, CreateRoute, ReplaceRoute, DescribeNetworkInterfaces,
// ModifyNetworkInterfaceAttribute, DescribeInstances, DescribeInstanceStatus,
// StopInstances, StartInstances, DescribeAddresses, AssociateAddress,
// DisassociateAddress, CreateSnapshots, DescribeSnapshots and
// DescribeVpcEndpoints, with the filters, pagination and error codes AWS
// documents for them. Anything else is InvalidAction.
//
// Model, in brief:
//   - Security groups carry the topology's inbound and outbound rules
//     (ipPermissions, ipPermissionsEgress); a group whose topology leaves
//     egress out gets AWS's default, all traffic to 0.0.0.0/0. The rules
//     are data for readers such as switchyard validate: the local data
//     plane does not filter traffic by them.
//   - VPC endpoints come from the topology. A Gateway endpoint adds its
//     route (the service's prefix list, pl-…, → vpce-…) to its route
//     tables, shown with destinationPrefixListId and gatewayId as AWS shows
//     it. An Interface endpoint's network interfaces are not modelled.
//   - Routes keep their target as a network interface when created with an
//     InstanceId (as AWS does) and show the instance the ENI is attached to.
//     A route to an ENI is "blackhole" unless that instance is pending or
//     running.
//   - ReplaceRoute of a destination the table has no route for answers
//     InvalidParameterValue ("There is no route defined for '10.1.0.10/32'
//     in the route table. Use CreateRoute instead."), as EC2 does, not
//     InvalidRoute.NotFound.
//   - StopInstances moves running → stopping at once and → stopped after the
//     stop delay; StartInstances moves stopped → pending → running after the
//     start delay. Every change of state, including those made with
//     SetInstanceState, is reported to the OnInstanceState hooks in order.
//     StopInstances records Force and SkipOsShutdown (StopRequests); no
//     graceful OS shutdown is emulated, so the hooks hear "stopping" at once
//     and the local stack ends the node's processes then.
//   - Reads are strongly consistent unless SetConsistency switches on EC2's
//     eventual consistency: for a while after a change, DescribeInstances,
//     DescribeInstanceStatus and DescribeNetworkInterfaces may show the
//     state before it, and may answer InvalidInstanceID.NotFound (or leave
//     out) a resource that exists. Seeded, so tests can replay it; see
//     Consistency.
//   - Mutating calls record every resource they name or change with
//     Call.AddResource; Describe calls record the ids they were asked for.
//
// Besides the wire API, Service has in-process accessors (RouteTarget,
// InstanceState, NetworkInterface, AddressTarget, SecurityGroups, ...) for
// the local data plane and for tests (they always show the truth, never a
// stale view), and test controls (SetInstanceState, SetImpaired,
// SetStopDelay, SetStartDelay, SetConsistency, StopRequests, RemoveRoute). All are safe
// for concurrent use.
package ec2sim

// Package localstack assembles Switchyard's embedded local stack: the AWS
// emulator (every service of internal/localaws on one loopback HTTP
// endpoint), the ASL interpreter running statemachine/failover.asl.json with
// the real failover handlers, a real PostgreSQL pair with streaming
// replication, one node probe per node, and the data plane that sends each
// client connection to whichever node the emulated route table points at.
//
// The heartbeat alarm, the EventBridge rule and the state machine are
// created from template.yaml itself (package samtemplate), through the real
// SDK clients, so what runs here is what would be deployed.
//
// Emulated instances are the nodes: StopInstances on a node's instance
// really kills its PostgreSQL and its probe, and cuts every path to it.
// The demo (cmd/switchyard demo) and the end-to-end tests use this package;
// it is never deployed.
package localstack

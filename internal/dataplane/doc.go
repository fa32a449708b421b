// Package dataplane is the local stack's network: loopback TCP relays that
// make emulated AWS routing decisions move real PostgreSQL traffic, and
// cuttable links that make network failures real for the processes involved.
//
// Forwarder stands for an address clients use without knowing which node is
// behind it: the overlay IP of a route table, an Elastic IP, a Route 53 name.
// For every new connection it asks its Resolve function where that address
// points now (the local stack reads the emulated route table, EIP association
// or DNS record, and whether that instance is running and reachable) and
// relays bytes both ways; when Resolve fails the connection is refused.
// Existing connections stay where they are, as on AWS, until
// CutConnectionsTo ends them (what stopping the instance or a network ACL
// fence does to open TCP sessions).
//
// Link stands for one network path between two components: replication from
// standby to primary, a probe to its PostgreSQL, a Lambda to a database. It
// relays to a fixed upstream and can be cut in two ways:
//
//   - Refuse: new connections are reset at once and open ones are reset, as
//     when the far end is down and the host answers with RST.
//   - Drop: a blackhole, like a network ACL or route that silently drops
//     packets. New connections are accepted but nothing passes; open ones
//     stall. Bytes already read are held, never delivered or lost, so after
//     Heal they flow again in order, as TCP retransmission makes them do on
//     a real network. Endpoints notice only through their own timeouts
//     (wal_receiver_timeout, connect_timeout, keepalives), which is exactly
//     what failure detection has to cope with.
//
// Heal restores a link. Toxiproxy (github.com/Shopify/toxiproxy/v2) was
// considered for Link and not used, because its semantics differ from the
// failures being emulated and a relay written for them is about the same size:
// its timeout toxic discards bytes, so a healed connection carries a stream
// with holes (a real partition loses nothing); its reset_peer toxic acts only
// when the next chunk arrives, leaving idle open connections up; the only way
// to end open connections is to stop the proxy, which frees its port; and it
// has no per-connection upstream choice, which Forwarder needs anyway. Link
// and Forwarder share one relay core (session tracking, reset, a gate that
// holds bytes).
//
// Everything listens on 127.0.0.1 only. This package is a test and demo
// fixture of the local stack, never part of a deployed component.
package dataplane

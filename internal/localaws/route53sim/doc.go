// Package route53sim emulates the part of Amazon Route 53 that Switchyard
// uses, speaking Route 53's REST-XML wire protocol so the unmodified
// aws-sdk-go-v2 route53 client works against it through an endpoint override.
//
// Service implements localaws.Service (signing name "route53") and answers:
//
//   - ListHostedZones (Marker/MaxItems pagination, HostedZoneType filter),
//   - ListHostedZonesByName (DNSName/HostedZoneId start, AWS's reversed-label
//     order),
//   - ListResourceRecordSets (StartRecordName/StartRecordType/MaxItems
//     pagination, AWS's order: reversed-label name, then type),
//   - ChangeResourceRecordSets (CREATE, DELETE, UPSERT; the whole batch is
//     validated before any change is applied, and a failing batch answers
//     InvalidChangeBatch listing every problem),
//   - GetChange (PENDING until the change has propagated, then INSYNC).
//
// Hosted zones and their records come from a localaws.Topology. Every zone
// gets the NS and SOA records Route 53 creates at the apex unless the seed
// declares them. Alias records, routing policies (SetIdentifier, Weight,
// Failover, ...) and wildcard matching are not emulated: a change that uses
// them is refused with InvalidInput rather than silently misunderstood.
//
// Propagation is modelled: ChangeResourceRecordSets updates what the API
// lists at once, as Route 53 does, while the local data plane (Resolve) sees
// a change only when it is INSYNC, after SetPropagationDelay (default 1 s).
// Resolve and Records are safe for concurrent use by in-process callers.
package route53sim

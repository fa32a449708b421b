package route53sim

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Page size limits Route 53 documents: larger MaxItems are cut down to these.
const (
	maxZonesPerPage   = 100
	maxRecordsPerPage = 300
)

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	op, id, err := route(call.Request)
	if err != nil {
		writeAPIError(w, call, asAPIError(err))
		return
	}
	query := call.Request.URL.Query()
	var doc any
	var apiErr *localaws.APIError
	switch op {
	case OpListHostedZones:
		doc, apiErr = s.listHostedZones(query)
	case OpListHostedZonesByName:
		doc, apiErr = s.listHostedZonesByName(query)
	case OpListResourceRecordSets:
		call.AddResource(bareZoneID(id))
		doc, apiErr = s.listResourceRecordSets(bareZoneID(id), query)
	case OpChangeResourceRecordSets:
		call.AddResource(bareZoneID(id))
		var messages []string
		doc, messages, apiErr = s.changeResourceRecordSets(call, bareZoneID(id))
		if apiErr == nil && len(messages) > 0 {
			writeInvalidChangeBatch(w, call, messages)
			return
		}
	case OpGetChange:
		call.AddResource(bareChangeID(id))
		doc, apiErr = s.getChange(bareChangeID(id))
	case OpGetHostedZone:
		call.AddResource(bareZoneID(id))
		doc, apiErr = s.getHostedZone(bareZoneID(id))
	}
	if apiErr != nil {
		writeAPIError(w, call, apiErr)
		return
	}
	writeXML(w, http.StatusOK, doc, newRequestID())
}

// WriteError implements localaws.Service.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, err *localaws.APIError) {
	writeAPIError(w, call, err)
}

func asAPIError(err error) *localaws.APIError {
	if ae, ok := err.(*localaws.APIError); ok {
		return ae
	}
	return localaws.BadRequest("InvalidInput", "%v", err)
}

func invalidInput(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("InvalidInput", format, args...)
}

func noSuchHostedZone(id string) *localaws.APIError {
	return localaws.Errorf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

// maxItems reads the maxitems parameter: absent means limit, larger values
// are cut down to limit, anything but a positive integer is InvalidInput.
func maxItems(query url.Values, limit int) (int, *localaws.APIError) {
	raw := query.Get("maxitems")
	if raw == "" {
		return limit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0, invalidInput("Invalid value for parameter maxitems: %q is not a positive integer", raw)
	}
	return min(n, limit), nil
}

func (s *Service) zoneXML(z *zone) hostedZoneXML {
	out := hostedZoneXML{ID: "/hostedzone/" + z.id, Name: z.name, CallerReference: z.callerRef,
		ResourceRecordSetCount: len(z.records)}
	out.Config.PrivateZone = z.private
	return out
}

// getHostedZone describes a zone with, for a private one, its VPCs.
func (s *Service) getHostedZone(id string) (any, *localaws.APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.byID[id]
	if z == nil {
		return nil, noSuchHostedZone(id)
	}
	out := getHostedZoneResponse{HostedZone: s.zoneXML(z)}
	if z.private {
		for _, v := range z.vpcs {
			out.VPCs = append(out.VPCs, vpcXML{VPCRegion: z.region, VPCID: v})
		}
	}
	return out, nil
}

// listHostedZones lists zones by id, starting at the first whose id is not
// below marker.
func (s *Service) listHostedZones(query url.Values) (any, *localaws.APIError) {
	limit, apiErr := maxItems(query, maxZonesPerPage)
	if apiErr != nil {
		return nil, apiErr
	}
	if query.Get("delegationsetid") != "" {
		return nil, invalidInput("The local stack does not emulate reusable delegation sets")
	}
	zoneType := query.Get("hostedzonetype")
	if zoneType != "" && zoneType != "PrivateHostedZone" {
		return nil, invalidInput("Invalid value for parameter hostedzonetype: %q", zoneType)
	}
	marker := bareZoneID(query.Get("marker"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var zones []*zone
	for _, z := range s.zones {
		if (zoneType == "" || z.private) && z.id >= marker {
			zones = append(zones, z)
		}
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].id < zones[j].id })
	out := listHostedZonesResponse{Marker: query.Get("marker"), MaxItems: limit}
	for i, z := range zones {
		if i == limit {
			out.IsTruncated = true
			out.NextMarker = z.id
			break
		}
		out.HostedZones.Zones = append(out.HostedZones.Zones, s.zoneXML(z))
	}
	return out, nil
}

// listHostedZonesByName lists zones by reversed-label name, then id,
// starting at (dnsname, hostedzoneid).
func (s *Service) listHostedZonesByName(query url.Values) (any, *localaws.APIError) {
	limit, apiErr := maxItems(query, maxZonesPerPage)
	if apiErr != nil {
		return nil, apiErr
	}
	rawName, rawID := query.Get("dnsname"), bareZoneID(query.Get("hostedzoneid"))
	if rawID != "" && rawName == "" {
		return nil, invalidInput("HostedZoneId can be specified only together with DNSName")
	}
	startKey := ""
	if rawName != "" {
		startKey = sortKey(canonicalName(rawName))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zones := append([]*zone(nil), s.zones...)
	sort.SliceStable(zones, func(i, j int) bool {
		ki, kj := sortKey(zones[i].name), sortKey(zones[j].name)
		if ki != kj {
			return ki < kj
		}
		return zones[i].id < zones[j].id
	})
	out := listHostedZonesByNameResponse{DNSName: rawName, HostedZoneID: rawID, MaxItems: limit}
	for _, z := range zones {
		k := sortKey(z.name)
		if k < startKey || (k == startKey && z.id < rawID) {
			continue
		}
		if len(out.HostedZones.Zones) == limit {
			out.IsTruncated = true
			out.NextDNSName = z.name
			out.NextHostedZoneID = z.id
			break
		}
		out.HostedZones.Zones = append(out.HostedZones.Zones, s.zoneXML(z))
	}
	return out, nil
}

// listResourceRecordSets lists a zone's record sets in Route 53's order from
// the first at or after (name, type).
func (s *Service) listResourceRecordSets(zoneID string, query url.Values) (any, *localaws.APIError) {
	limit, apiErr := maxItems(query, maxRecordsPerPage)
	if apiErr != nil {
		return nil, apiErr
	}
	startName, startType := query.Get("name"), strings.ToUpper(query.Get("type"))
	if startType != "" && startName == "" {
		return nil, invalidInput("The input is not valid: StartRecordType requires StartRecordName")
	}
	if startType != "" && !recordTypes[startType] {
		return nil, invalidInput("Invalid value for parameter type: %q is not a record type", startType)
	}
	var start recordKey
	if startName != "" {
		start = recordKey{canonicalName(startName), startType}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.byID[zoneID]
	if z == nil {
		return nil, noSuchHostedZone(zoneID)
	}
	out := listResourceRecordSetsResponse{MaxItems: limit}
	for _, r := range z.sortedRecords() {
		if startName != "" && lessRecord(r.key(), start) {
			continue
		}
		if len(out.ResourceRecordSets.Sets) == limit {
			out.IsTruncated = true
			out.NextRecordName = r.Name
			out.NextRecordType = r.Type
			break
		}
		out.ResourceRecordSets.Sets = append(out.ResourceRecordSets.Sets, toRecordSetXML(r))
	}
	return out, nil
}

// changeResourceRecordSets validates and applies a change batch. It returns
// the response document, or the InvalidChangeBatch messages, or an error.
func (s *Service) changeResourceRecordSets(call *localaws.Call, zoneID string) (any, []string, *localaws.APIError) {
	var req changeResourceRecordSetsRequest
	if err := xml.Unmarshal(call.Body, &req); err != nil {
		return nil, nil, invalidInput("Invalid XML ; %v", err)
	}
	changes, apiErr := decodeChanges(req.ChangeBatch.Changes)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	for _, ch := range changes {
		call.AddResource(ch.Record.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.byID[zoneID]
	if z == nil {
		return nil, nil, noSuchHostedZone(zoneID)
	}
	muts, messages := z.plan(changes)
	if len(messages) > 0 {
		return nil, messages, nil
	}
	now := s.now()
	c := &change{id: newChangeID(), comment: req.ChangeBatch.Comment, submittedAt: now,
		insyncAt: now.Add(s.delay), zone: z}
	s.changes[c.id] = c
	z.apply(c, muts)
	z.propagate(now)
	return changeResourceRecordSetsResponse{ChangeInfo: toChangeInfoXML(c)}, nil, nil
}

// decodeChanges checks the shape of each change (what Route 53 answers
// InvalidInput for) and returns them canonical.
func decodeChanges(in []changeXML) ([]changeRequest, *localaws.APIError) {
	if len(in) == 0 {
		return nil, invalidInput("Invalid request: the change batch has no changes")
	}
	out := make([]changeRequest, 0, len(in))
	for i, ch := range in {
		rs := ch.ResourceRecordSet
		where := "Change " + strconv.Itoa(i+1) + " [Action=" + ch.Action + ", Name=" + rs.Name + ", Type=" + rs.Type + "]"
		switch ch.Action {
		case "CREATE", "DELETE", "UPSERT":
		default:
			return nil, invalidInput("Invalid request: %s: Action must be one of CREATE, DELETE, UPSERT", where)
		}
		if len(rs.Unsupported) > 0 {
			return nil, invalidInput("Invalid request: %s uses %s, which the local stack does not emulate", where, rs.Unsupported[0].XMLName.Local)
		}
		if rs.Name == "" || !recordTypes[strings.ToUpper(rs.Type)] {
			return nil, invalidInput("Invalid request: %s needs a Name and a valid Type", where)
		}
		if rs.TTL == nil || rs.ResourceRecords == nil || len(rs.ResourceRecords.Records) == 0 {
			return nil, invalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", where)
		}
		if *rs.TTL < 0 || *rs.TTL > 2147483647 {
			return nil, invalidInput("Invalid request: %s: TTL must be between 0 and 2147483647", where)
		}
		rec := recordSet{Name: canonicalName(rs.Name), Type: strings.ToUpper(rs.Type), TTL: *rs.TTL}
		for _, v := range rs.ResourceRecords.Records {
			rec.Values = append(rec.Values, v.Value)
		}
		out = append(out, changeRequest{Action: ch.Action, Record: rec})
	}
	return out, nil
}

// getChange reports a change PENDING until the data plane has it.
func (s *Service) getChange(id string) (any, *localaws.APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[id]
	if c == nil {
		return nil, localaws.Errorf(http.StatusNotFound, "NoSuchChange", "Could not find resource with ID: %s", id)
	}
	c.zone.propagate(s.now())
	return getChangeResponse{ChangeInfo: toChangeInfoXML(c)}, nil
}

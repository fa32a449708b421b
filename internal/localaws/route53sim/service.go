package route53sim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DefaultPropagationDelay is how long a change stays PENDING unless
// SetPropagationDelay says otherwise.
const DefaultPropagationDelay = time.Second

// Operation names, as the call log records them.
const (
	OpListHostedZones          = "ListHostedZones"
	OpListHostedZonesByName    = "ListHostedZonesByName"
	OpListResourceRecordSets   = "ListResourceRecordSets"
	OpChangeResourceRecordSets = "ChangeResourceRecordSets"
	OpGetChange                = "GetChange"
	OpGetHostedZone            = "GetHostedZone"
)

// change is one accepted change batch, as GetChange reports it.
type change struct {
	id          string // bare, "C..."
	comment     string
	submittedAt time.Time
	insyncAt    time.Time
	insync      bool // set when the data plane has applied it
	zone        *zone
}

// Service is the emulated Route 53. It is safe for concurrent use.
type Service struct {
	mu      sync.Mutex
	zones   []*zone // seed order
	byID    map[string]*zone
	changes map[string]*change
	delay   time.Duration
	now     func() time.Time
}

// New returns a Route 53 seeded with the hosted zones of topo (nil: none).
// It fails when a zone has no id or name, or a record is outside its zone,
// of an unknown type, without values or declared twice.
func New(topo *localaws.Topology) (*Service, error) {
	s := &Service{
		byID:    map[string]*zone{},
		changes: map[string]*change{},
		delay:   DefaultPropagationDelay,
		now:     time.Now,
	}
	if topo == nil {
		return s, nil
	}
	for _, seed := range topo.HostedZones {
		z, err := newZone(seed)
		if err == nil {
			z.region = topo.Region
		}
		if err != nil {
			return nil, fmt.Errorf("seeding route53: %w", err)
		}
		if s.byID[z.id] != nil {
			return nil, fmt.Errorf("seeding route53: hosted zone id %s is used twice", z.id)
		}
		s.zones = append(s.zones, z)
		s.byID[z.id] = z
	}
	return s, nil
}

// SetPropagationDelay sets how long changes accepted from now on stay
// PENDING (and invisible to Resolve). Zero makes them INSYNC at once.
func (s *Service) SetPropagationDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = max(d, 0)
}

// Resolve answers a query for name and record type as the Route 53 Resolver
// inside the VPC would once every INSYNC change has reached the name
// servers: the values of the record set, following CNAMEs (up to 8) through
// the emulated zones when the type asked for is not CNAME. Names may have the
// trailing dot or not and any case. The most specific zone containing the
// name answers; a private zone shadows a public zone of the same name (split
// horizon, no fallback), and of two otherwise equal zones the first seeded
// answers. It returns nil when there is no such record. The returned slice is
// a copy.
func (s *Service) Resolve(name, rtype string) []string {
	values, _ := s.ResolveTTL(name, rtype)
	return values
}

// ResolveTTL is Resolve with the TTL of the answer's record (the last one
// followed through CNAMEs), which a caching resolver keeps it for.
func (s *Service) ResolveTTL(name, rtype string) ([]string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, z := range s.zones {
		z.propagate(now)
	}
	rtype = strings.ToUpper(rtype)
	name = canonicalName(name)
	for range 8 {
		z := s.authoritativeZone(name)
		if z == nil {
			return nil, 0
		}
		if r, ok := z.served[recordKey{name, rtype}]; ok {
			return slices.Clone(r.Values), time.Duration(r.TTL) * time.Second
		}
		cname, ok := z.served[recordKey{name, "CNAME"}]
		if !ok || rtype == "CNAME" || len(cname.Values) == 0 {
			return nil, 0
		}
		name = canonicalName(cname.Values[0])
	}
	return nil, 0
}

// authoritativeZone is the zone that answers for name inside the VPC, or
// nil. Callers hold s.mu.
func (s *Service) authoritativeZone(name string) *zone {
	var best *zone
	for _, z := range s.zones {
		if !inZone(name, z.name) {
			continue
		}
		if best == nil || len(z.name) > len(best.name) || (len(z.name) == len(best.name) && z.private && !best.private) {
			best = z
		}
	}
	return best
}

// Records returns the record sets of a hosted zone as the API lists them
// (every accepted change, pending or not), in Route 53's listing order. The
// zone id may carry the "/hostedzone/" prefix. ok is false when there is no
// such zone.
func (s *Service) Records(zoneID string) (records []localaws.Record, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.byID[bareZoneID(zoneID)]
	if z == nil {
		return nil, false
	}
	for _, r := range z.sortedRecords() {
		records = append(records, localaws.Record{Name: r.Name, Type: r.Type, TTL: r.TTL, Values: slices.Clone(r.Values)})
	}
	return records, true
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "route53" }

// ThrottleBucket implements localaws.Service: every Route 53 call draws
// from the account-wide Route 53 bucket.
func (s *Service) ThrottleBucket(string) string { return localaws.BucketRoute53 }

// ThrottleError implements localaws.Service.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.BadRequest("Throttling", "Rate exceeded")
}

// Operation implements localaws.Service: it maps the method and path of a
// REST-XML request to the API operation.
func (s *Service) Operation(r *http.Request, _ []byte) (string, error) {
	op, _, err := route(r)
	return op, err
}

// route returns the operation a request asks for and the id in its path
// (hosted zone or change id, bare), if any.
func route(r *http.Request) (op, id string, err error) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	rest, ok := strings.CutPrefix(path, "/2013-04-01/")
	if ok {
		parts := strings.Split(rest, "/")
		switch {
		case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "hostedzone":
			return OpListHostedZones, "", nil
		case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "hostedzonesbyname":
			return OpListHostedZonesByName, "", nil
		case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && parts[1] != "":
			switch r.Method {
			case http.MethodGet:
				return OpListResourceRecordSets, parts[1], nil
			case http.MethodPost:
				return OpChangeResourceRecordSets, parts[1], nil
			}
		case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "change" && parts[1] != "":
			return OpGetChange, parts[1], nil
		case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "hostedzone" && parts[1] != "":
			return OpGetHostedZone, parts[1], nil
		}
	}
	return "", "", localaws.BadRequest("InvalidAction",
		"The local stack's Route 53 does not emulate %s %s", r.Method, r.URL.Path)
}

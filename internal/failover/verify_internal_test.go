package failover

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
)

// Verify writes through the client endpoint until routing took effect:
// through a DNS name, a resolver may answer with the old primary for the
// record's whole TTL, so Verify must outlast it (capped inside its Task's
// timeout); through an IP, 10 attempts.
func TestVerifyOutlastsTheClientRecordsTTL(t *testing.T) {
	dns := []cluster.DNSRecord{{HostedZoneID: "Z1", Name: "pg.db.example.internal.", TTL: 10}, {HostedZoneID: "Z2", Name: "other.example.com", TTL: 300}}
	cases := []struct {
		endpoint string
		want     int
	}{
		{"10.1.0.10:5432", 10},
		{"pg.db.example.internal:5432", 31},  // (10 s + 5 s) / 500 ms + 1
		{"PG.DB.EXAMPLE.INTERNAL.:5432", 31}, // DNS names are case-insensitive
		{"other.example.com:5432", 61},       // capped at 30 s
		{"unrelated.example.com:5432", 10},
	}
	overlay := &cluster.OverlayIP{CIDR: "10.1.0.10/32", VPCIDs: []string{"vpc-1"}}
	for _, c := range cases {
		cfg := &cluster.Config{Routing: cluster.Routing{OverlayIP: overlay, DNS: dns, ClientEndpoint: c.endpoint}}
		if got := attemptsFor(cfg, 500*time.Millisecond); got != c.want {
			t.Errorf("%s: %d attempts, want %d", c.endpoint, got, c.want)
		}
	}
	// DNS records alone: whatever the endpoint looks like (a forwarder's
	// address, a CNAME), clients reach it through the records.
	dnsOnly := &cluster.Config{Routing: cluster.Routing{DNS: dns[:1], ClientEndpoint: "127.0.0.1:40000"}}
	if got := attemptsFor(dnsOnly, 500*time.Millisecond); got != 31 {
		t.Errorf("DNS records only: %d attempts, want 31", got)
	}
	if limit := time.Duration(loadASL(t).States["Verify"].TimeoutSeconds) * time.Second; verifyMaxWait+5*time.Second > limit {
		t.Errorf("Verify's wait %s leaves too little of its Task's timeout %s", verifyMaxWait, limit)
	}
}

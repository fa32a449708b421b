package route53sim_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

const (
	public  = "ZPUBLIC00000000001"
	private = "ZPRIVATE0000000002"
)

func TestChangeCreatesUpsertsAndDeletes(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	created, err := s.change(ctx, public, change(types.ChangeActionCreate, rrset("New.Example.com", types.RRTypeA, 60, "10.0.9.9")))
	if err != nil {
		t.Fatalf("CREATE: %v", err)
	}
	info := created.ChangeInfo
	if !strings.HasPrefix(aws.ToString(info.Id), "/change/C") || info.Status != types.ChangeStatusPending ||
		aws.ToString(info.Comment) != "test" || info.SubmittedAt == nil || info.SubmittedAt.IsZero() {
		t.Fatalf("ChangeInfo: id %q status %s comment %q submitted %v", aws.ToString(info.Id), info.Status, aws.ToString(info.Comment), info.SubmittedAt)
	}
	if got := s.listAll(ctx, t, public); !slices.Contains(got, "new.example.com. A 10.0.9.9") {
		t.Fatalf("created record not listed (names are stored lower case with the dot): %q", got)
	}

	_, err = s.change(ctx, public, change(types.ChangeActionUpsert, rrset("www.example.com", types.RRTypeA, 60, "203.0.113.20", "203.0.113.21")))
	if err != nil {
		t.Fatalf("UPSERT existing: %v", err)
	}
	if got := s.listAll(ctx, t, public); !slices.Contains(got, "www.example.com. A 203.0.113.20,203.0.113.21") {
		t.Fatalf("upserted record not listed: %q", got)
	}

	// DELETE must name the current values; their order does not matter.
	_, err = s.change(ctx, public, change(types.ChangeActionDelete, rrset("www.example.com.", types.RRTypeA, 60, "203.0.113.21", "203.0.113.20")))
	if err != nil {
		t.Fatalf("DELETE exact: %v", err)
	}
	if got := s.listAll(ctx, t, public); slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "www.example.com. ") }) {
		t.Fatalf("deleted record still listed: %q", got)
	}
}

func TestChangeRefusesWithRoute53Messages(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	cases := []struct {
		name   string
		change types.Change
		want   string
	}{
		{"create existing", change(types.ChangeActionCreate, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.10")),
			"Tried to create resource record set [name='db.example.com.', type='A'] but it already exists"},
		{"delete missing", change(types.ChangeActionDelete, rrset("gone.example.com", types.RRTypeA, 30, "10.0.1.10")),
			"Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found"},
		{"delete other ttl", change(types.ChangeActionDelete, rrset("db.example.com", types.RRTypeA, 31, "10.0.1.10")),
			"Tried to delete resource record set [name='db.example.com.', type='A'] but the values provided do not match the current values"},
		{"delete other value", change(types.ChangeActionDelete, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.99")),
			"Tried to delete resource record set [name='db.example.com.', type='A'] but the values provided do not match the current values"},
		{"outside zone", change(types.ChangeActionUpsert, rrset("db.example.org", types.RRTypeA, 30, "10.0.1.10")),
			"RRSet with DNS name db.example.org. is not permitted in zone example.com."},
		{"cname beside A", change(types.ChangeActionUpsert, rrset("db.example.com", types.RRTypeCname, 30, "x.example.com")),
			"RRSet of type CNAME with DNS name db.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		{"A beside cname", change(types.ChangeActionUpsert, rrset("reader.example.com", types.RRTypeA, 30, "10.0.1.10")),
			"RRSet of type A with DNS name reader.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com."},
		{"cname at apex", change(types.ChangeActionUpsert, rrset("example.com", types.RRTypeCname, 30, "x.example.net")),
			"RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com."},
		{"bad IPv4", change(types.ChangeActionUpsert, rrset("db.example.com", types.RRTypeA, 30, "10.0.1")),
			"ARRDATAIllegalIPv4Address"},
	}
	before := s.listAll(ctx, t, public)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.change(ctx, public, c.change)
			msgs := batchMessages(t, err)
			if len(msgs) != 1 || !strings.Contains(msgs[0], c.want) {
				t.Fatalf("messages %q, want one containing %q", msgs, c.want)
			}
		})
	}
	if after := s.listAll(ctx, t, public); !slices.Equal(after, before) {
		t.Fatalf("refused changes modified the zone:\nbefore %q\n after %q", before, after)
	}
}

func TestChangeBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	before := s.listAll(ctx, t, public)

	_, err := s.change(ctx, public,
		change(types.ChangeActionUpsert, rrset("www.example.com", types.RRTypeA, 60, "198.51.100.1")),
		change(types.ChangeActionCreate, rrset("fresh.example.com", types.RRTypeA, 60, "198.51.100.2")),
		change(types.ChangeActionCreate, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.10")),
		change(types.ChangeActionDelete, rrset("gone.example.com", types.RRTypeTxt, 30, `"x"`)),
	)
	msgs := batchMessages(t, err)
	want := []string{
		"Tried to create resource record set [name='db.example.com.', type='A'] but it already exists",
		"Tried to delete resource record set [name='gone.example.com.', type='TXT'] but it was not found",
	}
	if !slices.Equal(msgs, want) {
		t.Fatalf("messages:\n got %q\nwant %q", msgs, want)
	}
	if after := s.listAll(ctx, t, public); !slices.Equal(after, before) {
		t.Fatalf("a refused batch applied some of its changes:\nbefore %q\n after %q", before, after)
	}
}

func TestChangeBatchSeesEarlierChangesOfTheSameBatch(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	// Replace a CNAME by an A record in one transaction, as the Route 53
	// documentation describes: DELETE then CREATE of the same name.
	_, err := s.change(ctx, public,
		change(types.ChangeActionDelete, rrset("reader.example.com", types.RRTypeCname, 30, "db.example.com.")),
		change(types.ChangeActionCreate, rrset("reader.example.com", types.RRTypeA, 30, "10.0.1.12")),
	)
	if err != nil {
		t.Fatalf("DELETE CNAME + CREATE A: %v", err)
	}
	if got := s.listAll(ctx, t, public); !slices.Contains(got, "reader.example.com. A 10.0.1.12") ||
		slices.Contains(got, "reader.example.com. CNAME db.example.com.") {
		t.Fatalf("after replacing the CNAME: %q", got)
	}

	// Two changes of one record set that are not a DELETE followed by a
	// re-creation make the batch invalid.
	_, err = s.change(ctx, public,
		change(types.ChangeActionUpsert, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.20")),
		change(types.ChangeActionUpsert, rrset("db.example.com", types.RRTypeA, 30, "10.0.1.21")),
	)
	msgs := batchMessages(t, err)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "invalid set of changes for a resource record set 'A db.example.com.'") {
		t.Fatalf("duplicate UPSERT messages: %q", msgs)
	}
}

func TestChangeInputErrors(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	_, err := s.change(ctx, "ZNOSUCHZONE", change(types.ChangeActionUpsert, rrset("a.example.com", types.RRTypeA, 30, "10.0.0.1")))
	apiError(t, err, "NoSuchHostedZone", 404)

	alias := &types.ResourceRecordSet{Name: aws.String("alias.example.com"), Type: types.RRTypeA,
		AliasTarget: &types.AliasTarget{DNSName: aws.String("lb.example.net"), HostedZoneId: aws.String("ZNET00000000000004")}}
	_, err = s.change(ctx, public, change(types.ChangeActionUpsert, alias))
	apiError(t, err, "InvalidInput", 400)

	noTTL := rrset("a.example.com", types.RRTypeA, 0, "10.0.0.1")
	noTTL.TTL = nil
	_, err = s.change(ctx, public, change(types.ChangeActionUpsert, noTTL))
	apiError(t, err, "InvalidInput", 400)

	// An empty (not missing) list passes the SDK's own validation.
	_, err = s.client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(public), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{}}})
	apiError(t, err, "InvalidInput", 400)
}

func TestChangeAcceptsPrefixedZoneIDAndEscapesWildcards(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	_, err := s.change(ctx, "/hostedzone/"+public, change(types.ChangeActionCreate, rrset("*.apps.example.com", types.RRTypeA, 60, "10.0.5.5")))
	if err != nil {
		t.Fatalf("CREATE with a /hostedzone/ prefixed id: %v", err)
	}
	if got := s.listAll(ctx, t, public); !slices.Contains(got, `\052.apps.example.com. A 10.0.5.5`) {
		t.Fatalf("wildcard record is not listed with Route 53's \\052 escape: %q", got)
	}
	// Deleting by the escaped name finds the same record set.
	_, err = s.change(ctx, public, change(types.ChangeActionDelete, rrset(`\052.apps.example.com.`, types.RRTypeA, 60, "10.0.5.5")))
	if err != nil {
		t.Fatalf("DELETE by escaped name: %v", err)
	}
}

func TestGetChangeGoesInsyncAfterThePropagationDelay(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	// Long enough that the checks of the PENDING state below finish
	// within it on a busy machine (300 ms was not always).
	s.sim.SetPropagationDelay(2 * time.Second)
	s.srv.SetThrottling(false) // waitInsync polls faster than Route 53's 5 calls a second

	out, err := s.change(ctx, private, change(types.ChangeActionUpsert, rrset("pg.example.com", types.RRTypeA, 10, "10.0.0.200")))
	if err != nil {
		t.Fatalf("UPSERT: %v", err)
	}
	id := aws.ToString(out.ChangeInfo.Id)
	got, err := s.client.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
	if err != nil {
		t.Fatalf("GetChange: %v", err)
	}
	if got.ChangeInfo.Status != types.ChangeStatusPending || aws.ToString(got.ChangeInfo.Id) != id {
		t.Fatalf("right after the change: %s %q, want PENDING %q", got.ChangeInfo.Status, aws.ToString(got.ChangeInfo.Id), id)
	}
	// The API lists the new value at once; the name servers do not have it yet.
	if l := s.listAll(ctx, t, private); !slices.Contains(l, "pg.example.com. A 10.0.0.200") {
		t.Fatalf("pending change not listed: %q", l)
	}
	if v := s.sim.Resolve("pg.example.com", "A"); !slices.Equal(v, []string{"10.0.0.100"}) {
		t.Fatalf("Resolve while PENDING: %v, want the old value", v)
	}

	s.waitInsync(ctx, t, id, 10*time.Second)
	if v := s.sim.Resolve("pg.example.com", "A"); !slices.Equal(v, []string{"10.0.0.200"}) {
		t.Fatalf("Resolve once INSYNC: %v, want the new value", v)
	}
	// The bare id (what the SDK sends after stripping "/change/") finds it too.
	bare := strings.TrimPrefix(id, "/change/")
	again, err := s.client.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(bare)})
	if err != nil || again.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("GetChange %s: %v %v", bare, err, again)
	}
}

func TestGetChangeUnknownID(t *testing.T) {
	s := newStack(t)
	_, err := s.client.GetChange(context.Background(), &route53.GetChangeInput{Id: aws.String("/change/CNOSUCHCHANGE")})
	apiError(t, err, "NoSuchChange", 404)
}

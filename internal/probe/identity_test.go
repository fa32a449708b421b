package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// imdsv2 is a minimal IMDSv2-only metadata endpoint: PUT /latest/api/token
// with a TTL header hands out a token; GET /latest/meta-data/<path> needs
// it (401 without, as with HttpTokens=required).
type imdsv2 struct {
	mu       sync.Mutex
	values   map[string]string
	token    string
	tokenOff bool // answer token requests with 403 (IMDS disabled)
	tokens   int
	gets     []string
	untoken  int // GETs without a valid token
}

func (s *imdsv2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if s.tokenOff {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if err != nil || ttl < 1 || ttl > 21600 {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		s.tokens++
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		w.Write([]byte(s.token))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/latest/meta-data/"):
		if r.Header.Get("X-aws-ec2-metadata-token") != s.token {
			s.untoken++
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")
		s.gets = append(s.gets, p)
		v, ok := s.values[p]
		if !ok {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		w.Write([]byte(v))
	default:
		http.Error(w, "Bad Request", http.StatusBadRequest)
	}
}

func newIMDS(t *testing.T) (*imdsv2, string) {
	s := &imdsv2{token: "AQAEAtoken==", values: map[string]string{
		"instance-id":                 "i-0abc1234def567890",
		"placement/availability-zone": "eu-west-1b",
		"local-ipv4":                  "10.0.2.15",
	}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func TestResolveIdentityFromIMDSv2(t *testing.T) {
	s, url := newIMDS(t)
	id, err := ResolveIdentity(context.Background(), Identity{}, NewMetadataClient(url), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{InstanceID: "i-0abc1234def567890", AvailabilityZone: "eu-west-1b", PrivateIP: "10.0.2.15"}
	if id != want {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens != 1 || s.untoken != 0 {
		t.Fatalf("%d token requests, %d tokenless GETs; want one token reused and no IMDSv1 GET", s.tokens, s.untoken)
	}
}

func TestResolveIdentityKeepsExplicitFields(t *testing.T) {
	s, url := newIMDS(t)
	id, err := ResolveIdentity(context.Background(), Identity{InstanceID: "i-explicit", PrivateIP: "192.0.2.1"},
		NewMetadataClient(url), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if id.InstanceID != "i-explicit" || id.PrivateIP != "192.0.2.1" || id.AvailabilityZone != "eu-west-1b" {
		t.Fatalf("identity %+v", id)
	}
	s.mu.Lock()
	gets := s.gets
	s.mu.Unlock()
	if len(gets) != 1 || gets[0] != "placement/availability-zone" {
		t.Fatalf("fetched %v, want only the missing availability zone", gets)
	}
	// Complete explicit identity, or metadata off: no request at all.
	full := Identity{InstanceID: "i-1", AvailabilityZone: "az", PrivateIP: "10.0.0.1"}
	if id, err := ResolveIdentity(context.Background(), full, NewMetadataClient(url), time.Second); err != nil || id != full {
		t.Fatalf("%+v %v", id, err)
	}
	if id, err := ResolveIdentity(context.Background(), Identity{InstanceID: "i-2"}, nil, time.Second); err != nil || id.InstanceID != "i-2" {
		t.Fatalf("%+v %v", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.gets) != 1 {
		t.Fatalf("extra metadata requests: %v", s.gets)
	}
}

func TestResolveIdentityNoIMDSv1Fallback(t *testing.T) {
	s, url := newIMDS(t)
	s.tokenOff = true
	_, err := ResolveIdentity(context.Background(), Identity{}, NewMetadataClient(url), 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "instance-id") {
		t.Fatalf("err = %v, want a failure naming instance-id", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.untoken != 0 || len(s.gets) != 0 {
		t.Fatalf("the client fell back to tokenless IMDSv1 (%d requests)", s.untoken)
	}
}

func TestResolveIdentityTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	start := time.Now()
	_, err := ResolveIdentity(context.Background(), Identity{}, NewMetadataClient(srv.URL), 300*time.Millisecond)
	if err == nil {
		t.Fatal("a metadata service that never answers gave an identity")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s with a 300ms timeout", took)
	}
}

package imdssim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Instance is what the metadata service tells about its instance.
type Instance struct {
	InstanceID       string
	AvailabilityZone string
	PrivateIP        string
}

// Server is one instance's metadata service (an http.Handler).
type Server struct {
	inst   Instance
	now    func() time.Time
	mu     sync.Mutex
	tokens map[string]time.Time // token → expiry
}

// New returns the metadata service of inst.
func New(inst Instance) *Server {
	return &Server{inst: inst, now: time.Now, tokens: map[string]time.Time{}}
}

const (
	tokenHeader    = "X-aws-ec2-metadata-token"
	tokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
	maxTokenTTL    = 21600
)

// ServeHTTP implements the IMDSv2 token and metadata paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/latest/api/token":
		if r.Method != http.MethodPut {
			http.Error(w, "token requests must be PUT", http.StatusMethodNotAllowed)
			return
		}
		ttl, err := strconv.Atoi(r.Header.Get(tokenTTLHeader))
		if err != nil || ttl < 1 || ttl > maxTokenTTL {
			http.Error(w, "missing or invalid "+tokenTTLHeader, http.StatusBadRequest)
			return
		}
		token := newToken()
		s.mu.Lock()
		s.tokens[token] = s.now().Add(time.Duration(ttl) * time.Second)
		s.mu.Unlock()
		w.Header().Set(tokenTTLHeader, strconv.Itoa(ttl))
		_, _ = w.Write([]byte(token))
	case strings.HasPrefix(r.URL.Path, "/latest/meta-data/"):
		if r.Method != http.MethodGet {
			http.Error(w, "metadata requests must be GET", http.StatusMethodNotAllowed)
			return
		}
		if !s.valid(r.Header.Get(tokenHeader)) {
			http.Error(w, "Unauthorized", http.StatusUnauthorized) // IMDSv1 is off
			return
		}
		value, ok := s.lookup(strings.TrimPrefix(r.URL.Path, "/latest/meta-data/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(value))
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && s.now().Before(exp)
}

func (s *Server) lookup(path string) (string, bool) {
	switch strings.TrimSuffix(path, "/") {
	case "instance-id":
		return s.inst.InstanceID, true
	case "placement/availability-zone":
		return s.inst.AvailabilityZone, true
	case "local-ipv4":
		return s.inst.PrivateIP, true
	}
	return "", false
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

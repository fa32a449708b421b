package smsim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Version stages Secrets Manager attaches to secret versions.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// OpGetSecretValue is the one operation served, as the call log records it.
const OpGetSecretValue = "GetSecretValue"

// targetPrefix starts the X-Amz-Target header of every Secrets Manager call.
const targetPrefix = "secretsmanager."

// version is one value of a secret.
type version struct {
	id      string
	value   string
	stages  []string
	created time.Time
}

// secret is a named secret with its versions, oldest first.
type secret struct {
	name     string
	arn      string
	versions []*version
}

// Service is the emulated Secrets Manager. It is safe for concurrent use.
type Service struct {
	mu        sync.Mutex
	region    string
	accountID string
	byName    map[string]*secret
	now       func() time.Time
}

// New returns a Secrets Manager holding the secrets of topo (nil: none),
// with ARNs in topo's region and account (us-east-1 and 123456789012 when
// unset). It fails when a secret has no name or a name is used twice.
func New(topo *localaws.Topology) (*Service, error) {
	s := &Service{region: "us-east-1", accountID: "123456789012", byName: map[string]*secret{}, now: time.Now}
	if topo == nil {
		return s, nil
	}
	if topo.Region != "" {
		s.region = topo.Region
	}
	if topo.AccountID != "" {
		s.accountID = topo.AccountID
	}
	for _, seed := range topo.Secrets {
		if seed.Name == "" {
			return nil, fmt.Errorf("seeding secretsmanager: a secret has no name")
		}
		if s.byName[seed.Name] != nil {
			return nil, fmt.Errorf("seeding secretsmanager: secret %q is declared twice", seed.Name)
		}
		s.PutSecret(seed.Name, seed.Value)
	}
	return s, nil
}

// PutSecret stores value as the AWSCURRENT version of the secret name,
// creating the secret if needed. The version it replaces becomes
// AWSPREVIOUS; older versions lose their stages, as in Secrets Manager.
func (s *Service) PutSecret(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.byName[name]
	if sec == nil {
		sec = &secret{name: name, arn: s.arnFor(name)}
		s.byName[name] = sec
	}
	for _, v := range sec.versions {
		had := slices.Contains(v.stages, StageCurrent)
		v.stages = nil
		if had {
			v.stages = []string{StagePrevious}
		}
	}
	sec.versions = append(sec.versions, &version{id: newVersionID(), value: value,
		stages: []string{StageCurrent}, created: s.now()})
}

// ARN returns the ARN of the secret name, and whether it exists.
func (s *Service) ARN(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.byName[name]; sec != nil {
		return sec.arn, true
	}
	return "", false
}

// arnFor builds the secret's ARN. The six-character suffix AWS appends at
// random is derived from the name here, so ARNs are stable across runs.
func (s *Service) arnFor(name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(name))
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.accountID, name, suffix)
}

// find looks a secret up by name, full ARN or partial ARN (without the
// suffix). Callers hold s.mu.
func (s *Service) find(id string) *secret {
	if sec := s.byName[id]; sec != nil {
		return sec
	}
	if !strings.HasPrefix(id, "arn:") {
		return nil
	}
	for _, sec := range s.byName {
		if id == sec.arn || id == sec.arn[:len(sec.arn)-len("-XXXXXX")] {
			return sec
		}
	}
	return nil
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "secretsmanager" }

// ThrottleBucket implements localaws.Service.
func (s *Service) ThrottleBucket(string) string { return localaws.BucketSecrets }

// ThrottleError implements localaws.Service.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.BadRequest("ThrottlingException", "Rate exceeded")
}

// Operation implements localaws.Service: the operation is named by the
// X-Amz-Target header. Operations other than GetSecretValue are named in
// the call log and refused.
func (s *Service) Operation(r *http.Request, _ []byte) (string, error) {
	op, err := protocol.Operation(r, func(op string) bool { return op != "" })
	if err != nil {
		return "", err
	}
	if op != OpGetSecretValue {
		return op, localaws.BadRequest("UnknownOperationException", "The local stack's Secrets Manager does not emulate %s", op)
	}
	return op, nil
}

// newVersionID returns a random version id in the UUID layout AWS uses.
func newVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

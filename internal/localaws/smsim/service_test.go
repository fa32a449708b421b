package smsim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/smsim"
)

const seedYAML = `
region: eu-west-1
accountId: "111122223333"
secrets:
  - {name: switchyard/pg/replication, value: '{"username":"replicator","password":"r3pl"}'}
  - {name: switchyard/pg/admin, value: 'admin-password'}
`

type stack struct {
	srv    *localaws.Server
	sim    *smsim.Service
	client *secretsmanager.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	topo, err := localaws.ParseTopology([]byte(seedYAML))
	if err != nil {
		t.Fatalf("parsing seed topology: %v", err)
	}
	sim, err := smsim.New(topo)
	if err != nil {
		t.Fatalf("smsim.New: %v", err)
	}
	srv := localaws.NewServer()
	srv.Register(sim)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "eu-west-1", "AKIDSECRETSTEST"), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	return &stack{srv: srv, sim: sim, client: secretsmanager.NewFromConfig(cfg)}
}

func (s *stack) get(ctx context.Context, in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
	return s.client.GetSecretValue(ctx, in)
}

// apiError asserts err is an AWS API error with the code, message and HTTP status.
func apiError(t *testing.T, err error, code, message string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	if message != "" && !strings.Contains(err.Error(), message) {
		t.Fatalf("want message %q in %v", message, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d for %s, got %v", status, code, err)
	}
}

var (
	arnPattern  = regexp.MustCompile(`^arn:aws:secretsmanager:eu-west-1:111122223333:secret:switchyard/pg/replication-[A-Za-z0-9]{6}$`)
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func TestGetSecretValueByName(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	out, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("switchyard/pg/replication")})
	if err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	if !arnPattern.MatchString(aws.ToString(out.ARN)) {
		t.Fatalf("ARN %q", aws.ToString(out.ARN))
	}
	if aws.ToString(out.Name) != "switchyard/pg/replication" || aws.ToString(out.SecretString) != `{"username":"replicator","password":"r3pl"}` {
		t.Fatalf("name %q value %q", aws.ToString(out.Name), aws.ToString(out.SecretString))
	}
	if !uuidPattern.MatchString(aws.ToString(out.VersionId)) || !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) {
		t.Fatalf("version %q stages %v", aws.ToString(out.VersionId), out.VersionStages)
	}
	if out.CreatedDate == nil || time.Since(*out.CreatedDate) < 0 || time.Since(*out.CreatedDate) > time.Minute {
		t.Fatalf("CreatedDate %v is not the seeding time", out.CreatedDate)
	}
	if arn, ok := s.sim.ARN("switchyard/pg/replication"); !ok || arn != aws.ToString(out.ARN) {
		t.Fatalf("ARN accessor: %q %v", arn, ok)
	}
}

func TestGetSecretValueByFullAndPartialARN(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	arn, _ := s.sim.ARN("switchyard/pg/admin")
	partial := arn[:len(arn)-len("-abcdef")]
	for _, id := range []string{arn, partial} {
		out, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue %s: %v", id, err)
		}
		if aws.ToString(out.SecretString) != "admin-password" || aws.ToString(out.ARN) != arn {
			t.Fatalf("by %s: value %q ARN %q", id, aws.ToString(out.SecretString), aws.ToString(out.ARN))
		}
	}
}

func TestGetSecretValueNotFound(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	for _, id := range []string{"switchyard/pg/nope", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:switchyard/pg/admin-zzzzzz", "switchyard/pg"} {
		_, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		apiError(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400)
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("%s: want *types.ResourceNotFoundException, got %T", id, err)
		}
	}
}

func TestPutSecretRotatesVersionStages(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	name := aws.String("switchyard/pg/admin")
	before, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name})
	if err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	s.sim.PutSecret("switchyard/pg/admin", "rotated-1")
	s.sim.PutSecret("switchyard/pg/admin", "rotated-2")

	current, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name})
	if err != nil || aws.ToString(current.SecretString) != "rotated-2" || !slices.Equal(current.VersionStages, []string{"AWSCURRENT"}) {
		t.Fatalf("current after two rotations: %v %+v", err, current)
	}
	previous, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name, VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(previous.SecretString) != "rotated-1" {
		t.Fatalf("AWSPREVIOUS: %v %+v", err, previous)
	}
	original, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name, VersionId: before.VersionId})
	if err != nil || aws.ToString(original.SecretString) != "admin-password" || len(original.VersionStages) != 0 {
		t.Fatalf("first version by id: %v %+v", err, original)
	}
	if aws.ToString(current.VersionId) == aws.ToString(before.VersionId) {
		t.Fatalf("rotation kept the version id %s", aws.ToString(before.VersionId))
	}

	_, err = s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name, VersionId: aws.String("00000000-0000-4000-8000-000000000000")})
	apiError(t, err, "ResourceNotFoundException", "VersionId: 00000000-0000-4000-8000-000000000000", 400)
	_, err = s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name, VersionStage: aws.String("AWSPENDING")})
	apiError(t, err, "ResourceNotFoundException", "staging label: AWSPENDING", 400)
	_, err = s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: name, VersionId: current.VersionId, VersionStage: aws.String("AWSPREVIOUS")})
	apiError(t, err, "ResourceNotFoundException", "", 400)

	s.sim.PutSecret("switchyard/new", "fresh")
	fresh, err := s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("switchyard/new")})
	if err != nil || aws.ToString(fresh.SecretString) != "fresh" {
		t.Fatalf("secret added in process: %v %+v", err, fresh)
	}
}

func TestUnemulatedOperationIsRefused(t *testing.T) {
	s := newStack(t)
	_, err := s.client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("switchyard/pg/admin")})
	apiError(t, err, "UnknownOperationException", "DescribeSecret", 400)
}

func TestThrottlingException(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	s.srv.SetBucket(localaws.BucketSecrets, 1, 0.001)
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("switchyard/pg/admin")}
	if _, err := s.get(ctx, in); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := s.get(ctx, in)
	apiError(t, err, "ThrottlingException", "Rate exceeded", 400)
	if !awsapi.IsThrottle(err) {
		t.Fatalf("awsapi.IsThrottle(%v) is false", err)
	}
}

func TestCallLog(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	arn, _ := s.sim.ARN("switchyard/pg/admin")
	_, _ = s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("switchyard/pg/admin")})
	_, _ = s.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})
	_, _ = s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("switchyard/pg/admin")})

	want := []struct{ op, resources, code string }{
		{"GetSecretValue", arn, ""},
		{"GetSecretValue", "missing", "ResourceNotFoundException"},
		{"DescribeSecret", "", "UnknownOperationException"},
	}
	calls := s.srv.Calls()
	if len(calls) != len(want) {
		t.Fatalf("call log has %d calls, want %d", len(calls), len(want))
	}
	for i, w := range want {
		c := &calls[i] // Call holds a mutex: index, do not copy
		if c.Operation != w.op || strings.Join(c.Resources, " ") != w.resources || c.ErrorCode != w.code ||
			c.Service != "secretsmanager" || c.AccessKeyID != "AKIDSECRETSTEST" || c.Region != "eu-west-1" {
			t.Errorf("call %d: %s %v %q by %s in %s, want %+v", i, c.Operation, c.Resources, c.ErrorCode, c.AccessKeyID, c.Region, w)
		}
	}
}

func TestNewRefusesBadSeeds(t *testing.T) {
	dup := &localaws.Topology{Secrets: []localaws.Secret{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}
	if _, err := smsim.New(dup); err == nil {
		t.Error("New accepted a secret declared twice")
	}
	if _, err := smsim.New(&localaws.Topology{Secrets: []localaws.Secret{{Value: "x"}}}); err == nil {
		t.Error("New accepted a secret without a name")
	}
	s, err := smsim.New(nil)
	if err != nil {
		t.Fatalf("New(nil): %v", err)
	}
	s.PutSecret("x", "y")
	if arn, ok := s.ARN("x"); !ok || !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-") {
		t.Fatalf("default region and account: %q %v", arn, ok)
	}
}

package snssim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/snssim"
)

const (
	testAccount = "111122223333"
	testRegion  = "eu-west-1"
	testKey     = "AKIDSNSTEST"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// stack is one emulated SNS behind a real HTTP server, with a real SDK
// client pointed at it (region eu-west-1, no retries).
type stack struct {
	t      *testing.T
	srv    *localaws.Server
	sim    *snssim.Service
	url    string
	client *sns.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	sim := snssim.New(snssim.Options{AccountID: testAccount})
	srv := localaws.NewServer()
	srv.SetAccountID(testAccount)
	srv.Register(sim)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &stack{t: t, srv: srv, sim: sim, url: hs.URL}
	s.client = s.newClient(testRegion)
	return s
}

// newClient builds an SDK client for the emulator in region, without retries.
func (s *stack) newClient(region string) *sns.Client {
	s.t.Helper()
	opts := append(awsall.LocalConfig(s.url, region, testKey), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		s.t.Fatalf("loading SDK config: %v", err)
	}
	return sns.NewFromConfig(cfg)
}

// createTopic creates a topic by name and returns its ARN.
func (s *stack) createTopic(name string) string {
	s.t.Helper()
	out, err := s.client.CreateTopic(ctx(s.t), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		s.t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// topicAttributes returns GetTopicAttributes of arn.
func (s *stack) topicAttributes(arn string) map[string]string {
	s.t.Helper()
	out, err := s.client.GetTopicAttributes(ctx(s.t), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		s.t.Fatalf("GetTopicAttributes %s: %v", arn, err)
	}
	return out.Attributes
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// apiError asserts err is an AWS API error with the code and HTTP status,
// and, when message is not "", that message in its text.
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

// invalidParameter asserts err is SNS's InvalidParameter as the SDK types it.
func invalidParameter(t *testing.T, err error, message string) {
	t.Helper()
	apiError(t, err, "InvalidParameter", message, 400)
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Fatalf("want *types.InvalidParameterException, got %T (%v)", err, err)
	}
}

// notFound asserts err is SNS's NotFound as the SDK types it.
func notFound(t *testing.T, err error, message string) {
	t.Helper()
	apiError(t, err, "NotFound", message, 404)
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want *types.NotFoundException, got %T (%v)", err, err)
	}
}

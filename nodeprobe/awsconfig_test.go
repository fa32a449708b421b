package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/internal/localaws/imdssim"
	"github.com/switchyard/switchyard/internal/probe"
)

// fakeIMDS is an instance's metadata service with an instance profile
// (role "node-role") and a region: imdssim serves the IMDSv2 token and the
// identity, this the role's credentials and the identity document.
type fakeIMDS struct {
	next      http.Handler
	noRole    bool
	roleReads atomic.Int32
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("X-aws-ec2-metadata-token")
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/latest/meta-data/iam/security-credentials"):
		f.roleReads.Add(1)
		switch {
		case token == "":
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case f.noRole:
			http.NotFound(w, r)
		case strings.TrimSuffix(p, "/") == "/latest/meta-data/iam/security-credentials":
			_, _ = w.Write([]byte("node-role\n"))
		default:
			_, _ = w.Write([]byte(`{"Code":"Success","AccessKeyId":"AKIDROLE","SecretAccessKey":"role-secret","Token":"role-token","Expiration":"` +
				time.Now().Add(6*time.Hour).UTC().Format(time.RFC3339) + `"}`))
		}
	case p == "/latest/dynamic/instance-identity/document":
		if token == "" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"region":"eu-west-3","instanceId":"i-0123456789abcdef0"}`))
	default:
		f.next.ServeHTTP(w, r)
	}
}

func startIMDS(t *testing.T, noRole bool) (*fakeIMDS, metadataAPI) {
	t.Helper()
	f := &fakeIMDS{next: imdssim.New(imdssim.Instance{InstanceID: "i-0123456789abcdef0"}), noRole: noRole}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, probe.NewMetadataClient(srv.URL)
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func load(t *testing.T, env map[string]string, md metadataAPI, regionFromMD bool) (aws.Config, aws.Credentials, string, error) {
	t.Helper()
	cfg, source, err := loadAWSConfig(context.Background(), awsSources{Getenv: envOf(env), Metadata: md,
		RegionFromMetadata: regionFromMD, Timeout: 5 * time.Second})
	if err != nil {
		return cfg, aws.Credentials{}, source, err
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("retrieving loaded credentials: %v", err)
	}
	return cfg, creds, source, nil
}

func TestEnvironmentCredentialsBeatTheInstanceRole(t *testing.T) {
	f, md := startIMDS(t, false)
	cfg, creds, source, err := load(t, map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
		"AWS_REGION": "us-east-2",
	}, md, true)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDENV" || creds.SecretAccessKey != "env-secret" || creds.SessionToken != "env-token" || source != credentialsFromEnv {
		t.Errorf("credentials %+v from %q, want the environment's", creds, source)
	}
	if n := f.roleReads.Load(); n != 0 {
		t.Errorf("the instance role was read %d times with keys in the environment", n)
	}
	if cfg.Region != "us-east-2" {
		t.Errorf("region %q, want AWS_REGION's us-east-2 over instance metadata", cfg.Region)
	}
}

func TestInstanceRoleWithoutEnvironmentKeys(t *testing.T) {
	f, md := startIMDS(t, false)
	cfg, creds, source, err := load(t, map[string]string{}, md, true)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDROLE" || creds.SessionToken != "role-token" || !creds.CanExpire || source != credentialsFromRole {
		t.Errorf("credentials %+v from %q, want the instance role's", creds, source)
	}
	if f.roleReads.Load() == 0 {
		t.Error("the instance role was not read")
	}
	if cfg.Region != "eu-west-3" {
		t.Errorf("region %q, want instance metadata's eu-west-3", cfg.Region)
	}
}

func TestRegionOrder(t *testing.T) {
	_, md := startIMDS(t, false)
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range keys {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		env          map[string]string
		regionFromMD bool
		want         string
	}{
		{with("AWS_REGION", "us-west-1", "AWS_DEFAULT_REGION", "us-west-2"), true, "us-west-1"},
		{with("AWS_DEFAULT_REGION", "us-west-2"), true, "us-west-2"},
		{with(), true, "eu-west-3"},
		{with("AWS_DEFAULT_REGION", "us-west-2"), false, "us-west-2"},
	} {
		cfg, _, _, err := load(t, c.env, md, c.regionFromMD)
		if err != nil || cfg.Region != c.want {
			t.Errorf("%v (region from metadata %v): region %q, %v; want %q", c.env, c.regionFromMD, cfg.Region, err, c.want)
		}
	}
	if _, _, _, err := load(t, with(), md, false); err == nil || !strings.Contains(err.Error(), "no AWS region: set AWS_REGION") {
		t.Errorf("no region anywhere: err = %v", err)
	}
}

func TestMissingCredentialsFailClearly(t *testing.T) {
	_, noRole := startIMDS(t, true)
	_, md := startIMDS(t, false)
	for _, c := range []struct {
		env  map[string]string
		md   metadataAPI
		want string
	}{
		{map[string]string{}, noRole, "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and the EC2 instance role could not be read"},
		{map[string]string{"AWS_ACCESS_KEY_ID": "AKID"}, md, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"},
		{map[string]string{"AWS_SECRET_ACCESS_KEY": "s"}, md, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"},
		{map[string]string{"AWS_PROFILE": "prod"}, md, "AWS_PROFILE is set, but the node agent reads credentials only from"},
		{map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, md, "unset AWS_WEB_IDENTITY_TOKEN_FILE"},
	} {
		c.env["AWS_REGION"] = "us-east-1"
		if _, _, _, err := load(t, c.env, c.md, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.env, err, c.want)
		}
	}
	// Keys in the environment make the other settings irrelevant.
	if _, _, _, err := load(t, map[string]string{"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s",
		"AWS_REGION": "us-east-1"}, noRole, false); err != nil {
		t.Errorf("keys with AWS_PROFILE set: %v", err)
	}
}

// The clients take AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> as with
// the SDK's default configuration (the service-specific one wins).
func TestEndpointOverrides(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "5")
	cfg, _, err := loadAWSConfig(context.Background(), awsSources{Getenv: os.Getenv, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint); got != "http://127.0.0.1:2" {
		t.Errorf("DynamoDB endpoint %q, want AWS_ENDPOINT_URL_DYNAMODB", got)
	}
	cw := cloudwatch.NewFromConfig(cfg).Options()
	if got := aws.ToString(cw.BaseEndpoint); got != "http://127.0.0.1:1" {
		t.Errorf("CloudWatch endpoint %q, want AWS_ENDPOINT_URL", got)
	}
	if cw.RetryMaxAttempts != 5 {
		t.Errorf("CloudWatch retry attempts %d, want AWS_MAX_ATTEMPTS", cw.RetryMaxAttempts)
	}

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if cfg, _, err = loadAWSConfig(context.Background(), awsSources{Getenv: os.Getenv, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Errorf("DynamoDB endpoint %q with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", *got)
	}
}

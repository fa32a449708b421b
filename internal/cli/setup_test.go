package cli_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/store"
)

const (
	testTable  = "switchyard-test"
	testRegion = "us-east-1"
	roleArn    = "arn:aws:iam::123456789012:role/switchyard-failover"

	passDefinition = `{"StartAt":"Accept","States":{"Accept":{"Type":"Pass","Result":{"ok":true},"End":true}}}`
	failDefinition = `{"StartAt":"Refuse","States":{"Refuse":{"Type":"Fail","Error":"Switchyard.Refused","Cause":"standby too far behind"}}}`
	holdDefinition = `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":3600,"End":true}}}`
)

// emulator is DynamoDB and Step Functions behind a real HTTP server, as the
// CLI meets them in AWS. Wait states sleep through sleep, which a test may
// replace to hold an execution in a Wait state.
type emulator struct {
	srv *localaws.Server
	sfn *sfnsim.Service
	url string
	// now, when set, is the CLI's clock.
	now func() time.Time
	cw  *cwsim.Service

	mu    sync.Mutex
	sleep func(ctx context.Context, d time.Duration) error
}

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	em := &emulator{srv: localaws.NewServer()}
	ddb := ddbsim.New(ddbsim.Options{})
	if err := ddb.CreateTable(ddbsim.TableSpec{Name: testTable, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	em.sfn = sfnsim.New(sfnsim.Options{Sleep: func(ctx context.Context, d time.Duration) error {
		em.mu.Lock()
		sleep := em.sleep
		em.mu.Unlock()
		if sleep != nil {
			return sleep(ctx, d)
		}
		select { // a real wait, ended by Close
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}})
	t.Cleanup(em.sfn.Close)
	em.cw = cwsim.New(cwsim.Options{Region: testRegion, AccountID: "123456789012"})
	em.srv.Register(ddb)
	em.srv.Register(em.sfn)
	em.srv.Register(em.cw)
	hs := httptest.NewServer(em.srv)
	t.Cleanup(hs.Close)
	em.url = hs.URL
	return em
}

// setSleep replaces how Wait states wait.
func (em *emulator) setSleep(fn func(ctx context.Context, d time.Duration) error) {
	em.mu.Lock()
	defer em.mu.Unlock()
	em.sleep = fn
}

// machine creates a state machine in process (no call is logged).
func (em *emulator) machine(t *testing.T, name, definition string) string {
	t.Helper()
	arn, err := em.sfn.CreateStateMachine(name, []byte(definition), roleArn)
	if err != nil {
		t.Fatalf("creating state machine %s: %v", name, err)
	}
	return arn
}

// store returns the cluster record store over the SDK, for seeding.
func (em *emulator) store(t *testing.T) *store.Store {
	t.Helper()
	clients, err := awsall.NewClients(context.Background(), awsall.LocalConfig(em.url, testRegion, "AKIDSEED")...)
	if err != nil {
		t.Fatalf("building clients: %v", err)
	}
	return store.New(clients.DynamoDB, testTable)
}

// result is what one command line produced.
type result struct {
	stdout, stderr string
	code           int
}

// testOptions are the process options of the CLI under test: static
// credentials and a region, as an operator's environment would give.
func testOptions(stdout, stderr *syncBuffer) cli.Options {
	return cli.Options{Stdout: stdout, Stderr: stderr, AWSConfig: []func(*config.LoadOptions) error{
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCLI", SecretAccessKey: "secret", Source: "test"}, nil
		})),
	}}
}

// run runs one switchyard command line against the emulator (through
// --endpoint-url) and returns its output and exit code.
func (em *emulator) run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, em.now, append([]string{"--endpoint-url", em.url}, args...)...)
}

// runCLI runs one command line with no endpoint given.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, nil, args...)
}

func runWith(t *testing.T, now func() time.Time, args ...string) result {
	t.Helper()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := testOptions(&stdout, &stderr)
	opts.Now = now
	code := cli.Run(ctx, args, opts)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every few milliseconds until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// mustContain fails unless s contains every part.
func mustContain(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s does not contain %q:\n%s", what, p, s)
		}
	}
}

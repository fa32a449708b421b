package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// LeaseTTL is how long a lease lasts without being committed or released.
// It matches the state machine's TimeoutSeconds, so a lease outlives its
// execution only when the execution was stopped from outside.
const LeaseTTL = 15 * time.Minute

// base is what every handler has, mutating or not: the configuration, the
// database login (Secrets Manager, read-only), logging and the clock.
type base struct {
	Config  *cluster.Config
	Secrets awsall.SecretsAPI
	Log     *slog.Logger
	Now     func() time.Time
	// PollInterval paces the waits for an instance to stop and a DNS
	// change to be in sync; 0 means 2 s.
	PollInterval time.Duration
}

// Deps is what the mutating handlers need. Each Lambda fills in only the
// clients its handler uses (and its IAM role allows); the local stack
// fills in all.
type Deps struct {
	base
	EC2        awsapi.EC2API
	Route53    awsall.Route53API
	CloudWatch awsapi.CloudWatchAPI
	// SFN answers whether the holder of a failover lock still runs (the
	// lease step) and starts the execution that resumes an interrupted
	// handover (the cleanup).
	SFN   awsapi.SFNAPI
	Store *store.Store
}

// RecordReader reads the cluster record.
type RecordReader interface {
	Get(ctx context.Context, cluster string) (store.Record, error)
	// GetState reads the record without its history (one small item).
	GetState(ctx context.Context, cluster string) (store.Record, error)
}

// Readers is what the read-only handlers (Assess, the drift check) get:
// clients that can only read, so that they cannot change a route, an
// instance, an alarm or the record by type, not only by IAM.
type Readers struct {
	base
	EC2        awsapi.EC2Reader
	Route53    awsall.Route53Reader
	CloudWatch awsapi.CloudWatchReader
	Records    RecordReader
}

// Readers is the read-only view of d.
func (d *Deps) Readers() *Readers {
	r := &Readers{base: d.base}
	// A nil interface must stay nil, not become a typed nil.
	if d.EC2 != nil {
		r.EC2 = d.EC2
	}
	if d.Route53 != nil {
		r.Route53 = d.Route53
	}
	if d.CloudWatch != nil {
		r.CloudWatch = d.CloudWatch
	}
	if d.Store != nil {
		r.Records = d.Store
	}
	return r
}

// NewDeps builds Deps from real AWS clients.
func NewDeps(cfg *cluster.Config, c *awsall.Clients) *Deps {
	return &Deps{
		base: base{Config: cfg, Secrets: c.Secrets, Log: slog.New(slog.NewJSONHandler(os.Stderr, nil))},
		EC2:  c.EC2, Route53: c.Route53, CloudWatch: c.CloudWatch, SFN: c.SFN,
		Store: store.New(c.DynamoDB, cfg.Table),
	}
}

func (d *base) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *base) pollInterval() time.Duration {
	if d.PollInterval > 0 {
		return d.PollInterval
	}
	return 2 * time.Second
}

func (d *base) logger(step string, s State) *slog.Logger {
	l := d.Log
	if l == nil {
		l = slog.Default()
	}
	l = l.With("cluster", d.Config.Name, "execution", s.Execution, "step", step)
	if s.Lease != nil {
		l = l.With("epoch", s.Lease.Epoch)
	}
	return l
}

// credentials is the PostgreSQL login kept in Secrets Manager.
type credentials = pgnode.Login

func (d *base) credentials(ctx context.Context) (credentials, error) {
	out, err := d.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(d.Config.Database.SecretID)})
	if err != nil {
		return credentials{}, classify("reading database secret "+d.Config.Database.SecretID, err)
	}
	c, err := pgnode.ParseLogin(out.SecretString)
	if err != nil {
		return credentials{}, &StepFailed{Step: "credentials", Err: fmt.Errorf("secret %s: %w", d.Config.Database.SecretID, err)}
	}
	return c, nil
}

// dsn builds a connection string for addr (host:port) with the secret's
// login.
func (d *base) dsn(addr string, c credentials) (string, error) {
	return c.DSN(addr, d.Config.Database.Name, d.Config.Database.SSLMode, "switchyard")
}

// connect opens a connection to a node or the client endpoint.
func (d *base) connect(ctx context.Context, addr string) (*pgx.Conn, error) {
	c, err := d.credentials(ctx)
	if err != nil {
		return nil, err
	}
	return d.connectAs(ctx, addr, c)
}

// connectAs opens a connection to addr with credentials already read, so a
// bound on ctx bounds the connection alone.
func (d *base) connectAs(ctx context.Context, addr string, c credentials) (*pgx.Conn, error) {
	dsn, err := d.dsn(addr, c)
	if err != nil {
		return nil, &StepFailed{Step: "connect", Err: err}
	}
	conn, err := pgnode.Connect(ctx, dsn, d.Config.ConnectTimeout())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return conn, nil
}

// classify wraps an AWS error: throttling, timeouts and 5xx become
// TransientError (retried by the state machine); the rest StepFailed.
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	var te *TransientError
	var sf *StepFailed
	if errors.As(err, &te) || errors.As(err, &sf) {
		return err
	}
	if awsapi.IsThrottle(err) || errors.Is(err, context.DeadlineExceeded) || awsapi.IsTransient(err) {
		return &TransientError{Step: step, Err: err}
	}
	return &StepFailed{Step: step, Err: err}
}

func result(start time.Time, now time.Time, summary string, details ...string) *StepResult {
	return &StepResult{Done: true, Summary: summary, Details: details, StartedAt: start, DurationMs: now.Sub(start).Milliseconds()}
}

// retryable marks err as a TransientError unless it already says it is
// permanent (StepFailed) or transient.
func retryable(step string, err error) error {
	var te *TransientError
	var sf *StepFailed
	if errors.As(err, &te) || errors.As(err, &sf) {
		return err
	}
	return &TransientError{Step: step, Err: err}
}

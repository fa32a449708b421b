package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// DefaultFlushInterval is how often the agent sends its metrics when
// nothing is wrong. CloudWatch bills each PutMetricData request, so this
// sets most of the agents' CloudWatch bill: 2 nodes × 30 days / 50 s =
// 103,680 requests a month ($1.04). Every healthy heartbeat reaches
// CloudWatch up to this late, which the defaults allow for: the heartbeat
// alarm's period is 60 s (a sample of one period is sent at least 10 s
// before the next one closes) and Assess counts a heartbeat as stale only
// after 90 s (cluster detection.heartbeatStaleSeconds). Bad news does not
// wait for it (Sample.Urgent).
const DefaultFlushInterval = 50 * time.Second

// StaleMargin is how far under the cluster's heartbeat stale limit the
// flush interval must stay: a healthy heartbeat reaches CloudWatch up to
// one flush interval late, plus the call and CloudWatch's ingestion.
const StaleMargin = 10 * time.Second

// CheckFlushFitsStale refuses a flush interval that would make a healthy
// primary's newest heartbeat look stale to Assess (a loss signal, so a
// step toward a needless failover).
func CheckFlushFitsStale(flush, stale time.Duration) error {
	if flush+StaleMargin > stale {
		return fmt.Errorf("flush interval %s does not fit the cluster's detection.heartbeatStaleSeconds (%s): "+
			"a healthy primary's heartbeat reaches CloudWatch up to one flush interval late and Assess would count it stale; "+
			"keep the flush interval at least %s under the stale limit (lower --flush-interval or raise heartbeatStaleSeconds)",
			flush, stale, StaleMargin)
	}
	return nil
}

// PublisherConfig tunes how samples reach CloudWatch.
type PublisherConfig struct {
	Namespace string
	// FlushInterval is how often buffered samples are sent. Every sample
	// that is not urgent reaches CloudWatch up to this late, so keep it at
	// least 10 s under the alarm period (the default 50 s for 60-second
	// alarms, 5 s for 10-second ones); each flush is one PutMetricData
	// call per 1,000 datums, which is what CloudWatch bills.
	FlushInterval time.Duration
	// UrgentDelay is how soon after an urgent sample (Sample.Urgent) a
	// flush is made, so that bad news does not wait for FlushInterval.
	// Urgent flushes are one call each while they last, which costs
	// nothing while the cluster is healthy.
	UrgentDelay time.Duration
	// Bucket is the aggregation granularity: samples of one series within
	// a bucket become one datum (Values/Counts) stamped at its start.
	// 1s keeps CloudWatch's full high-resolution timing.
	Bucket time.Duration
	// MaxBuffered bounds the samples held while CloudWatch is unreachable;
	// beyond it the oldest are dropped (and counted).
	MaxBuffered int
	// MaxBackoff caps the wait between flushes after failures.
	MaxBackoff time.Duration
	// CallTimeout bounds one PutMetricData call (SDK retries included).
	CallTimeout time.Duration
	// ShutdownTimeout bounds the final flush when Run's context ends.
	ShutdownTimeout time.Duration
}

// PublisherStats counts what the publisher did, for logs and tests.
type PublisherStats struct {
	Buffered  int   // samples waiting
	Sent      int64 // samples accepted by CloudWatch
	Dropped   int64 // samples dropped: buffer overflow or rejected as invalid
	Calls     int64 // PutMetricData calls made
	Failures  int64 // calls that failed
	LastError string
}

// Publisher buffers samples and sends them to CloudWatch in batches.
// Add may be called from any goroutine and never waits for the network;
// Run does the sending. It is safe for concurrent use.
type Publisher struct {
	cw  awsapi.CloudWatchAPI
	cfg PublisherConfig
	log *slog.Logger

	mu    sync.Mutex
	buf   []Sample
	stats PublisherStats
	// urgent is signalled (without blocking) when an urgent sample is
	// added; Run then flushes within UrgentDelay.
	urgent chan struct{}
	// flushMu serialises flushes (Run's loop and explicit Flush calls).
	flushMu sync.Mutex
}

// NewPublisher returns a Publisher sending to cw. Zero fields of cfg get
// defaults (namespace "Switchyard", flush DefaultFlushInterval, urgent
// delay 1s, bucket 1s, 10,000 samples, backoff cap 1m, call timeout 10s,
// shutdown 5s).
func NewPublisher(cw awsapi.CloudWatchAPI, cfg PublisherConfig, log *slog.Logger) *Publisher {
	if cfg.Namespace == "" {
		cfg.Namespace = "Switchyard"
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.UrgentDelay <= 0 {
		cfg.UrgentDelay = time.Second
	}
	if cfg.Bucket <= 0 {
		cfg.Bucket = time.Second
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 10000
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{cw: cw, cfg: cfg, log: log, urgent: make(chan struct{}, 1)}
}

// Add queues samples for the next flush. When the buffer is full the
// oldest samples are dropped.
func (p *Publisher) Add(samples ...Sample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, samples...)
	p.trimLocked()
	for _, s := range samples {
		if s.Urgent {
			select {
			case p.urgent <- struct{}{}:
			default: // already signalled
			}
			break
		}
	}
}

func (p *Publisher) trimLocked() {
	if over := len(p.buf) - p.cfg.MaxBuffered; over > 0 {
		p.buf = append([]Sample(nil), p.buf[over:]...)
		p.stats.Dropped += int64(over)
	}
}

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Buffered = len(p.buf)
	return s
}

// Run flushes every FlushInterval, and within UrgentDelay of an urgent
// sample, until ctx ends, backing off exponentially (with jitter, up to
// MaxBackoff) while calls fail (urgent samples then wait for the backoff
// too), then makes one last flush bounded by ShutdownTimeout.
func (p *Publisher) Run(ctx context.Context) {
	failures := 0
	timer := time.NewTimer(p.cfg.FlushInterval)
	defer timer.Stop()
	due := time.Now().Add(p.cfg.FlushInterval)
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
			if err := p.Flush(final); err != nil {
				p.log.Warn("final CloudWatch flush failed", "error", err, "unsent", p.Stats().Buffered)
			}
			cancel()
			return
		case <-p.urgent:
			if failures > 0 || time.Until(due) <= p.cfg.UrgentDelay {
				continue // backing off, or the next flush is as soon anyway
			}
			timer.Reset(p.cfg.UrgentDelay)
			due = time.Now().Add(p.cfg.UrgentDelay)
			continue
		case <-timer.C:
		}
		if err := p.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				continue // shutting down: the final flush follows
			}
			failures++
			wait := p.backoff(failures)
			p.log.Warn("CloudWatch flush failed; backing off", "error", err, "failures", failures,
				"retryIn", wait.String(), "buffered", p.Stats().Buffered)
			timer.Reset(wait)
			due = time.Now().Add(wait)
			continue
		}
		failures = 0
		timer.Reset(p.cfg.FlushInterval)
		due = time.Now().Add(p.cfg.FlushInterval)
	}
}

func (p *Publisher) backoff(failures int) time.Duration {
	d := p.cfg.FlushInterval
	for i := 1; i < failures && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.cfg.MaxBackoff)
	// A random wait in the upper half keeps many nodes from retrying in step.
	return d/2 + rand.N(d/2+1)
}

// Flush sends everything buffered now. On a retryable failure (throttling,
// server errors, network) the unsent samples go back to the front of the
// buffer and the error is returned; a request CloudWatch rejects as
// invalid is dropped (counted) so it cannot block later samples.
func (p *Publisher) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	pending := p.buf
	p.buf = nil
	p.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	datums := aggregate(pending, p.cfg.Bucket)
	for start := 0; start < len(datums); start += maxDatumsPerCall {
		batch := datums[start:min(start+maxDatumsPerCall, len(datums))]
		err := p.put(ctx, batch)
		switch {
		case err == nil:
			p.count(func(s *PublisherStats) { s.Sent += samplesIn(batch) })
		case retryable(err):
			p.requeue(expand(datums[start:]))
			return err
		default:
			p.count(func(s *PublisherStats) { s.Dropped += samplesIn(batch) })
			p.log.Error("CloudWatch rejected metric data; dropping it", "error", err, "samples", samplesIn(batch))
		}
	}
	return nil
}

func (p *Publisher) put(ctx context.Context, data []types.MetricDatum) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	defer cancel()
	_, err := p.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String(p.cfg.Namespace),
		MetricData: data,
	})
	p.count(func(s *PublisherStats) {
		s.Calls++
		if err != nil {
			s.Failures++
			s.LastError = err.Error()
		}
	})
	if err != nil {
		return fmt.Errorf("PutMetricData (%d datums): %w", len(data), err)
	}
	return nil
}

func (p *Publisher) count(f func(*PublisherStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

// requeue puts unsent samples back before anything added since, then
// drops the oldest if that overflows the buffer.
func (p *Publisher) requeue(unsent []Sample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(unsent, p.buf...)
	p.trimLocked()
}

func samplesIn(data []types.MetricDatum) int64 {
	var n int64
	for _, d := range data {
		for _, c := range d.Counts {
			n += int64(c)
		}
	}
	return n
}

// expand turns datums back into the samples they aggregate, so unsent data
// can wait in the buffer and be re-aggregated identically later.
func expand(data []types.MetricDatum) []Sample {
	var out []Sample
	for _, d := range data {
		for i, v := range d.Values {
			for range int(d.Counts[i]) {
				out = append(out, Sample{Metric: aws.ToString(d.MetricName), Unit: d.Unit,
					Dimensions: d.Dimensions, Value: v, At: aws.ToTime(d.Timestamp)})
			}
		}
	}
	return out
}

// retryable reports whether a failed call may succeed later: throttling,
// service faults, timeouts and transport errors. Client faults (invalid
// parameters, missing permission) will not.
func retryable(err error) bool {
	if awsapi.IsThrottle(err) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() != smithy.FaultClient
	}
	return true
}

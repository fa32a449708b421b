package eventbus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Target receives the events of a rule. It is called from the rule's
// delivery worker, one event at a time; an error makes the bus retry.
type Target func(ctx context.Context, event []byte) error

// ErrClosed is returned by Publish and PutRule after Close.
var ErrClosed = errors.New("event bus is closed")

// Options tune delivery retries. Zero values take the defaults.
type Options struct {
	// MaxAttempts bounds the attempts per delivery, the first included
	// (default 4). EventBridge retries for up to 24 hours; the local bus
	// gives up much sooner and records a failed delivery.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry (default 100ms); it
	// doubles per retry, with jitter, up to MaxBackoff (default 2s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Now is the clock used to stamp deliveries (default time.Now).
	Now func() time.Time
}

// Delivery is the outcome of delivering one event to one rule's target.
type Delivery struct {
	Rule     string
	Event    []byte
	Attempts int       // attempts made, the successful one included
	Err      error     // error of the last attempt; nil when delivered
	Finished time.Time // when the event was delivered or given up
}

// Bus is an in-process event bus. Safe for concurrent use.
type Bus struct {
	opts Options

	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	rules     map[string]*rule
	delivered []Delivery
	failed    []Delivery
	inflight  int
	idle      chan struct{} // closed when inflight drops to zero
	closed    bool
	workers   sync.WaitGroup
}

type rule struct {
	name    string
	pattern *Pattern
	target  Target
	queue   []queuedEvent
	wake    chan struct{}
	removed bool
}

type queuedEvent struct {
	event []byte
}

// New returns an empty bus.
func New(opts Options) *Bus {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &Bus{opts: opts, ctx: ctx, cancel: cancel, rules: map[string]*rule{}, idle: idle}
}

var ruleName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

// PutRule creates a rule, or replaces the pattern and target of the rule of
// that name (events already queued for it go to the new target). The
// pattern is validated; errors wrap ErrInvalidPattern.
func (b *Bus) PutRule(name string, pattern []byte, target Target) error {
	if !ruleName.MatchString(name) {
		return fmt.Errorf("putting rule %q: the name must be 1 to 64 letters, digits, '.', '-' or '_'", name)
	}
	if target == nil {
		return fmt.Errorf("putting rule %q: target is nil", name)
	}
	p, err := CompilePattern(pattern)
	if err != nil {
		return fmt.Errorf("putting rule %q: %w", name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if r := b.rules[name]; r != nil {
		r.pattern, r.target = p, target
		return nil
	}
	r := &rule{name: name, pattern: p, target: target, wake: make(chan struct{}, 1)}
	b.rules[name] = r
	b.workers.Add(1)
	go b.work(r)
	return nil
}

// RemoveRule deletes a rule; events already queued for it are still
// delivered. It reports whether the rule existed.
func (b *Bus) RemoveRule(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.rules[name]
	if r == nil {
		return false
	}
	delete(b.rules, name)
	r.removed = true
	signal(r.wake)
	return true
}

// Rules returns the names of the rules, sorted.
func (b *Bus) Rules() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.rules))
	for n := range b.rules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Publish matches event against every rule and queues it for the targets of
// the rules it matches, then returns without waiting for delivery (see
// Deliveries and WaitIdle). The event must be a JSON object; otherwise the
// error wraps ErrInvalidEvent. ctx is not used for delivery, which outlives
// the publishing call as on EventBridge.
func (b *Bus) Publish(ctx context.Context, event []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publishing event: %w", err)
	}
	ev, err := parseEvent(event)
	if err != nil {
		return fmt.Errorf("publishing event: %w", err)
	}
	own := append([]byte(nil), event...)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	for _, r := range b.rules {
		if !r.pattern.matchParsed(ev) {
			continue
		}
		r.queue = append(r.queue, queuedEvent{event: own})
		if b.inflight == 0 {
			b.idle = make(chan struct{})
		}
		b.inflight++
		signal(r.wake)
	}
	return nil
}

// Deliveries returns the successful deliveries, oldest first.
func (b *Bus) Deliveries() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivery(nil), b.delivered...)
}

// FailedDeliveries returns the deliveries given up after MaxAttempts (or
// abandoned by Close), oldest first.
func (b *Bus) FailedDeliveries() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivery(nil), b.failed...)
}

// WaitIdle blocks until no event is queued or being delivered, or ctx ends.
func (b *Bus) WaitIdle(ctx context.Context) error {
	b.mu.Lock()
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the event bus to go idle: %w", ctx.Err())
	}
}

// Close stops delivery: targets in flight see their context cancelled,
// queued events are recorded as failed with ErrClosed. Close waits for the
// workers to stop and is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for _, r := range b.rules {
		r.removed = true
		signal(r.wake)
	}
	b.mu.Unlock()
	b.cancel()
	b.workers.Wait()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// work delivers the queued events of one rule in order until the rule is
// removed and its queue is empty.
func (b *Bus) work(r *rule) {
	defer b.workers.Done()
	for {
		b.mu.Lock()
		if len(r.queue) == 0 {
			if r.removed {
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			<-r.wake
			continue
		}
		next := r.queue[0]
		r.queue = r.queue[1:]
		target := r.target
		b.mu.Unlock()

		d := b.deliver(r.name, target, next.event)

		b.mu.Lock()
		if d.Err == nil {
			b.delivered = append(b.delivered, d)
		} else {
			b.failed = append(b.failed, d)
		}
		b.inflight--
		if b.inflight == 0 {
			close(b.idle)
		}
		b.mu.Unlock()
	}
}

// deliver calls target until it succeeds, MaxAttempts is reached or the bus
// is closed.
func (b *Bus) deliver(ruleName string, target Target, event []byte) Delivery {
	d := Delivery{Rule: ruleName, Event: event}
	backoff := b.opts.InitialBackoff
	for {
		if b.ctx.Err() != nil {
			d.Err = ErrClosed
			break
		}
		d.Attempts++
		d.Err = callTarget(b.ctx, target, event)
		if d.Err == nil || d.Attempts >= b.opts.MaxAttempts {
			break
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-b.ctx.Done():
			timer.Stop()
		}
		backoff = min(backoff*2, b.opts.MaxBackoff)
	}
	if d.Err != nil {
		d.Err = fmt.Errorf("delivering to rule %q after %d attempt(s): %w", ruleName, d.Attempts, d.Err)
	}
	d.Finished = b.opts.Now()
	return d
}

// callTarget runs the target, turning a panic into an error so one bad
// target cannot stop the bus.
func callTarget(ctx context.Context, target Target, event []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("target panicked: %v", p)
		}
	}()
	return target(ctx, event)
}

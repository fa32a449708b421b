package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/localstack"
)

// ScenarioAll runs one client per scenario at once (route table, Elastic
// IP and DNS name): the combined case.
const ScenarioAll = "all"

// ClientResult is what one client saw, by the scenario of the address it
// used.
type ClientResult struct {
	Scenario string `json:"scenario"`
	Label    string `json:"label"`
	// RoutedAt is when the target behind the address pointed at the new
	// primary (for DNS: when the record changed, not when the client's
	// cached answer expired); FirstWriteAt the client's first
	// acknowledged write after its outage.
	RoutedAt     time.Time `json:"routedAt"`
	FirstWriteAt time.Time `json:"firstWriteAt"`
	Outage       time.Duration
	Acked        int
	Missing      []int64
	// Gap is the client's write-unavailable window (last acknowledged
	// write before its outage → first after).
	Gap      time.Duration
	AckTimes []time.Time
}

// client is one writer through one scenario's address.
type client struct {
	path localstack.ClientPath
	w    *localstack.Writer
	res  ClientResult
}

// scenarios expands the Scenario option.
func scenarios(s string) ([]string, error) {
	switch s {
	case "", localstack.ScenarioRouteTable:
		return []string{localstack.ScenarioRouteTable}, nil
	case localstack.ScenarioEIP, localstack.ScenarioRoute53:
		return []string{s}, nil
	case ScenarioAll:
		return localstack.Scenarios, nil
	}
	return nil, fmt.Errorf("scenario %q: want %v or %q", s, localstack.Scenarios, ScenarioAll)
}

// startClients starts one writer per scenario.
func startClients(stack *localstack.Stack, names []string, interval time.Duration) ([]*client, error) {
	var cs []*client
	for _, n := range names {
		path, err := stack.ClientPath(n)
		if err != nil {
			return nil, err
		}
		cs = append(cs, &client{path: path, w: stack.StartWriter(path.Forwarder.Addr(), interval),
			res: ClientResult{Scenario: n, Label: path.Label}})
	}
	return cs, nil
}

// stopAll stops every writer still running.
func stopAll(cs []*client) {
	for _, c := range cs {
		c.w.Stop()
	}
}

// leastAcked is the fewest acknowledged writes any client has.
func leastAcked(cs []*client) int {
	least := -1
	for _, c := range cs {
		if n := len(c.w.Stats().Acked); least < 0 || n < least {
			least = n
		}
	}
	return least
}

// observe records, for each client, when its target switched and its
// first write after the fault, printing each as it happens; it reports
// whether every client has written again.
func observe(cs []*client, res *Result, p *printer) bool {
	all := true
	for _, c := range cs {
		if c.res.RoutedAt.IsZero() {
			if n, err := c.path.Routed(); err == nil && n != "node1" {
				c.res.RoutedAt = time.Now()
				if res.NewPrimary == "" {
					res.NewPrimary = n
				}
				p.event("%s now points at %s", c.path.Label, n)
			}
		}
		if st := c.w.Stats(); c.res.FirstWriteAt.IsZero() && !st.Recovery.IsZero() && st.Recovery.After(res.Crash) {
			c.res.FirstWriteAt, c.res.Outage = st.Recovery, st.Outage
			p.eventAt(st.Recovery, "first acknowledged write through the %s after %s of write outage", c.path.Label, st.Outage.Round(time.Millisecond))
		}
		all = all && !c.res.FirstWriteAt.IsZero()
	}
	// The headline waits for the last client and the last target.
	res.RoutedAt, res.FirstWriteAt = latest(cs, func(r ClientResult) time.Time { return r.RoutedAt }),
		latest(cs, func(r ClientResult) time.Time { return r.FirstWriteAt })
	return all
}

func latest(cs []*client, at func(ClientResult) time.Time) time.Time {
	var t time.Time
	for _, c := range cs {
		v := at(c.res)
		if v.IsZero() {
			return time.Time{}
		}
		if v.After(t) {
			t = v
		}
	}
	return t
}

// randomPhase waits a random time below the DNS record's TTL when a client
// resolves it: the fault then comes at a random point of the client's
// cached answer, as it would in production, instead of at the same point
// of every run (the measured outage is the failover or the rest of the
// TTL, whichever ends later).
func randomPhase(ctx context.Context, stack *localstack.Stack, names []string, p *printer) error {
	if !slices.Contains(names, localstack.ScenarioRoute53) || len(stack.Config.Routing.DNS) == 0 {
		return nil
	}
	ttl := time.Duration(stack.Config.Routing.DNS[0].TTL) * time.Second
	d := rand.N(ttl)
	p.line("waiting %s (random, below the record's TTL %s) so the fault falls at a random point of the client's cached answer", d.Round(time.Millisecond), ttl)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

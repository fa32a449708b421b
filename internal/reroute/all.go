package reroute

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
)

// Names of the reroute targets in results and errors.
const (
	TargetOverlayIP = "overlay-ip"
	TargetElasticIP = "elastic-ip"
	TargetDNS       = "dns"
)

// Clients are the AWS APIs rerouting uses. Route53 may be nil when no DNS
// record is configured.
type Clients struct {
	EC2     awsapi.EC2API
	Route53 awsall.Route53API
}

// Result is All's report: one outcome per configured target, in the order
// overlay IP, Elastic IP, DNS.
type Result struct {
	Node       string    `json:"node"`
	Outcomes   []Outcome `json:"outcomes"`
	DurationMs int64     `json:"durationMs"`
}

// Outcome is what happened to one target. Exactly one of Route,
// ElasticIP and DNS is set, also when the target failed (it then shows
// how far it got).
type Outcome struct {
	Target    string       `json:"target"`
	OK        bool         `json:"ok"`
	Error     string       `json:"error,omitempty"`
	Route     *RouteResult `json:"route,omitempty"`
	ElasticIP *EIPResult   `json:"elasticIp,omitempty"`
	DNS       *DNSResult   `json:"dns,omitempty"`
}

// Failed lists the targets that failed.
func (r Result) Failed() []string {
	var failed []string
	for _, o := range r.Outcomes {
		if !o.OK {
			failed = append(failed, o.Target)
		}
	}
	return failed
}

// All reroutes every target configured in cfg.Routing to target, in
// parallel, and waits for all of them. The error, when any target failed,
// is *ErrRerouteFailed naming each failed target; the targets that
// succeeded stay rerouted (retrying All converges the rest).
func All(ctx context.Context, clients Clients, cfg *cluster.Config, target cluster.Node, opts ...Option) (Result, error) {
	start := time.Now()
	type job struct {
		name string
		run  func(*Outcome) error
	}
	var jobs []job
	r := cfg.Routing
	if r.OverlayIP != nil {
		jobs = append(jobs, job{TargetOverlayIP, func(out *Outcome) error {
			if clients.EC2 == nil {
				return errors.New("no EC2 client")
			}
			res, err := RouteTables(ctx, clients.EC2, *r.OverlayIP, target, opts...)
			out.Route = &res
			return err
		}})
	}
	if r.ElasticIP != nil {
		jobs = append(jobs, job{TargetElasticIP, func(out *Outcome) error {
			if clients.EC2 == nil {
				return errors.New("no EC2 client")
			}
			res, err := ElasticIP(ctx, clients.EC2, *r.ElasticIP, target, opts...)
			out.ElasticIP = &res
			return err
		}})
	}
	if len(r.DNS) > 0 {
		jobs = append(jobs, job{TargetDNS, func(out *Outcome) error {
			if clients.Route53 == nil {
				return errors.New("no Route 53 client")
			}
			res, err := DNS(ctx, clients.Route53, r.DNS, target, opts...)
			out.DNS = &res
			return err
		}})
	}
	res := Result{Node: target.Name, Outcomes: make([]Outcome, len(jobs))}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := &res.Outcomes[i]
			out.Target = j.name
			if err := j.run(out); err != nil {
				out.Error = err.Error()
				errs[i] = fmt.Errorf("%s: %w", j.name, err)
				return
			}
			out.OK = true
		}()
	}
	wg.Wait()
	res.DurationMs = time.Since(start).Milliseconds()
	if len(jobs) == 0 {
		return res, errors.New("rerouting: no routing target is configured")
	}
	var failed *ErrRerouteFailed
	for i, err := range errs {
		if err != nil {
			if failed == nil {
				failed = &ErrRerouteFailed{}
			}
			failed.Failed = append(failed.Failed, jobs[i].name)
			failed.Errs = append(failed.Errs, err)
		}
	}
	if failed != nil {
		return res, failed
	}
	return res, nil
}

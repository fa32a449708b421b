package reroute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
)

// RouteResult says which route tables RouteTables changed.
type RouteResult struct {
	CIDR               string        `json:"cidr"`
	NetworkInterfaceID string        `json:"networkInterfaceId"`
	Changed            []RouteChange `json:"changed"`
	// AlreadyCorrect lists the tables that pointed at the target already.
	AlreadyCorrect []string `json:"alreadyCorrect"`
	// OtherVPC lists tables of the other configured VPCs that have a route
	// for the CIDR. A route can only target a network interface of its own
	// VPC, so these are left as they are: they reach the target's VPC
	// through a transit gateway or similar hop.
	OtherVPC   []ForeignRoute `json:"otherVpc,omitempty"`
	DurationMs int64          `json:"durationMs"`
}

// ForeignRoute is a route for the overlay CIDR in a VPC other than the
// target's, left untouched.
type ForeignRoute struct {
	RouteTableID string `json:"routeTableId"`
	VPCID        string `json:"vpcId"`
	Target       string `json:"target"`
}

// RouteChange is one route table whose overlay route was replaced.
type RouteChange struct {
	RouteTableID   string `json:"routeTableId"`
	VPCID          string `json:"vpcId"`
	PreviousTarget string `json:"previousTarget"`
}

// tableRoute is a route table's route for the overlay CIDR.
type tableRoute struct {
	tableID, vpcID string
	eni            string // the route's network interface, "" if it targets something else
	target         string // whatever it targets, for reports
}

// RouteTables points the overlay CIDR's route, in every route table of
// the target interface's VPC that has one, at target's network interface.
// That VPC must be one of cfg.VPCIDs; tables of the other configured VPCs
// are reported in OtherVPC and left alone, since AWS lets a route target
// only a network interface of its own VPC. It refuses with
// *ErrSourceDestCheck, changing nothing, when the interface has
// source/destination checking on, and with *ErrNoRouteTables when no table
// of the interface's VPC has the route. Tables are replaced in parallel
// (WithConcurrency); ones already pointing at the target are left alone.
// A table whose route was deleted after it was read fails with
// *ErrRouteGone (joined with any other failures); the rest are still
// replaced. It returns after DescribeRouteTables shows every table
// pointing at the target (*ErrNotConverged if it does not within the
// verify timeout).
func RouteTables(ctx context.Context, ec2api awsapi.EC2API, cfg cluster.OverlayIP, target cluster.Node, opts ...Option) (RouteResult, error) {
	o := apply(opts)
	start := time.Now()
	eni := target.NetworkInterfaceID
	res := RouteResult{CIDR: cfg.CIDR, NetworkInterfaceID: eni, Changed: []RouteChange{}, AlreadyCorrect: []string{}}
	done := func(err error) (RouteResult, error) {
		res.DurationMs = time.Since(start).Milliseconds()
		return res, err
	}
	vpc, err := targetVPC(ctx, ec2api, eni, o)
	if err != nil {
		return done(err)
	}
	var all []tableRoute
	err = backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		all, err = overlayRoutes(ctx, ec2api, cfg)
		return err
	})
	if err != nil {
		return done(fmt.Errorf("finding route tables for %s: %w", cfg.CIDR, err))
	}
	var routes, todo []tableRoute
	for _, r := range all {
		if r.vpcID != vpc {
			res.OtherVPC = append(res.OtherVPC, ForeignRoute{RouteTableID: r.tableID, VPCID: r.vpcID, Target: r.target})
			continue
		}
		routes = append(routes, r)
	}
	if len(routes) == 0 {
		return done(&ErrNoRouteTables{CIDR: cfg.CIDR, VPCIDs: cfg.VPCIDs, TargetVPC: vpc})
	}
	for _, r := range routes {
		if r.eni == eni {
			res.AlreadyCorrect = append(res.AlreadyCorrect, r.tableID)
		} else {
			todo = append(todo, r)
		}
	}
	changed, err := replaceAll(ctx, ec2api, cfg.CIDR, eni, todo, o)
	res.Changed = changed
	if err != nil {
		return done(err)
	}
	return done(verifyRoutes(ctx, ec2api, cfg, vpc, eni, routes, o))
}

// targetVPC returns the VPC of the target interface, and refuses one with
// source/destination check on.
func targetVPC(ctx context.Context, ec2api awsapi.EC2API, eni string, o options) (string, error) {
	var out *ec2.DescribeNetworkInterfacesOutput
	err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		out, err = ec2api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("describing target network interface %s: %w", eni, err)
	}
	for _, ni := range out.NetworkInterfaces {
		if aws.ToString(ni.NetworkInterfaceId) != eni {
			continue
		}
		if aws.ToBool(ni.SourceDestCheck) {
			return "", &ErrSourceDestCheck{NetworkInterfaceID: eni}
		}
		if aws.ToString(ni.VpcId) == "" {
			return "", fmt.Errorf("describing target network interface %s: no VPC in the answer", eni)
		}
		return aws.ToString(ni.VpcId), nil
	}
	return "", fmt.Errorf("describing target network interface %s: not in the answer", eni)
}

// overlayRoutes lists, over all pages, the route tables of cfg.VPCIDs with
// a route for cfg.CIDR. The filters narrow the search on EC2's side; the
// results are checked again here.
func overlayRoutes(ctx context.Context, ec2api awsapi.EC2Reader, cfg cluster.OverlayIP) ([]tableRoute, error) {
	in := &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: cfg.VPCIDs},
		{Name: aws.String("route.destination-cidr-block"), Values: []string{cfg.CIDR}},
	}}
	var found []tableRoute
	pages := ec2.NewDescribeRouteTablesPaginator(ec2api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, rt := range page.RouteTables {
			if !slices.Contains(cfg.VPCIDs, aws.ToString(rt.VpcId)) {
				continue
			}
			// Given explicitly, the tables not listed are someone else's.
			if len(cfg.RouteTableIDs) > 0 && !slices.Contains(cfg.RouteTableIDs, aws.ToString(rt.RouteTableId)) {
				continue
			}
			for _, r := range rt.Routes {
				if aws.ToString(r.DestinationCidrBlock) != cfg.CIDR {
					continue
				}
				found = append(found, tableRoute{tableID: aws.ToString(rt.RouteTableId), vpcID: aws.ToString(rt.VpcId),
					eni: aws.ToString(r.NetworkInterfaceId), target: routeTarget(r)})
				break
			}
		}
	}
	return found, nil
}

// routeTarget names what a route points at.
func routeTarget(r types.Route) string {
	for _, id := range []*string{r.NetworkInterfaceId, r.InstanceId, r.GatewayId, r.NatGatewayId, r.TransitGatewayId,
		r.VpcPeeringConnectionId, r.LocalGatewayId, r.CarrierGatewayId, r.EgressOnlyInternetGatewayId, r.CoreNetworkArn} {
		if s := aws.ToString(id); s != "" {
			return s
		}
	}
	return ""
}

// replaceAll replaces the routes of todo with at most o.concurrency calls
// in flight and returns the tables changed, sorted, and the failures.
func replaceAll(ctx context.Context, ec2api awsapi.EC2API, cidr, eni string, todo []tableRoute, o options) ([]RouteChange, error) {
	var (
		mu      sync.Mutex
		changed = []RouteChange{}
		errs    []error
		wg      sync.WaitGroup
		slots   = make(chan struct{}, o.concurrency)
	)
	for _, r := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("route table %s: %w", r.tableID, ctx.Err()))
				mu.Unlock()
				return
			}
			defer func() { <-slots }()
			err := backoff.Retry(ctx, o.retry, func(ctx context.Context) error {
				_, err := ec2api.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{
					RouteTableId:         aws.String(r.tableID),
					DestinationCidrBlock: aws.String(cidr),
					NetworkInterfaceId:   aws.String(eni),
				})
				return err
			})
			if err != nil && routeGone(ctx, ec2api, r.tableID, cidr, err, o) {
				err = &ErrRouteGone{RouteTableID: r.tableID, CIDR: cidr, Err: err}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("replacing route %s in %s: %w", cidr, r.tableID, err))
				return
			}
			changed = append(changed, RouteChange{RouteTableID: r.tableID, VPCID: r.vpcID, PreviousTarget: r.target})
		}()
	}
	wg.Wait()
	sort.Slice(changed, func(i, j int) bool { return changed[i].RouteTableID < changed[j].RouteTableID })
	return changed, errors.Join(errs...)
}

// routeGone reports whether err, ReplaceRoute's answer for cidr in table,
// says the table has no route for cidr. EC2 answers that with
// InvalidParameterValue ("There is no route defined for '10.1.0.10/32' in
// the route table. Use CreateRoute instead."), a code it also uses for
// other refusals (a target in another VPC, a malformed CIDR), so an
// InvalidParameterValue counts only when its message says so or, should
// the wording change, when describing the table shows no route for cidr.
// InvalidRoute.NotFound, which DeleteRoute answers and ReplaceRoute might
// one day, counts as it is. A describe that fails counts as not gone.
func routeGone(ctx context.Context, ec2api awsapi.EC2API, table, cidr string, err error, o options) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidRoute.NotFound":
		return true
	case "InvalidParameterValue":
	default:
		return false
	}
	if strings.Contains(strings.ToLower(ae.ErrorMessage()), "no route defined for") {
		return true
	}
	var out *ec2.DescribeRouteTablesOutput
	derr := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		out, err = ec2api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{table}})
		return err
	})
	if derr != nil {
		return false
	}
	for _, rt := range out.RouteTables {
		if aws.ToString(rt.RouteTableId) != table {
			continue
		}
		for _, r := range rt.Routes {
			if aws.ToString(r.DestinationCidrBlock) == cidr {
				return false
			}
		}
		return true
	}
	return false
}

// verifyRoutes polls DescribeRouteTables until every table of vpc that
// had the route, and any that has it now, points at eni.
func verifyRoutes(ctx context.Context, ec2api awsapi.EC2API, cfg cluster.OverlayIP, vpc, eni string, before []tableRoute, o options) error {
	var wrong []string
	timedOut, err := o.poll(ctx, func(ctx context.Context) (bool, error) {
		now, err := overlayRoutes(ctx, ec2api, cfg)
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		wrong = wrong[:0]
		for _, r := range now {
			if r.vpcID != vpc {
				continue
			}
			seen[r.tableID] = true
			if r.eni != eni {
				wrong = append(wrong, fmt.Sprintf("%s→%s", r.tableID, r.target))
			}
		}
		for _, r := range before {
			if !seen[r.tableID] {
				wrong = append(wrong, r.tableID+"→(route gone)")
			}
		}
		return len(wrong) == 0, nil
	})
	switch {
	case err == nil:
		return nil
	case timedOut:
		return &ErrNotConverged{Target: TargetOverlayIP, Err: err,
			Detail: fmt.Sprintf("route for %s: %s", cfg.CIDR, strings.Join(wrong, ", "))}
	default:
		return fmt.Errorf("verifying route tables: %w", err)
	}
}

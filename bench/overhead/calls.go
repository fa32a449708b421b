package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// opKey names an operation as IAM does ("dynamodb:GetItem",
// "cloudwatch:PutMetricData"): the emulator logs CloudWatch under its
// SigV4 signing name, "monitoring".
func opKey(service, operation string) string {
	if service == "monitoring" {
		service = "cloudwatch"
	}
	return service + ":" + operation
}

// callCounts is the emulator's call log over the measured window, counted.
type callCounts struct {
	Total    int
	ByOp     map[string]int            // opKey → calls
	ByCaller map[string]map[string]int // caller (access key id) → opKey → calls
	Errors   map[string]int            // "opKey ErrorCode" → calls answered with an error
}

// countCalls counts the calls of the given callers (all when callers is
// empty).
func countCalls(calls []localaws.Call, callers ...string) callCounts {
	want := map[string]bool{}
	for _, c := range callers {
		want[c] = true
	}
	cc := callCounts{ByOp: map[string]int{}, ByCaller: map[string]map[string]int{}, Errors: map[string]int{}}
	for _, c := range calls {
		if len(want) > 0 && !want[c.AccessKeyID] {
			continue
		}
		k := opKey(c.Service, c.Operation)
		cc.Total++
		cc.ByOp[k]++
		if cc.ByCaller[c.AccessKeyID] == nil {
			cc.ByCaller[c.AccessKeyID] = map[string]int{}
		}
		cc.ByCaller[c.AccessKeyID][k]++
		if c.ErrorCode != "" {
			cc.Errors[k+" "+c.ErrorCode]++
		}
	}
	return cc
}

// perHour scales n events seen over window to events per hour, rounded to
// a tenth.
func perHour(n float64, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return math.Round(10*n*float64(time.Hour)/float64(window)) / 10
}

// perHourMap scales every count of m.
func perHourMap(m map[string]int, window time.Duration) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = perHour(float64(v), window)
	}
	return out
}

// sortedKeys returns m's keys by descending value, then by name.
func sortedKeys[V int | float64](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// callerOf is the access key id in a SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/monitoring/aws4_request, ..."),
// which the emulator takes for the caller; "" when there is none.
func callerOf(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	akid, _, _ := strings.Cut(rest, "/")
	return akid
}

// datumCounts is what PutMetricData requests carried.
type datumCounts struct {
	Requests int
	Datums   int // MetricData members
	Values   int // a member's Values (one for Value or StatisticValues)
	// Metrics are the distinct series (namespace, name, dimensions), which
	// CloudWatch bills as custom metrics.
	Metrics map[string]bool
}

// countDatums reads a CloudWatch PutMetricData request body (Smithy RPC v2
// CBOR, the protocol the SDK speaks) into c.
func countDatums(body []byte, c *datumCounts) error {
	v, err := cbor.Decode(body)
	if err != nil {
		return fmt.Errorf("PutMetricData body: %w", err)
	}
	in, ok := v.(cbor.Map)
	if !ok {
		return fmt.Errorf("PutMetricData body is a %T, not a map", v)
	}
	ns, _ := in["Namespace"].(cbor.String)
	data, ok := in["MetricData"].(cbor.List)
	if !ok {
		return errors.New("PutMetricData body has no MetricData list")
	}
	c.Requests++
	for _, d := range data {
		m, ok := d.(cbor.Map)
		if !ok {
			return fmt.Errorf("a MetricData member is a %T, not a map", d)
		}
		c.Datums++
		if vals, ok := m["Values"].(cbor.List); ok {
			c.Values += len(vals)
		} else {
			c.Values++
		}
		if c.Metrics == nil {
			c.Metrics = map[string]bool{}
		}
		c.Metrics[seriesKey(string(ns), m)] = true
	}
	return nil
}

// seriesKey identifies a datum's metric: namespace, name and dimensions
// (whose order does not matter to CloudWatch).
func seriesKey(ns string, datum cbor.Map) string {
	name, _ := datum["MetricName"].(cbor.String)
	var dims []string
	if list, ok := datum["Dimensions"].(cbor.List); ok {
		for _, d := range list {
			if m, ok := d.(cbor.Map); ok {
				k, _ := m["Name"].(cbor.String)
				v, _ := m["Value"].(cbor.String)
				dims = append(dims, string(k)+"="+string(v))
			}
		}
	}
	sort.Strings(dims)
	return ns + "|" + string(name) + "|" + strings.Join(dims, ",")
}

// datumCounter sits in front of the emulator and counts what each caller's
// PutMetricData requests carry (the call log keeps no bodies).
type datumCounter struct {
	next http.Handler

	mu       sync.Mutex
	byCaller map[string]*datumCounts
	errs     []error
}

// putMetricDataPath ends the URL path of a PutMetricData request in the
// RPC v2 CBOR protocol.
const putMetricDataPath = "/operation/PutMetricData"

func (d *datumCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, putMetricDataPath) {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			err = d.count(callerOf(r.Header.Get("Authorization")), body, strings.Contains(r.Header.Get("Content-Encoding"), "gzip"))
		}
		if err != nil {
			d.mu.Lock()
			d.errs = append(d.errs, err)
			d.mu.Unlock()
		}
	}
	d.next.ServeHTTP(w, r)
}

func (d *datumCounter) count(caller string, body []byte, gzipped bool) error {
	if gzipped { // the SDK gzips bodies over 10 KiB
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("PutMetricData body: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("PutMetricData body: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byCaller == nil {
		d.byCaller = map[string]*datumCounts{}
	}
	c := d.byCaller[caller]
	if c == nil {
		c = &datumCounts{}
		d.byCaller[caller] = c
	}
	return countDatums(body, c)
}

// Reset starts counting afresh (with the call log's ResetCalls).
func (d *datumCounter) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byCaller, d.errs = nil, nil
}

// Snapshot returns the counts per caller since the last Reset and the
// bodies that could not be read.
func (d *datumCounter) Snapshot() (map[string]datumCounts, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]datumCounts, len(d.byCaller))
	for k, c := range d.byCaller {
		cp := *c
		cp.Metrics = make(map[string]bool, len(c.Metrics))
		for m := range c.Metrics {
			cp.Metrics[m] = true
		}
		out[k] = cp
	}
	return out, errors.Join(d.errs...)
}

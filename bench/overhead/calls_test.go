package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

func TestPerHour(t *testing.T) {
	for _, c := range []struct {
		n      float64
		window time.Duration
		want   float64
	}{
		{60, time.Minute, 3600},
		{7, 90 * time.Second, 280},
		{1, 7 * time.Second, 514.3}, // rounded to a tenth
		{1800, 10 * time.Minute, 10800},
		{5, 0, 0},
	} {
		if got := perHour(c.n, c.window); got != c.want {
			t.Errorf("perHour(%v, %s) = %v, want %v", c.n, c.window, got, c.want)
		}
	}
	got := perHourMap(map[string]int{"dynamodb:GetItem": 120, "cloudwatch:PutMetricData": 24}, 2*time.Minute)
	want := map[string]float64{"dynamodb:GetItem": 3600, "cloudwatch:PutMetricData": 720}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("perHourMap = %v, want %v", got, want)
	}
}

func TestCountCalls(t *testing.T) {
	calls := []localaws.Call{
		{Service: "dynamodb", Operation: "GetItem", AccessKeyID: "nodeprobe-node1"},
		{Service: "dynamodb", Operation: "GetItem", AccessKeyID: "nodeprobe-node2"},
		{Service: "dynamodb", Operation: "UpdateItem", AccessKeyID: "nodeprobe-node1"},
		{Service: "monitoring", Operation: "PutMetricData", AccessKeyID: "nodeprobe-node1", ErrorCode: "Throttling"},
		{Service: "dynamodb", Operation: "GetItem", AccessKeyID: "overhead-bench"},
	}
	cc := countCalls(calls, "nodeprobe-node1", "nodeprobe-node2")
	if cc.Total != 4 {
		t.Errorf("Total = %d, want 4 (the bench's own read is not an agent's)", cc.Total)
	}
	wantOps := map[string]int{"dynamodb:GetItem": 2, "dynamodb:UpdateItem": 1, "cloudwatch:PutMetricData": 1}
	if !reflect.DeepEqual(cc.ByOp, wantOps) {
		t.Errorf("ByOp = %v, want %v", cc.ByOp, wantOps)
	}
	if got := cc.ByCaller["nodeprobe-node1"]; !reflect.DeepEqual(got, map[string]int{"dynamodb:GetItem": 1, "dynamodb:UpdateItem": 1, "cloudwatch:PutMetricData": 1}) {
		t.Errorf("ByCaller[node1] = %v", got)
	}
	if !reflect.DeepEqual(cc.Errors, map[string]int{"cloudwatch:PutMetricData Throttling": 1}) {
		t.Errorf("Errors = %v", cc.Errors)
	}
	if all := countCalls(calls); all.Total != 5 {
		t.Errorf("countCalls without callers counted %d, want 5", all.Total)
	}
}

func TestSortedKeys(t *testing.T) {
	got := sortedKeys(map[string]float64{"b": 1, "a": 1, "c": 9})
	if !reflect.DeepEqual(got, []string{"c", "a", "b"}) {
		t.Errorf("sortedKeys = %v, want [c a b]", got)
	}
}

func TestCallerOf(t *testing.T) {
	auth := "AWS4-HMAC-SHA256 Credential=nodeprobe-node1/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=abc"
	if got := callerOf(auth); got != "nodeprobe-node1" {
		t.Errorf("callerOf = %q", got)
	}
	if got := callerOf("Bearer x"); got != "" {
		t.Errorf("callerOf(unsigned) = %q", got)
	}
}

func dims(kv ...string) cbor.List {
	var l cbor.List
	for i := 0; i < len(kv); i += 2 {
		l = append(l, cbor.Map{"Name": cbor.String(kv[i]), "Value": cbor.String(kv[i+1])})
	}
	return l
}

// putMetricData is a request body as the SDK sends it: two heartbeat
// datums of one series (dimensions in either order), one of another, and
// one aggregated datum of three values.
func putMetricData() []byte {
	return cbor.Encode(cbor.Map{
		"Namespace": cbor.String("Switchyard"),
		"MetricData": cbor.List{
			cbor.Map{"MetricName": cbor.String("Heartbeat"), "Value": cbor.Float64(1), "Dimensions": dims("Cluster", "c", "Node", "node1")},
			cbor.Map{"MetricName": cbor.String("Heartbeat"), "Value": cbor.Float64(1), "Dimensions": dims("Node", "node1", "Cluster", "c")},
			cbor.Map{"MetricName": cbor.String("Heartbeat"), "Value": cbor.Float64(1), "Dimensions": dims("Cluster", "c", "Role", "primary")},
			cbor.Map{"MetricName": cbor.String("PrimaryLSN"), "Values": cbor.List{cbor.Float64(1), cbor.Float64(2), cbor.Float64(3)},
				"Counts": cbor.List{cbor.Float64(1), cbor.Float64(1), cbor.Float64(1)}, "Dimensions": dims("Cluster", "c", "Node", "node1")},
		},
	})
}

func TestCountDatums(t *testing.T) {
	var c datumCounts
	if err := countDatums(putMetricData(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Requests != 1 || c.Datums != 4 || c.Values != 6 || len(c.Metrics) != 3 {
		t.Errorf("countDatums = %d requests, %d datums, %d values, %d metrics; want 1, 4, 6, 3", c.Requests, c.Datums, c.Values, len(c.Metrics))
	}
	if err := countDatums(cbor.Encode(cbor.Map{"Namespace": cbor.String("x")}), &c); err == nil {
		t.Error("a body without MetricData was counted")
	}
	if err := countDatums([]byte("not cbor"), &c); err == nil {
		t.Error("a body that is not CBOR was counted")
	}
}

// The counter must hand the emulator the body it read, unchanged, and
// count gzipped bodies too.
func TestDatumCounterPassesBodiesOn(t *testing.T) {
	var seen [][]byte
	d := &datumCounter{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, b)
	})}
	body := putMetricData()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	for _, req := range []struct {
		body     []byte
		encoding string
	}{{body, ""}, {gz.Bytes(), "gzip"}} {
		r := httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/PutMetricData", bytes.NewReader(req.body))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=nodeprobe-node2/20260101/us-east-1/monitoring/aws4_request")
		r.Header.Set("Content-Encoding", req.encoding)
		d.ServeHTTP(httptest.NewRecorder(), r)
	}
	// Other operations pass untouched and uncounted.
	d.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte("{}"))))
	if len(seen) != 3 || !bytes.Equal(seen[0], body) || !bytes.Equal(seen[1], gz.Bytes()) || string(seen[2]) != "{}" {
		t.Fatalf("the emulator saw other bodies than were sent: %d requests", len(seen))
	}
	snap, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if c := snap["nodeprobe-node2"]; c.Requests != 2 || c.Datums != 8 || len(c.Metrics) != 3 || len(snap) != 1 {
		t.Errorf("counted %+v (callers %d), want 2 requests, 8 datums, 3 metrics of nodeprobe-node2", c, len(snap))
	}
	d.Reset()
	if snap, _ := d.Snapshot(); len(snap) != 0 {
		t.Errorf("Reset left %v", snap)
	}
}

func TestAppendResultAddsOneLinePerRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results", "overhead.jsonl")
	for i := 1; i <= 2; i++ {
		r := result{DurationS: float64(60 * i), CallsPerHour: map[string]float64{"dynamodb:GetItem": 7200}, CallsPerHourTotal: 7200,
			Nodes: []nodeResult{{Node: "node1", RSSMBMedian: 12.5, RSSMBMax: 13, CPUPctOfCore: 0.8}}}
		if err := appendResult(path, r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[1]["duration_s"] != 120.0 {
		t.Fatalf("got %d lines (%v), want 2, the second of 120 s", len(lines), lines)
	}
	node := lines[0]["nodes"].([]any)[0].(map[string]any)
	for _, k := range []string{"rss_mb_median", "rss_mb_max", "cpu_pct_of_core"} {
		if _, ok := node[k]; !ok {
			t.Errorf("node has no %s: %v", k, node)
		}
	}
	if lines[0]["calls_per_hour"].(map[string]any)["dynamodb:GetItem"] != 7200.0 || lines[0]["calls_per_hour_total"] != 7200.0 {
		t.Errorf("calls are not per operation: %v", lines[0])
	}
}

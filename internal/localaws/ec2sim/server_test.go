package ec2sim_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

// rawCall posts an EC2 Query form with a SigV4-shaped Authorization header
// (the emulator reads the credential scope, not the signature), for what
// the SDK cannot send, like an unknown action.
func rawCall(t *testing.T, h *harness, form url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=raw-client/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// ec2ErrorBody is the error document the SDK's ec2query deserializer reads.
type ec2ErrorBody struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

func TestUnknownActionIsInvalidAction(t *testing.T) {
	h := newHarness(t)
	status, body := rawCall(t, h, url.Values{"Action": {"RunInstances"}, "Version": {ec2sim.APIVersion}})
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", status)
	}
	var doc ec2ErrorBody
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body is not EC2's error document: %v\n%s", err, body)
	}
	if doc.Code != "InvalidAction" || doc.RequestID == "" || !strings.Contains(doc.Message, "RunInstances") {
		t.Errorf("error document = %+v", doc)
	}
	calls := h.server.Calls()
	if len(calls) != 1 || calls[0].Operation != "RunInstances" || calls[0].ErrorCode != "InvalidAction" {
		t.Errorf("call log = %+v", calls)
	}
}

func TestSuccessDocument(t *testing.T) {
	h := newHarness(t)
	status, body := rawCall(t, h, url.Values{"Action": {"DescribeVpcs"}, "Version": {ec2sim.APIVersion}})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var doc struct {
		XMLName   xml.Name
		RequestID string `xml:"requestId"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "DescribeVpcsResponse" || doc.XMLName.Space != "http://ec2.amazonaws.com/doc/2016-11-15/" || doc.RequestID == "" {
		t.Errorf("root %+v, requestId %q", doc.XMLName, doc.RequestID)
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation", http.StatusPreconditionFailed)
	if got := h.ec2.InstanceState(refNode1); got != "running" {
		t.Errorf("a dry run changed node1 to %s", got)
	}
}

func TestThrottling(t *testing.T) {
	h := newHarness(t)
	h.server.SetBucket(localaws.BucketEC2Mutating, 2, 0.001)
	noRetry := h.newClient("throttled", 1)
	replace := func() error {
		_, err := noRetry.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateARTB),
			DestinationCidrBlock: aws.String(overlayCIDR), NetworkInterfaceId: aws.String(refENI2)})
		return err
	}
	for i := range 2 {
		if err := replace(); err != nil {
			t.Fatalf("call %d within the burst failed: %v", i+1, err)
		}
	}
	err := replace()
	wantCode(t, err, "RequestLimitExceeded", http.StatusServiceUnavailable)
	if !awsapi.IsThrottle(err) {
		t.Errorf("awsapi.IsThrottle(%v) = false", err)
	}
	// Describe calls draw from their own bucket.
	if _, err := noRetry.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{}); err != nil {
		t.Errorf("describe throttled by the mutating bucket: %v", err)
	}
	_, err = noRetry.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}})
	wantCode(t, err, "RequestLimitExceeded", http.StatusServiceUnavailable)
	if got := h.ec2.InstanceState(refNode1); got != "running" {
		t.Errorf("a throttled StopInstances changed node1 to %s", got)
	}
}

func TestFaultInjection(t *testing.T) {
	h := newHarness(t)
	noRetry := h.newClient("reroute", 1)
	h.server.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", FailNext: 1})
	replace := func(c *ec2.Client) error {
		_, err := c.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateARTB),
			DestinationCidrBlock: aws.String(overlayCIDR), NetworkInterfaceId: aws.String(refENI2)})
		return err
	}
	wantCode(t, replace(noRetry), "InternalError", http.StatusInternalServerError)
	if target, _ := h.ec2.RouteTarget(refPrivateARTB, overlayCIDR); target != refENI1 {
		t.Fatalf("a failed call changed the route to %s", target)
	}
	if err := replace(noRetry); err != nil {
		t.Fatalf("second call after FailNext=1: %v", err)
	}

	// With SDK retries, a single injected 500 is absorbed.
	h.server.Faults().Add(localaws.Fault{Service: "ec2", Operation: "DescribeInstances", FailNext: 1})
	if _, err := h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("SDK retry did not absorb one injected failure: %v", err)
	}

	// A partition cuts one caller off; others still get through.
	id := h.server.Faults().Add(localaws.Fault{Service: "ec2", AccessKeyID: "fence", Partition: true})
	fence := h.newClient("fence", 1)
	_, err := fence.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	if err == nil {
		t.Fatal("partitioned caller got an answer")
	}
	if awsapi.ErrorCode(err) != "" {
		t.Errorf("partition should look like a network failure, got API error %s", awsapi.ErrorCode(err))
	}
	if _, err := h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("other caller affected by the partition: %v", err)
	}
	h.server.Faults().Remove(id)
	if _, err := fence.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("after healing the partition: %v", err)
	}
}

func TestCallLogRecordsResources(t *testing.T) {
	h := newHarness(t)
	rerouter := h.newClient("AKIAREROUTE", 1)
	_ = must[*ec2.ReplaceRouteOutput](t)(rerouter.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateCRTB),
		DestinationCidrBlock: aws.String(overlayCIDR), InstanceId: aws.String(refNode2)}))
	_ = must[*ec2.AssociateAddressOutput](t)(rerouter.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), InstanceId: aws.String(refNode2), AllowReassociation: aws.Bool(true)}))
	_, err := rerouter.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String("rtb-0123456789abcdef0"),
		DestinationCidrBlock: aws.String(overlayCIDR), InstanceId: aws.String(refNode2)})
	wantCode(t, err, "InvalidRouteTableID.NotFound", 400)

	calls := h.server.Calls()
	if len(calls) != 3 {
		t.Fatalf("call log has %d calls, want 3: %+v", len(calls), calls)
	}
	for i := range calls {
		c := &calls[i] // Call holds a mutex: no copies
		if c.Service != "ec2" || c.AccessKeyID != "AKIAREROUTE" || c.Region != "us-east-1" {
			t.Errorf("call %s: service %s key %s region %s", c.Operation, c.Service, c.AccessKeyID, c.Region)
		}
	}
	if c := &calls[0]; c.Operation != "ReplaceRoute" || c.ErrorCode != "" ||
		!slices.Contains(c.Resources, refPrivateCRTB) || !slices.Contains(c.Resources, refNode2) || !slices.Contains(c.Resources, refENI2) {
		t.Errorf("ReplaceRoute call = %s err %q resources %v", c.Operation, c.ErrorCode, c.Resources)
	}
	if c := &calls[1]; c.Operation != "AssociateAddress" ||
		!slices.Contains(c.Resources, refEIP) || !slices.Contains(c.Resources, refENI2) || !slices.Contains(c.Resources, refENI1) {
		t.Errorf("AssociateAddress resources %v (want the address, the new and the old ENI)", c.Resources)
	}
	if c := &calls[2]; c.ErrorCode != "InvalidRouteTableID.NotFound" || !slices.Contains(c.Resources, "rtb-0123456789abcdef0") {
		t.Errorf("failed call = err %q resources %v", c.ErrorCode, c.Resources)
	}
}

// Parallel reroutes of the same route converge on one of the targets
// without racing (run with -race).
func TestConcurrentReplaceRoute(t *testing.T) {
	h := newHarness(t)
	h.server.SetThrottling(false)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		eni := refENI1
		if i%2 == 1 {
			eni = refENI2
		}
		wg.Go(func() {
			_, err := h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateARTB),
				DestinationCidrBlock: aws.String(overlayCIDR), NetworkInterfaceId: aws.String(eni)})
			errs <- err
			_ = h.ec2.RouteTargets(overlayCIDR)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if target, _ := h.ec2.RouteTarget(refPrivateARTB, overlayCIDR); target != refENI1 && target != refENI2 {
		t.Errorf("route target %s", target)
	}
}

func TestOperationsAndBuckets(t *testing.T) {
	svc := ec2sim.New(nil)
	if len(ec2sim.Operations()) != 18 {
		t.Errorf("Operations() = %v", ec2sim.Operations())
	}
	for _, op := range ec2sim.Operations() {
		want := localaws.BucketEC2NonMutating
		if !strings.HasPrefix(op, "Describe") {
			want = localaws.BucketEC2Mutating
		}
		if got := svc.ThrottleBucket(op); got != want {
			t.Errorf("ThrottleBucket(%s) = %s, want %s", op, got, want)
		}
	}
	if e := svc.ThrottleError(); e.Code != "RequestLimitExceeded" || e.HTTPStatus != http.StatusServiceUnavailable {
		t.Errorf("ThrottleError = %+v", e)
	}
}

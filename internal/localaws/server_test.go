package localaws

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// echoService answers every call with 200 and its operation, the
// X-Op header of the request.
type echoService struct{}

func (echoService) SigningName() string { return "echo" }
func (echoService) Operation(r *http.Request, _ []byte) (string, error) {
	if op := r.Header.Get("X-Op"); op != "" {
		return op, nil
	}
	return "", BadRequest("UnknownOperation", "no X-Op header")
}
func (echoService) ThrottleBucket(op string) string {
	if op == "Throttled" {
		return "echo-bucket"
	}
	return ""
}
func (echoService) ThrottleError() *APIError { return BadRequest("Throttling", "Rate exceeded") }
func (echoService) Serve(w http.ResponseWriter, c *Call) {
	c.AddResource("r-1")
	_, _ = io.WriteString(w, c.Operation)
}
func (echoService) WriteError(w http.ResponseWriter, c *Call, e *APIError) {
	c.MarkError(e.Code)
	http.Error(w, e.Code, e.HTTPStatus)
}

func call(t *testing.T, url, op, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("X-Op", op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

const signed = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261126/us-east-1/echo/aws4_request, SignedHeaders=host, Signature=x"

func TestServerRoutesRecordsThrottlesAndInjects(t *testing.T) {
	s := NewServer()
	s.Register(echoService{})
	hs := httptest.NewServer(s)
	defer hs.Close()

	if code, _ := call(t, hs.URL, "Get", ""); code != http.StatusForbidden {
		t.Errorf("unsigned request: %d, want 403", code)
	}
	if code, body := call(t, hs.URL, "Get", strings.Replace(signed, "/echo/", "/nosuch/", 1)); code != http.StatusBadRequest || !strings.Contains(body, "nosuch") {
		t.Errorf("unknown service: %d %q, want 400 naming it", code, body)
	}
	if code, body := call(t, hs.URL, "Get", signed); code != 200 || body != "Get" {
		t.Fatalf("plain call: %d %q", code, body)
	}

	id := s.Faults().Add(Fault{Operation: "Get", AccessKeyID: "AKIDTEST", FailNext: 2})
	for i := 0; i < 2; i++ {
		if code, body := call(t, hs.URL, "Get", signed); code != 500 || body != "InternalError" {
			t.Errorf("injected failure %d: %d %q", i, code, body)
		}
	}
	if code, _ := call(t, hs.URL, "Get", signed); code != 200 {
		t.Errorf("after FailNext ran out: %d, want 200", code)
	}
	s.Faults().Remove(id)

	s.Faults().Add(Fault{Operation: "Cut", Partition: true})
	if code, _ := call(t, hs.URL, "Cut", signed); code != 0 {
		t.Errorf("partitioned call answered %d, want the connection closed", code)
	}

	s.SetBucket("echo-bucket", 2, 0.001)
	var codes []int
	for i := 0; i < 3; i++ {
		code, _ := call(t, hs.URL, "Throttled", signed)
		codes = append(codes, code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 400 {
		t.Errorf("burst of 2: codes %v, want 200 200 400", codes)
	}
	s.SetThrottling(false)
	if code, _ := call(t, hs.URL, "Throttled", signed); code != 200 {
		t.Errorf("throttling off: %d", code)
	}

	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.AccessKeyID != "AKIDTEST" || last.Operation != "Throttled" || len(last.Resources) != 1 {
		t.Errorf("last logged call %+v", last)
	}
	var errorCodes []string
	for _, c := range calls {
		errorCodes = append(errorCodes, c.ErrorCode)
	}
	if got := strings.Join(errorCodes, ","); !strings.Contains(got, "InternalError,InternalError,,Partitioned,,,Throttling") {
		t.Errorf("error codes in the log: %s", got)
	}
	for _, c := range s.Calls() {
		if !c.Finished {
			t.Errorf("answered call %s (%s) is not marked finished", c.Operation, c.ErrorCode)
		}
	}
	callMu.Lock()
	defer callMu.Unlock()
	for _, c := range s.calls {
		if c.Request != nil || c.Body != nil {
			t.Fatalf("answered call %s (%s) still holds its request and body", c.Operation, c.ErrorCode)
		}
	}
}

func TestCallLogIsBounded(t *testing.T) {
	s := NewServer()
	for i := 0; i < MaxLoggedCalls+10; i++ {
		s.record(&Call{Operation: "Op"})
	}
	if n := len(s.Calls()); n > MaxLoggedCalls || n < MaxLoggedCalls/2 {
		t.Fatalf("log holds %d calls, want between %d and %d", n, MaxLoggedCalls/2, MaxLoggedCalls)
	}
}

// A copy of the log taken while a call is in flight holds it unfinished,
// so that a check of what calls were authorized for can tell it apart.
func TestInFlightCallIsUnfinished(t *testing.T) {
	s := NewServer()
	s.Register(echoService{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	s.Faults().Add(Fault{Operation: "Slow", Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, strings.NewReader("{}"))
		req.Header.Set("Authorization", signed)
		req.Header.Set("X-Op", "Slow")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	slow := func() (Call, bool) {
		for _, c := range s.Calls() {
			if c.Operation == "Slow" {
				return c, true
			}
		}
		return Call{}, false
	}
	deadline := time.Now().Add(10 * time.Second)
	c, ok := slow()
	for ; !ok; c, ok = slow() {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never reached the log")
		}
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	if c.Finished {
		t.Fatal("a call held by its latency is marked finished")
	}
	cancel()
	<-done
	for c, _ = slow(); !c.Finished; c, _ = slow() {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled call was never marked finished")
		}
		time.Sleep(5 * time.Millisecond) // polling the log
	}
}

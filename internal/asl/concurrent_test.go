package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParallelCollectsBranchOutputsInOrder(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","InputPath":"$.in","Parameters":{"v.$":"$.v"},
		"ResultSelector":{"first.$":"$[0]","second.$":"$[1].doubled"},"ResultPath":"$.out","End":true,
		"Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Pass","OutputPath":"$.v","End":true}}},
			{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"` + fnArn + `double","End":true}}}]}}}`
	double := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var v struct{ V int }
		if err := json.Unmarshal(in, &v); err != nil {
			return nil, err
		}
		return json.RawMessage(fmt.Sprintf(`{"doubled":%d}`, 2*v.V)), nil
	}
	out, err := runMachine(t, def, `{"in":{"v":21}}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "double": double})})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"in":{"v":21},"out":{"first":21,"second":42}}`)
}

func TestParallelFailingBranchCancelsOthers(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
			{"StartAt":"Slow","States":{"Slow":{"Type":"Task","Resource":"` + fnArn + `slow","End":true}}},
			{"StartAt":"Boom","States":{"Boom":{"Type":"Task","Resource":"` + fnArn + `boom","End":true}}}]}}}`
	slowStarted := make(chan struct{})
	slowCancelled := make(chan struct{})
	slow := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		close(slowStarted)
		<-ctx.Done()
		close(slowCancelled)
		return nil, ctx.Err()
	}
	boom := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		<-slowStarted
		return nil, &NamedError{Name: "RerouteFailed", Message: "route table locked"}
	}
	var log eventLog
	_, err := runMachine(t, def, `{}`, Options{
		Tasks:   taskTable(map[string]TaskFunc{fnArn + "slow": slow, fnArn + "boom": boom}),
		OnEvent: log.record,
	})
	ee := execError(t, err)
	if ee.ErrorName != "RerouteFailed" || !strings.Contains(ee.Cause, "route table locked") {
		t.Fatalf("got %+v", ee)
	}
	receive(t, slowCancelled, "the other branch to be cancelled")
	types := log.types()
	if types[len(types)-2] != "ParallelStateFailed" || types[len(types)-1] != "ExecutionFailed" {
		t.Fatalf("events end with %v", types[len(types)-3:])
	}
}

func TestParallelCatchesBranchFailState(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"Done",
		"Catch":[{"ErrorEquals":["Refused"],"ResultPath":"$.refusal","Next":"Done"}],
		"Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Refused","Cause":"standby too far behind"}}}]},
		"Done":{"Type":"Succeed"}}}`
	out, err := runMachine(t, def, `{"cluster":"c"}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"cluster":"c","refusal":{"Error":"Refused","Cause":"standby too far behind"}}`)
}

func TestMapItemSelectorAndOrder(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","InputPath":"$.job","ItemsPath":"$.targets",
		"ItemSelector":{"target.$":"$$.Map.Item.Value","index.$":"$$.Map.Item.Index","cluster.$":"$.cluster"},
		"ItemProcessor":{"StartAt":"R","States":{"R":{"Type":"Task","Resource":"` + fnArn + `route","End":true}}},
		"ResultPath":"$.results","End":true}}}`
	route := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var v struct {
			Target, Cluster string
			Index           int
		}
		if err := json.Unmarshal(in, &v); err != nil {
			return nil, err
		}
		return json.RawMessage(fmt.Sprintf(`"%s/%s#%d"`, v.Cluster, v.Target, v.Index)), nil
	}
	var log eventLog // unlocked: OnEvent must be serialised by the interpreter (-race)
	input := `{"job":{"cluster":"c1","targets":["rtb-1","rtb-2","eip","dns","rtb-3","rtb-4","rtb-5","rtb-6"]}}`
	out, err := runMachine(t, def, input, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "route": route}), OnEvent: log.record})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"job":{"cluster":"c1","targets":["rtb-1","rtb-2","eip","dns","rtb-3","rtb-4","rtb-5","rtb-6"]},
		"results":["c1/rtb-1#0","c1/rtb-2#1","c1/eip#2","c1/dns#3","c1/rtb-3#4","c1/rtb-4#5","c1/rtb-5#6","c1/rtb-6#7"]}`)
	counts := map[string]int{}
	for _, e := range log.events {
		counts[e.Type]++
	}
	if counts["MapIterationStarted"] != 8 || counts["MapIterationSucceeded"] != 8 || counts["LambdaFunctionSucceeded"] != 8 {
		t.Fatalf("event counts %v", counts)
	}
}

func TestMapLegacyParametersAndEmptyItems(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","Parameters":{"v.$":"$$.Map.Item.Value"},
		"Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.v","End":true}}},"End":true}}}`
	out, err := runMachine(t, def, `[1,2,3]`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `[1,2,3]`)
	out, err = runMachine(t, def, `[]`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `[]`)
	_, err = runMachine(t, def, `{"not":"an array"}`, Options{})
	if ee := execError(t, err); ee.ErrorName != StatesRuntime {
		t.Fatalf("got %+v", ee)
	}
}

func TestMapMaxConcurrency(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,
		"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + fnArn + `work","End":true}}},"End":true}}}`
	var active, maxActive atomic.Int32
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	work := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		n := active.Add(1)
		for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
		}
		started <- struct{}{}
		<-release
		active.Add(-1)
		return in, nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := runMachine(t, def, `[1,2,3,4,5,6]`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "work": work})})
		done <- err
	}()
	receive(t, started, "item 1")
	receive(t, started, "item 2")
	for i := 3; i <= 6; i++ {
		release <- struct{}{}
		receive(t, started, fmt.Sprintf("item %d", i))
	}
	release <- struct{}{}
	release <- struct{}{}
	if err := receive(t, done, "Run to return"); err != nil {
		t.Fatal(err)
	}
	if maxActive.Load() != 2 {
		t.Fatalf("%d items ran at once, want 2", maxActive.Load())
	}
}

func TestMapIterationFailureFailsState(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"Bad"}],"Default":"Ok"},
		"Bad":{"Type":"Fail","Error":"VerifyFailed","Cause":"item 3"},"Ok":{"Type":"Succeed"}}},
		"Retry":[{"ErrorEquals":["VerifyFailed"],"MaxAttempts":1}],"End":true}}}`
	var log eventLog
	_, err := runMachine(t, def, `[1,2,3,4]`, Options{OnEvent: log.record})
	if ee := execError(t, err); ee.ErrorName != "VerifyFailed" || ee.Cause != "item 3" {
		t.Fatalf("got %+v", ee)
	}
	counts := map[string]int{}
	for _, e := range log.events {
		counts[e.Type]++
		if e.Type == "MapIterationFailed" && e.Index != 2 {
			t.Fatalf("iteration %d failed, want 2", e.Index)
		}
	}
	if counts["MapStateStarted"] != 2 || counts["MapIterationFailed"] != 2 || counts["MapStateFailed"] != 2 {
		t.Fatalf("want two attempts each with one failed iteration, got %v", counts)
	}
}

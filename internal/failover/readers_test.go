package failover

import (
	"reflect"
	"strings"
	"testing"
)

// The read-only steps hold Readers: every client there can only read
// (Describe*, Get*, List*), so Assess and the drift check cannot change a
// route, an instance, an alarm or the record by type, whatever IAM says.
// The drift check's one write is a metric.
func TestReadOnlyStepsHoldOnlyReaders(t *testing.T) {
	readOnly := func(name string) bool {
		for _, p := range []string{"Describe", "Get", "List"} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	check := func(owner string, typ reflect.Type, allowed ...string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous || ft.Kind() != reflect.Interface {
				continue
			}
			for j := range ft.NumMethod() {
				m := ft.Method(j).Name
				if !readOnly(m) && !contains(allowed, m) {
					t.Errorf("%s.%s (%s) offers %s, which changes something", owner, f.Name, ft, m)
				}
			}
		}
	}
	check("Readers", reflect.TypeFor[Readers]())
	check("base", reflect.TypeFor[base]())
	check("DriftCheck", reflect.TypeFor[DriftCheck](), "PutMetricData")
	if f, ok := reflect.TypeFor[AssessStep]().FieldByName("Readers"); !ok || !f.Anonymous {
		t.Error("AssessStep does not embed Readers")
	}
	if _, ok := reflect.TypeFor[AssessStep]().FieldByName("Store"); ok {
		t.Error("AssessStep reaches the Store, which writes")
	}
	// The check itself can fail: Deps offers mutating calls.
	var mutating []string
	ec2, _ := reflect.TypeFor[Deps]().FieldByName("EC2")
	for j := range ec2.Type.NumMethod() {
		if m := ec2.Type.Method(j).Name; !readOnly(m) {
			mutating = append(mutating, m)
		}
	}
	if len(mutating) == 0 {
		t.Error("Deps.EC2 offers no mutating call: the check above proves nothing")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestTriggerText(t *testing.T) {
	for _, c := range []struct {
		r    Request
		want string
	}{
		{Request{Trigger: TriggerAlarm, Observer: "switchyard-demo-primary-heartbeat"}, "alarm switchyard-demo-primary-heartbeat"},
		{Request{Trigger: TriggerFastPath, Observer: "node2"}, "fast-path node2"},
		{Request{Trigger: TriggerManual, Observer: "ignored"}, "manual"},
		{Request{Trigger: TriggerManual}, "manual"},
	} {
		if got := c.r.TriggerText(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

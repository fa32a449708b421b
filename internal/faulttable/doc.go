// Package faulttable turns the output of the fault matrix's tests
// (`go test -json` of the cases in internal/localstack, see make faults and
// docs/faults.md) into a table: one row per case with what was expected,
// what was observed, the client's acknowledged and lost writes, the time
// both nodes were writable, and the verdict of its test.
//
// Each case reports itself by logging one line "faultrow <json>" (Row as
// JSON) before it ends; a test is a case when it ran and has no subtests.
// The verdict pairs that row with the test's own pass or fail: a case
// fails when its test failed, was skipped, never ended, or logged no row.
// Read is the only entry point for input; the writers only format.
package faulttable

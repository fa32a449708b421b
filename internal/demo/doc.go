// Package demo runs Switchyard's demonstration: a real alarm-driven
// failover on the embedded local stack, with a client writing through the
// overlay IP all along, printed as a live timeline. `make demo` runs it via
// `switchyard demo`; the recovery benchmark (bench/recovery) runs it many
// times and aggregates the phases.
package demo

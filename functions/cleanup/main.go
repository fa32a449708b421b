// Command cleanup runs on EventBridge's "Step Functions Execution Status
// Change" event for a failover execution that ended FAILED, TIMED_OUT or
// ABORTED: it releases a failover lock the execution kept, re-arms the
// heartbeat alarm, and resumes an interrupted handover. The logic is in
// internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("cleanup", func(d *failover.Deps) any { return (&failover.Cleanup{Deps: d}).Handle })
}

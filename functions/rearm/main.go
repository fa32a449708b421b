// Command rearm is the rearm step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("rearm", func(d *failover.Deps) any { return (&failover.RearmStep{Deps: d}).Handle })
}

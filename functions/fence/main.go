// Command fence is the fence step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("fence", func(d *failover.Deps) any { return (&failover.FenceStep{Deps: d}).Handle })
}

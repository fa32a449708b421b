// Command assess is the assess step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("assess", func(d *failover.Deps) any { return (&failover.AssessStep{Readers: d.Readers()}).Handle })
}

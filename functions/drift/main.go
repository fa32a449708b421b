// Command drift runs on a schedule: it reads where every client-facing
// target points and publishes how many do not point at the recorded
// primary (RoutingDrift), which the drift alarm watches. It never repairs
// anything. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("drift", func(d *failover.Deps) any {
		return (&failover.DriftCheck{Readers: d.Readers(), Metrics: d.CloudWatch}).Handle
	})
}

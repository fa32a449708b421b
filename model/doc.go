// Package model holds the Promela model of Switchyard's primary lease,
// fence and promote protocol (switchyard.pml) and the tests that check it
// with the spin model checker during `make test`.
//
// The model's timing constants are not written in the model: the tests read
// them from internal/cluster (DefaultLeaseSeconds, DefaultRenewSeconds,
// DefaultClockMarginMs, DefaultStopBudgetMs, DefaultFailsafeReplySeconds and
// the watchdog rule lease - renew - 1), scale them to the model's time unit
// and pass them to spin as -D defines. Properties: never two nodes that can
// acknowledge a write (an assertion checked in every state), no acknowledged
// write lost under synchronous replication (an assertion at every
// promotion), and a failover when the primary is gone for good and the
// standby is eligible (an LTL property checked under weak fairness).
//
// The tests need spin and a C compiler (Debian packages spin and gcc; the
// set-up script installs them). Without them the tests fail, naming the
// command that installs them. model/README.md describes the model, its
// assumptions and the last measured run.
package model

// Package devcli holds the development tool's commands (cmd/switchyard-dev):
// demo (a real failover on the local stack), local aws (the AWS emulator as
// a process) and validate (the offline checks of template.yaml, the state
// machine and cluster configurations). They link the emulator, the ASL
// interpreter, the PostgreSQL harness and the template evaluator, which the
// operator's binary (cmd/switchyard, internal/cli) leaves out; they run on
// internal/cli's command line as its Extensions.
package devcli

import "github.com/switchyard/switchyard/internal/cli"

// tool is what the development commands share: the command line's
// streams and output format.
type tool struct{ env cli.Env }

// Commands are the development tool's commands, for cli.Options.Extensions.
var Commands = []cli.Extension{newValidateCommand, newLocalCommand, newDemoCommand}

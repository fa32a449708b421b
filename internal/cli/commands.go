package cli

import "github.com/spf13/cobra"

// commands lists the constructors of every top-level subcommand, in the
// order help shows them. Adding a command is one line here plus its file
// (see the package documentation); the lead's demo command goes here as
// newDemoCommand.
var commands = []func(*app) *cobra.Command{
	newFailoverCommand,
	newSwitchoverCommand,
	newPauseCommand,
	newResumeCommand,
	newRejoinCommand,
	newStatusCommand,
	newHistoryCommand,
	newValidateCommand,
	newDiscoverCommand,
}

// Command faulttable reads `go test -json` of the fault matrix on stdin,
// prints the table and exits 1 if any case failed (see internal/faulttable).
package main

import (
	"flag"
	"os"

	"github.com/switchyard/switchyard/internal/faulttable"
)

func main() {
	markdown := flag.String("markdown", "", "also write the table as Markdown to this file (e.g. docs/faults.md)")
	command := flag.String("command", "make faults", "the command named in the Markdown file")
	flag.Parse()
	os.Exit(faulttable.Main(os.Stdin, os.Stdout, os.Stderr, *markdown, *command))
}

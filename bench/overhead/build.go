package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Agent builds: "release" is the binary deployed on the nodes, as `make
// agent` builds it (static, no cgo, symbol tables stripped); "plain" is a
// bare `go build`, as `make build` builds bin/nodeprobe for development.
// A plain build is dynamically linked (the net and os/user packages use
// cgo), which maps the C library into every agent: about 1.2 MiB more RSS.
const (
	buildRelease = "release"
	buildPlain   = "plain"
)

// agentBuild is how the benchmark builds nodeprobe.
type agentBuild struct {
	Env  []string // added to the go command's environment
	Args []string // after "go build"
}

func agentBuildFor(kind string) (agentBuild, error) {
	switch kind {
	case buildRelease:
		return agentBuild{Env: []string{"CGO_ENABLED=0"}, Args: []string{"-trimpath", "-ldflags=-s -w"}}, nil
	case buildPlain:
		return agentBuild{}, nil
	}
	return agentBuild{}, fmt.Errorf("-build %q: want %s or %s", kind, buildRelease, buildPlain)
}

// String is the build as a command line, with bin for the output.
func (b agentBuild) String(bin string) string {
	parts := append([]string{}, b.Env...)
	parts = append(parts, "go", "build")
	for _, a := range b.Args {
		if strings.Contains(a, " ") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(append(parts, "-o", bin, "./nodeprobe"), " ")
}

// buildAgent builds the node agent into dir.
func buildAgent(ctx context.Context, repo, dir string, b agentBuild) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building nodeprobe: the go command is not on PATH: %w", err)
	}
	bin := filepath.Join(dir, "nodeprobe")
	args := append(append([]string{"build"}, b.Args...), "-o", bin, "./nodeprobe")
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), b.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", b.String(bin), err, out)
	}
	return bin, nil
}

// textBytes is what `size` reports as text: the sections loaded read-only
// (code, read-only data, the function tables), which an agent keeps
// almost entirely resident.
func textBytes(bin string) (uint64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return 0, fmt.Errorf("reading the agent binary: %w", err)
	}
	defer f.Close()
	var n uint64
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Flags&elf.SHF_WRITE == 0 && s.Type != elf.SHT_NOBITS {
			n += s.Size
		}
	}
	return n, nil
}

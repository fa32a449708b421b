package main

import (
	"os"
	"testing"
)

func TestAgentBuilds(t *testing.T) {
	b, err := agentBuildFor(buildRelease)
	if err != nil {
		t.Fatal(err)
	}
	// As the Makefile's agent target.
	if got, want := b.String("bin/nodeprobe"), `CGO_ENABLED=0 go build -trimpath "-ldflags=-s -w" -o bin/nodeprobe ./nodeprobe`; got != want {
		t.Errorf("release build %s, want %s", got, want)
	}
	if b, err = agentBuildFor(buildPlain); err != nil || b.String("x") != "go build -o x ./nodeprobe" {
		t.Errorf("plain build %s, %v", b.String("x"), err)
	}
	if _, err := agentBuildFor("debug"); err == nil {
		t.Error("-build debug was accepted")
	}
}

func TestTextBytes(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	n, err := textBytes(exe)
	if err != nil || n == 0 || n >= uint64(st.Size()) {
		t.Errorf("text of the test binary (%d bytes): %d, %v", st.Size(), n, err)
	}
	if _, err := textBytes(os.DevNull); err == nil {
		t.Error("textBytes read /dev/null")
	}
}

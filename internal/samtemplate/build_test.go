package samtemplate

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Every function builds as `sam build` builds it: for BuildMethod makefile,
// SAM runs `make build-<LogicalId>` in the CodeUri directory with
// ARTIFACTS_DIR set, and deploys ARTIFACTS_DIR as the function's code. The
// provided.al2023 runtime on arm64 needs a file named bootstrap that is a
// static linux/arm64 executable (there is no dynamic loader it could rely
// on).
func TestRealTemplateFunctionsBuildAsSAMBuildsThem(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed to build the functions as SAM does: %v", err)
	}
	app := loadReal(t, scenarios()[0].params)
	ids := sortedKeys(app.Functions)
	if len(ids) == 0 {
		t.Fatal("the template has no functions")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	// One compile of the shared packages first: ten concurrent cold
	// builds would each compile the AWS SDK for arm64 (gigabytes of memory
	// apiece). The flags that reach the compiler are the Makefile's, so the
	// targets below find every package in the build cache and only link.
	warm := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "./functions/...")
	warm.Dir = root
	warm.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := warm.CombinedOutput(); err != nil {
		t.Fatalf("go build ./functions/... for linux/arm64: %v\n%s", err, out)
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.NumCPU())
	results := make([]error, len(ids))
	for i, id := range ids {
		fn := app.Functions[id]
		if fn.BuildMethod != "makefile" {
			results[i] = fmt.Errorf("BuildMethod %q, want makefile", fn.BuildMethod)
			continue
		}
		artifacts := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i] = samBuild(filepath.Join(root, fn.CodeURI), id, artifacts)
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if results[i] != nil {
			t.Errorf("%s: %v", id, results[i])
		}
	}
}

// samBuild runs the build SAM's makefile method runs and checks the
// artefact.
func samBuild(codeDir, logicalID, artifacts string) error {
	cmd := exec.Command("make", "--no-print-directory", "build-"+logicalID, "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = codeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make build-%s: %w\n%s", logicalID, err, out)
	}
	entries, err := os.ReadDir(artifacts)
	if err != nil {
		return fmt.Errorf("reading ARTIFACTS_DIR: %w", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "bootstrap" {
		return fmt.Errorf("ARTIFACTS_DIR holds [%s], want exactly bootstrap", strings.Join(names, " "))
	}
	return checkLambdaBinary(filepath.Join(artifacts, "bootstrap"))
}

// checkLambdaBinary checks that path is an executable static linux/arm64
// ELF: machine EM_AARCH64, no PT_INTERP program header (no dynamic loader)
// and no DT_NEEDED libraries.
func checkLambdaBinary(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable (mode %s)", path, info.Mode())
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("bootstrap is %s %s, want EM_AARCH64 ELFCLASS64 (Architectures: [arm64])", f.Machine, f.Class)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("bootstrap is %s, not an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("bootstrap has a PT_INTERP program header: it is dynamically linked (build with CGO_ENABLED=0)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err == nil && len(libs) > 0 {
		return fmt.Errorf("bootstrap needs shared libraries %v", libs)
	}
	return nil
}

// checkLambdaBinary refuses what would not run on provided.al2023/arm64.
func TestCheckLambdaBinaryRefusesOtherBinaries(t *testing.T) {
	self, err := os.Executable() // this test binary: the host's architecture
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	machine := f.Machine
	f.Close()
	err = checkLambdaBinary(self)
	if machine != elf.EM_AARCH64 && (err == nil || !strings.Contains(err.Error(), "want EM_AARCH64")) {
		t.Errorf("a %s binary passed as arm64: %v", machine, err)
	}
	notELF := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkLambdaBinary(notELF); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("a shell script passed: %v", err)
	}
}

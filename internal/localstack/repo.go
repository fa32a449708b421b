package localstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const modulePath = "github.com/switchyard/switchyard"

// FindRepo returns the root of the Switchyard checkout: dir, or the nearest
// parent of it, whose go.mod declares the module. The stack reads
// template.yaml, statemachine/ and testdata/topology/ from there.
func FindRepo(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+modulePath+"\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Switchyard checkout (go.mod of %s) at or above %s", modulePath, abs)
		}
	}
}

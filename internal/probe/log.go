package probe

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger returns a JSON logger at level ("debug", "info", "warn",
// "error") whose every record carries the cluster and node.
func NewLogger(w io.Writer, level, cluster, node string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
	return slog.New(h).With("cluster", cluster, "node", node), nil
}

package patroni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// member is one entry of Patroni's GET /cluster.
type member struct {
	Name     string `json:"name"`
	Role     string `json:"role"`  // leader, sync_standby, replica
	State    string `json:"state"` // running, starting, stopped, ...
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Timeline int    `json:"timeline"`
	Lag      any    `json:"lag"` // bytes, or "unknown"
}

// clusterView is Patroni's GET /cluster.
type clusterView struct {
	Members []member `json:"members"`
}

// String is a one-line summary for logs and errors.
func (v clusterView) String() string {
	if len(v.Members) == 0 {
		return "no members"
	}
	var parts []string
	for _, m := range v.Members {
		parts = append(parts, fmt.Sprintf("%s %s/%s tl%d lag=%v", m.Name, m.Role, m.State, m.Timeline, m.Lag))
	}
	return strings.Join(parts, "; ")
}

var restClient = &http.Client{Timeout: time.Second}

// getCluster asks a member's REST API for the cluster's view.
func getCluster(ctx context.Context, restAddr string) (clusterView, error) {
	var v clusterView
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+restAddr+"/cluster", nil)
	if err != nil {
		return v, fmt.Errorf("GET /cluster on %s: %w", restAddr, err)
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return v, fmt.Errorf("GET /cluster on %s: %w", restAddr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET /cluster on %s: %s", restAddr, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return v, fmt.Errorf("GET /cluster on %s: decoding: %w", restAddr, err)
	}
	return v, nil
}

// isPrimary reports whether a member answers 200 on GET /primary, the
// check HAProxy routes by.
func isPrimary(ctx context.Context, restAddr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+restAddr+"/primary", nil)
	if err != nil {
		return false
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// switchover asks the leader's REST API for a switchover to candidate, as
// `patronictl switchover --candidate <candidate> --force` does. Patroni
// answers once the switchover is done (or failed).
func switchover(ctx context.Context, restAddr, leader, candidate string) error {
	body, err := json.Marshal(map[string]string{"leader": leader, "candidate": candidate})
	if err != nil {
		return fmt.Errorf("encoding the switchover request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+restAddr+"/switchover", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST /switchover on %s: %w", restAddr, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST /switchover on %s: %w", restAddr, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /switchover on %s: %s: %s", restAddr, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

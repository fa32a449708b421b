package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// MaxSubject is SNS's limit on a Subject (ASCII, no line breaks).
const MaxSubject = 100

// Message is a notice ready to publish.
type Message struct {
	Subject string
	Body    string
}

// Format writes the notice of c.
func Format(c Change) Message {
	headline := Headline(c)
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\n\n", capitalize(headline))
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-10s %s\n", name+":", value)
		}
	}
	field("Cluster", c.Cluster)
	field("Primary", fmt.Sprintf("%s (epoch %d)", orNone(c.Primary), c.Epoch))
	if e := c.Entry; e != nil {
		when := e.FinishedAt.UTC().Format(time.RFC3339)
		if !e.StartedAt.IsZero() && e.FinishedAt.After(e.StartedAt) {
			when += fmt.Sprintf(" (took %s)", e.FinishedAt.Sub(e.StartedAt).Round(10*time.Millisecond))
		}
		field("When", when)
		if n := e.Occurrences(); n > 1 {
			field("Repeated", fmt.Sprintf("%d times since %s", n, e.Since().UTC().Format(time.RFC3339)))
		}
		field("Trigger", e.Trigger)
		field("Reason", e.Reason)
		field("Steps", Steps(*e))
		field("Execution", e.Execution)
		field("Console", ConsoleLink(e.Execution))
	}
	if s := c.Standby; s != nil {
		field("Standby", s.Node)
		field("Why", s.Reason)
		if !s.Changed.IsZero() {
			field("Since", s.Changed.UTC().Format(time.RFC3339))
		}
	}
	field("Next", nextStep(c))
	return Message{Subject: Subject(c.Cluster, headline), Body: b.String()}
}

// Headline is the notice in a few words: "failover node1 -> node2
// succeeded".
func Headline(c Change) string {
	switch c.Kind {
	case KindLostRedundancy:
		if c.Standby == nil {
			return "lost redundancy: no standby can be promoted"
		}
		return fmt.Sprintf("lost redundancy: standby %s cannot be promoted", c.Standby.Node)
	case KindRedundancyRestored:
		return fmt.Sprintf("redundancy restored: standby %s can be promoted", c.Standby.Node)
	}
	e := c.Entry
	switch c.Kind {
	case KindRejoin:
		return fmt.Sprintf("%s rejoined as a standby of %s", e.From, e.To)
	case KindPause:
		return "maintenance mode on: automatic failover paused"
	case KindResume:
		return "maintenance mode off: automatic failover resumed"
	}
	action := e.Action
	if action == "" {
		action = store.ActionFailover
	}
	switch e.Outcome {
	case store.OutcomeRefused:
		return action + " refused, nothing changed"
	case store.OutcomeNotNeeded:
		return "no " + action + " needed, nothing changed"
	}
	nodes := ""
	if e.From != "" || e.To != "" {
		nodes = fmt.Sprintf(" %s -> %s", orNone(e.From), orNone(e.To))
	}
	return fmt.Sprintf("%s%s %s", action, nodes, strings.ToUpper(outcomeWord(e.Outcome)))
}

func outcomeWord(outcome string) string {
	if outcome == store.OutcomeSucceeded {
		return "succeeded"
	}
	return outcome
}

// Subject is the SNS subject: "Switchyard <cluster>: <headline>", made
// ASCII and cut to MaxSubject characters.
func Subject(cluster, headline string) string {
	s := asciiLine(fmt.Sprintf("Switchyard %s: %s", cluster, headline))
	if len(s) > MaxSubject {
		s = s[:MaxSubject-3] + "..."
	}
	return s
}

// asciiLine replaces what SNS refuses in a subject (non-ASCII, control
// characters, line breaks) and trims leading spaces.
func asciiLine(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '→':
			b = append(b, "->"...)
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		default:
			b = append(b, '?')
		}
	}
	return strings.TrimLeft(string(b), " ")
}

// Steps lists the steps that completed, each with its time when known:
// "lease, assess, fence 120ms, promote 310ms".
func Steps(e store.HistoryEntry) string { return strings.Join(e.TimedSteps(), ", ") }

// ConsoleLink is the Step Functions console page of an execution ARN
// (arn:<partition>:states:<region>:<account>:execution:<machine>:<name>),
// or "" when execution is not one.
func ConsoleLink(execution string) string {
	parts := strings.SplitN(execution, ":", 8)
	if len(parts) != 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" || parts[3] == "" {
		return ""
	}
	domain := "console.aws.amazon.com"
	switch parts[1] {
	case "aws-cn":
		domain = "console.amazonaws.cn"
	case "aws-us-gov":
		domain = "console.amazonaws-us-gov.com"
	}
	region := parts[3]
	return fmt.Sprintf("https://%s.%s/states/home?region=%s#/v2/executions/details/%s", region, domain, region, execution)
}

// nextStep says what an operator should look at or do.
func nextStep(c Change) string {
	status := fmt.Sprintf("switchyard status --cluster %s", c.Cluster)
	switch c.Kind {
	case KindLostRedundancy:
		return status + " (a failover now would be refused, or lose data if forced)"
	case KindPause:
		return fmt.Sprintf("switchyard resume --cluster %s when the maintenance is over", c.Cluster)
	case KindExecution:
		switch c.Entry.Outcome {
		case store.OutcomeFailed, store.OutcomeAborted:
			return status + " now: the reason says where the cluster was left"
		case store.OutcomeRefused:
			return status + "; fix the reason, or force with switchyard failover --force --reason"
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package samtemplate

import (
	"encoding/json"
	"fmt"
)

// TypeDashboard is a CloudWatch dashboard.
const TypeDashboard = "AWS::CloudWatch::Dashboard"

// Dashboard is an AWS::CloudWatch::Dashboard with its body evaluated.
type Dashboard struct {
	LogicalID, DashboardName string
	// Body is the evaluated DashboardBody (JSON text).
	Body string
}

// DashboardMetric is one metric line of a dashboard widget.
type DashboardMetric struct {
	Widget, Namespace, Name string
	Dimensions              []Dimension
}

// dashboardBody is the part of a dashboard body Check reads.
type dashboardBody struct {
	Widgets []struct {
		Type       string `json:"type"`
		Properties struct {
			Title   string  `json:"title"`
			Metrics [][]any `json:"metrics"`
			Alarms  []string
		} `json:"properties"`
	} `json:"widgets"`
}

func buildDashboard(e *evaluator, r *resource) (*Dashboard, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	p := &reader{m: props, path: "Resources." + r.id + ".Properties"}
	d := &Dashboard{LogicalID: r.id, DashboardName: p.str("DashboardName"), Body: p.required("DashboardBody")}
	return d, p.err
}

// parse reads the body as CloudWatch does: JSON with a widgets list.
func (d *Dashboard) parse() (dashboardBody, error) {
	var b dashboardBody
	if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
		return b, fmt.Errorf("dashboard %s: DashboardBody is not valid JSON: %w", d.LogicalID, err)
	}
	if len(b.Widgets) == 0 {
		return b, fmt.Errorf("dashboard %s: DashboardBody has no widgets", d.LogicalID)
	}
	return b, nil
}

// Metrics lists the metric lines of every widget: [namespace, name,
// dimension name, value, ...], an optional trailing options object.
func (d *Dashboard) Metrics() ([]DashboardMetric, error) {
	b, err := d.parse()
	if err != nil {
		return nil, err
	}
	var out []DashboardMetric
	for _, w := range b.Widgets {
		for i, line := range w.Properties.Metrics {
			var parts []string
			for _, v := range line {
				switch x := v.(type) {
				case string:
					parts = append(parts, x)
				case map[string]any: // rendering options
				default:
					return nil, fmt.Errorf("dashboard %s: widget %q metric %d: %v is neither a string nor options", d.LogicalID, w.Properties.Title, i, v)
				}
			}
			if len(parts) < 2 || len(parts)%2 != 0 {
				return nil, fmt.Errorf("dashboard %s: widget %q metric %d: %v is not [namespace, name, dimension, value, ...]", d.LogicalID, w.Properties.Title, i, parts)
			}
			m := DashboardMetric{Widget: w.Properties.Title, Namespace: parts[0], Name: parts[1]}
			for j := 2; j < len(parts); j += 2 {
				m.Dimensions = append(m.Dimensions, Dimension{Name: parts[j], Value: parts[j+1]})
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// AlarmARNs lists the alarms of the dashboard's alarm widgets.
func (d *Dashboard) AlarmARNs() ([]string, error) {
	b, err := d.parse()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range b.Widgets {
		out = append(out, w.Properties.Alarms...)
	}
	return out, nil
}

// checkDashboards checks every dashboard body parses and that its alarm
// widgets show alarms of the template.
func (a *App) checkDashboards() []error {
	var errs []error
	for _, id := range sortedKeys(a.Dashboards) {
		d := a.Dashboards[id]
		if _, err := d.Metrics(); err != nil {
			errs = append(errs, err)
			continue
		}
		arns, _ := d.AlarmARNs()
		for _, arn := range arns {
			if !a.hasAlarmArn(arn) {
				errs = append(errs, fmt.Errorf("dashboard %s: alarm %s is not an alarm of the template", id, arn))
			}
		}
	}
	return errs
}

func (a *App) hasAlarmArn(arn string) bool {
	for _, al := range a.Alarms {
		if al.AlarmArn == arn {
			return true
		}
	}
	return false
}

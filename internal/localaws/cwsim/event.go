package cwsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time layouts of CloudWatch alarm texts and events.
const (
	stateTimeLayout  = "2006-01-02T15:04:05.000-0700" // state timestamps, reasonData dates
	eventTimeLayout  = "2006-01-02T15:04:05Z"         // the event envelope's "time"
	reasonTimeLayout = "02/01/06 15:04:05"            // datapoint dates inside reasons
)

// The envelope and detail of a "CloudWatch Alarm State Change" event, field
// for field as the CloudWatch user guide's "Alarm events and EventBridge"
// shows it for a single-metric alarm.
type alarmStateChangeEvent struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     eventDetail `json:"detail"`
}

type eventDetail struct {
	AlarmName     string             `json:"alarmName"`
	State         eventState         `json:"state"`
	PreviousState eventState         `json:"previousState"`
	Configuration eventConfiguration `json:"configuration"`
}

type eventState struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"`
	Timestamp  string `json:"timestamp"`
}

type eventConfiguration struct {
	Description string             `json:"description,omitempty"`
	Metrics     []eventMetricQuery `json:"metrics"`
}

type eventMetricQuery struct {
	ID         string          `json:"id"`
	MetricStat eventMetricStat `json:"metricStat"`
	ReturnData bool            `json:"returnData"`
}

type eventMetricStat struct {
	Metric eventMetric `json:"metric"`
	Period int64       `json:"period"`
	Stat   string      `json:"stat"`
	Unit   string      `json:"unit,omitempty"`
}

type eventMetric struct {
	Dimensions map[string]string `json:"dimensions"`
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
}

// stateChangeEvent renders the event of a's last transition.
func (s *Service) stateChangeEvent(a *alarm) []byte {
	dims := map[string]string{}
	for _, d := range a.metric.Dimensions {
		dims[d.Name] = d.Value
	}
	ev := alarmStateChangeEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "CloudWatch Alarm State Change",
		Source:     "aws.cloudwatch",
		Account:    s.opts.AccountID,
		Time:       a.state.Updated.UTC().Format(eventTimeLayout),
		Region:     a.region,
		Resources:  []string{a.arn},
		Detail: eventDetail{
			AlarmName:     a.name,
			State:         toEventState(a.state),
			PreviousState: toEventState(a.previous),
			Configuration: eventConfiguration{
				Description: a.description,
				Metrics: []eventMetricQuery{{
					ID: a.metricQueryID,
					MetricStat: eventMetricStat{
						Metric: eventMetric{Dimensions: dims, Name: a.metric.Name, Namespace: a.metric.Namespace},
						Period: a.period, Stat: a.statistic, Unit: a.unit,
					},
					ReturnData: true,
				}},
			},
		},
	}
	return marshalJSON(ev)
}

func toEventState(st AlarmState) eventState {
	return eventState{Value: st.Value, Reason: st.Reason, ReasonData: st.ReasonData,
		Timestamp: st.Updated.UTC().Format(stateTimeLayout)}
}

// marshalJSON encodes v without HTML escaping ("->" stays as is, as AWS
// writes it). The types marshalled here cannot fail.
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("cwsim: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// javaNumber marshals as CloudWatch prints doubles (Java's Double.toString:
// 50.0, 0.0666851903306472, 1.0E7).
type javaNumber float64

func (n javaNumber) MarshalJSON() ([]byte, error) { return []byte(javaDouble(float64(n))), nil }

func javaDouble(f float64) string {
	abs := math.Abs(f)
	if f == 0 || (abs >= 1e-3 && abs < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	mantissa, exp, _ := strings.Cut(strconv.FormatFloat(f, 'E', -1, 64), "E")
	if !strings.Contains(mantissa, ".") {
		mantissa += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mantissa + "E" + strconv.Itoa(e)
}

type reasonData struct {
	Version             string               `json:"version"`
	QueryDate           string               `json:"queryDate"`
	StartDate           string               `json:"startDate,omitempty"`
	Unit                string               `json:"unit,omitempty"`
	Statistic           string               `json:"statistic"`
	Period              int64                `json:"period"`
	RecentDatapoints    []javaNumber         `json:"recentDatapoints"`
	Threshold           javaNumber           `json:"threshold"`
	EvaluatedDatapoints []evaluatedDatapoint `json:"evaluatedDatapoints,omitempty"`
}

type evaluatedDatapoint struct {
	Timestamp   string      `json:"timestamp"`
	SampleCount *javaNumber `json:"sampleCount,omitempty"`
	Value       *javaNumber `json:"value,omitempty"`
}

// stateReasonData renders the StateReasonData JSON of an evaluation.
func stateReasonData(a *alarm, v verdict, now time.Time) string {
	d := reasonData{Version: "1.0", QueryDate: now.Format(stateTimeLayout), Unit: a.unit,
		Statistic: a.statistic, Period: a.period, RecentDatapoints: []javaNumber{}, Threshold: javaNumber(a.threshold)}
	for i := len(v.evaluated) - 1; i >= 0; i-- { // chronological
		d.RecentDatapoints = append(d.RecentDatapoints, javaNumber(v.evaluated[i].value))
	}
	if len(v.evaluated) > 0 {
		d.StartDate = v.evaluated[len(v.evaluated)-1].start.Format(stateTimeLayout)
	}
	if v.filled > 0 {
		for _, smp := range v.samples {
			e := evaluatedDatapoint{Timestamp: smp.start.Format(stateTimeLayout)}
			if smp.present {
				c, val := javaNumber(smp.sampleCount), javaNumber(smp.value)
				e.SampleCount, e.Value = &c, &val
			}
			d.EvaluatedDatapoints = append(d.EvaluatedDatapoints, e)
		}
	}
	return string(marshalJSON(d))
}

var comparisonPhrases = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

// stateReason renders the StateReason of an evaluation in CloudWatch's words.
func stateReason(a *alarm, v verdict) string {
	if v.state == StateInsufficientData {
		return fmt.Sprintf("Insufficient Data: %d %s %s unknown.", v.filled, datapointWord(v.filled), wasWere(v.filled))
	}
	treatedAs := "[NonBreaching]"
	if v.treat == treatBreaching {
		treatedAs = "[Breaching]"
	}
	if len(v.evaluated) == 0 {
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %d periods and %d missing datapoints were treated as %s.", v.n, v.filled, treatedAs)
	}
	phrase, count, minimum := comparisonPhrases[a.comparison], v.breaching, v.m
	wantBreaching := true
	if v.state == StateOK {
		phrase, count, minimum = "not "+phrase, len(v.evaluated)-v.breaching, v.n-v.m+1
		wantBreaching = false
	}
	var listed []string
	for _, smp := range v.evaluated {
		if a.breaches(smp.value) == wantBreaching {
			listed = append(listed, fmt.Sprintf("%s (%s)", javaDouble(smp.value), smp.start.Format(reasonTimeLayout)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s)",
		count, len(v.evaluated), strings.Join(listed, ", "), wasWere(count), phrase, javaDouble(a.threshold))
	if v.filled > 0 && (v.treat == treatBreaching || v.treat == treatNotBreaching) {
		fmt.Fprintf(&b, " and %d missing %s %s treated as %s", v.filled, datapointWord(v.filled), wasWere(v.filled), treatedAs)
	}
	fmt.Fprintf(&b, " (minimum %d %s for %s -> %s transition).", minimum, datapointWord(minimum), a.state.Value, v.state)
	return b.String()
}

func datapointWord(n int) string {
	if n == 1 {
		return "datapoint"
	}
	return "datapoints"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

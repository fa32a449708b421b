package localaws

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
)

// DefaultAccountID is the account the emulator's ARNs name unless
// SetAccountID changes it (the reference topology's account).
const DefaultAccountID = "123456789012"

// SetAccountID sets the account of the ARNs in the call log.
func (s *Server) SetAccountID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountID = id
}

// SetTableHashKey names the hash key attribute of a DynamoDB table, so a
// PutItem's dynamodb:LeadingKeys can be read from its Item. (GetItem,
// UpdateItem and DeleteItem carry it in Key, from which it is also
// learned.)
func (s *Server) SetTableHashKey(table, attribute string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashKeys[table] = attribute
}

// annotate derives, from what the service recorded in call.Resources and
// from the request body, the resource ARNs IAM would authorize the call
// against and the condition keys of the request. Calls IAM authorizes
// only against "*" (Describe*, GetMetricData, PutMetricData, …) get no
// ARNs.
func (s *Server) annotate(call *Call, body []byte) {
	s.mu.Lock()
	account := s.accountID
	s.mu.Unlock()
	callMu.Lock()
	ids := append([]string(nil), call.Resources...)
	callMu.Unlock()
	region, op := call.Region, call.Operation
	var arns []string
	var items []ItemCall
	ctx := map[string][]string{}
	add := func(format string, args ...any) { arns = append(arns, fmt.Sprintf(format, args...)) }
	switch call.Service {
	case "ec2":
		if strings.HasPrefix(op, "Describe") {
			break
		}
		authorized := ec2AuthorizedTypes[op]
		for _, id := range ids {
			typ := ec2ResourceType(id)
			switch {
			case typ == "" || (authorized != nil && !authorized[typ]):
			case typ == "snapshot": // snapshot ARNs name no account
				add("arn:aws:ec2:%s::snapshot/%s", region, id)
			default:
				add("arn:aws:ec2:%s:%s:%s/%s", region, account, typ, id)
			}
		}
	case "dynamodb":
		for _, t := range ids {
			add("arn:aws:dynamodb:%s:%s:table/%s", region, account, t)
		}
		if op == "TransactWriteItems" {
			items = s.transactItems(region, account, body)
			var keys []string
			for _, it := range items {
				keys = append(keys, it.Context["dynamodb:LeadingKeys"]...)
			}
			if keys = dedupe(keys); len(keys) > 0 {
				ctx["dynamodb:LeadingKeys"] = keys
			}
		} else if len(ids) == 1 {
			if k := s.leadingKey(ids[0], body); k != "" {
				ctx["dynamodb:LeadingKeys"] = []string{k}
			}
		}
	case "route53":
		var names []string
		for _, id := range ids {
			switch {
			case op == "GetChange":
				add("arn:aws:route53:::change/%s", id)
			case strings.Contains(id, "."):
				names = append(names, strings.ToLower(strings.TrimSuffix(id, ".")))
			default:
				add("arn:aws:route53:::hostedzone/%s", id)
			}
		}
		if op == "ChangeResourceRecordSets" && len(names) > 0 {
			ctx["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = names
		}
	case "monitoring":
		switch op {
		case "PutMetricData":
			if ns := cborString(body, "Namespace"); ns != "" {
				ctx["cloudwatch:namespace"] = []string{ns}
			}
		case "SetAlarmState", "DescribeAlarms", "PutMetricAlarm", "DeleteAlarms", "DescribeAlarmHistory":
			for _, name := range ids {
				add("arn:aws:cloudwatch:%s:%s:alarm:%s", region, account, name)
			}
		}
	case "secretsmanager":
		for _, id := range ids {
			if strings.HasPrefix(id, "arn:") {
				arns = append(arns, id)
			} else {
				add("arn:aws:secretsmanager:%s:%s:secret:%s", region, account, id)
			}
		}
	case "sns":
		// IAM authorizes calls on a topic (Publish, Subscribe,
		// GetTopicAttributes, ...) against its ARN, which snssim records;
		// CreateTopic against the ARN the topic will have (a bare name
		// recorded is expanded to it); ListTopics only against "*".
		if op == "ListTopics" {
			break
		}
		for _, id := range ids {
			if strings.HasPrefix(id, "arn:") {
				arns = append(arns, id)
			} else {
				add("arn:aws:sns:%s:%s:%s", region, account, id)
			}
		}
	case "states":
		// StartExecution is authorized against the state machine only,
		// not the execution it creates (which sfnsim also records).
		start := op == "StartExecution" || op == "StartSyncExecution"
		for _, id := range ids {
			if strings.HasPrefix(id, "arn:") && (!start || strings.Contains(id, ":stateMachine:")) {
				arns = append(arns, id)
			}
		}
	default: // others record ARNs already
		for _, id := range ids {
			if strings.HasPrefix(id, "arn:") {
				arns = append(arns, id)
			}
		}
	}
	callMu.Lock()
	call.ARNs = dedupe(arns)
	if len(ctx) > 0 {
		call.Context = ctx
	}
	call.Items = items
	callMu.Unlock()
}

// ItemCall is one action of a DynamoDB transaction as IAM authorizes it.
type ItemCall struct {
	Operation string              // PutItem, UpdateItem, DeleteItem or ConditionCheckItem
	ARNs      []string            // the table
	Context   map[string][]string // dynamodb:LeadingKeys: the item's hash key
}

// transactOperations maps the members of a TransactWriteItems element to
// the action IAM authorizes it as.
var transactOperations = map[string]string{
	"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
}

// transactItems reads the actions of a TransactWriteItems request.
func (s *Server) transactItems(region, account string, body []byte) []ItemCall {
	var in struct {
		TransactItems []map[string]json.RawMessage
	}
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	var out []ItemCall
	for _, ti := range in.TransactItems {
		for member, raw := range ti {
			op, ok := transactOperations[member]
			if !ok {
				continue
			}
			var action struct{ TableName string }
			if json.Unmarshal(raw, &action) != nil || action.TableName == "" {
				continue
			}
			it := ItemCall{Operation: op, ARNs: []string{fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, action.TableName)}}
			if k := s.leadingKey(action.TableName, raw); k != "" {
				it.Context = map[string][]string{"dynamodb:LeadingKeys": {k}}
			}
			out = append(out, it)
		}
	}
	return out
}

func copyItems(in []ItemCall) []ItemCall {
	if in == nil {
		return nil
	}
	out := make([]ItemCall, len(in))
	for i, it := range in {
		out[i] = ItemCall{Operation: it.Operation, ARNs: append([]string(nil), it.ARNs...), Context: copyContext(it.Context)}
	}
	return out
}

// ec2AuthorizedTypes are the resource types IAM authorizes an EC2 action
// against, where the call names more than those (AWS Service
// Authorization Reference): ReplaceRoute is authorized on the route table
// only, not on the route's target. Actions not listed are authorized on
// every resource the call names.
var ec2AuthorizedTypes = map[string]map[string]bool{
	"ReplaceRoute": {"route-table": true},
	"CreateRoute":  {"route-table": true},
	"DeleteRoute":  {"route-table": true},
}

// ec2ResourceType is the ARN resource type of an EC2 id, "" for ids that
// are no resource of their own (association ids) or unknown.
func ec2ResourceType(id string) string {
	for prefix, typ := range map[string]string{
		"i-": "instance", "eni-": "network-interface", "rtb-": "route-table", "eipalloc-": "elastic-ip",
		"sg-": "security-group", "vpc-": "vpc", "subnet-": "subnet", "vol-": "volume", "snap-": "snapshot",
	} {
		if strings.HasPrefix(id, prefix) {
			return typ
		}
	}
	return ""
}

// leadingKey reads the hash key value of a DynamoDB item request: from Key
// when it has one attribute (and learns the attribute's name), else from
// Item by the table's known hash key.
func (s *Server) leadingKey(table string, body []byte) string {
	var in struct {
		Key  map[string]map[string]any
		Item map[string]map[string]any
	}
	if json.Unmarshal(body, &in) != nil {
		return ""
	}
	if len(in.Key) == 1 {
		for attr, v := range in.Key {
			s.mu.Lock()
			s.hashKeys[table] = attr
			s.mu.Unlock()
			str, _ := v["S"].(string)
			return str
		}
	}
	s.mu.Lock()
	attr := s.hashKeys[table]
	s.mu.Unlock()
	if v, ok := in.Item[attr]; ok && attr != "" {
		str, _ := v["S"].(string)
		return str
	}
	return ""
}

func cborString(body []byte, key string) string {
	v, err := cbor.Decode(body)
	if err != nil {
		return ""
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return ""
	}
	s, _ := m[key].(cbor.String)
	return string(s)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

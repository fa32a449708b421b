package devcli

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/internal/cli"
)

// ExampleParams are the template parameters validate uses when none are
// given: a coherent cluster in the overlay-IP scenario, so the template's
// structure (and the cluster configuration it builds) can be checked
// offline. Only the parameters the template declares are passed.
var ExampleParams = map[string]string{
	"ClusterName":            "example",
	"Node1InstanceId":        "i-0aaaaaaaaaaaaaaa1",
	"Node1EniId":             "eni-0aaaaaaaaaaaaaaa1",
	"Node1PrivateIp":         "10.0.2.11",
	"Node1AvailabilityZone":  "us-east-1a",
	"Node2InstanceId":        "i-0bbbbbbbbbbbbbbb2",
	"Node2EniId":             "eni-0bbbbbbbbbbbbbbb2",
	"Node2PrivateIp":         "10.0.12.11",
	"Node2AvailabilityZone":  "us-east-1c",
	"DatabaseSecretArn":      "arn:aws:secretsmanager:us-east-1:123456789012:secret:switchyard-example-AbCdEf",
	"OverlayCidr":            "10.1.0.10/32",
	"OverlayVpcIds":          "vpc-0ccccccccccccccc3",
	"ClientEndpoint":         "10.1.0.10:5432",
	"LambdaSubnetIds":        "subnet-0ddddddddddddddd4",
	"LambdaSecurityGroupIds": "sg-0eeeeeeeeeeeeeee5",
}

// examplesByType fill a required parameter that ExampleParams does not
// know, by its CloudFormation type.
var examplesByType = map[string]string{
	"AWS::EC2::Instance::Id":            "i-0123456789abcdef0",
	"AWS::EC2::AvailabilityZone::Name":  "us-east-1a",
	"AWS::EC2::VPC::Id":                 "vpc-0123456789abcdef0",
	"AWS::EC2::Subnet::Id":              "subnet-0123456789abcdef0",
	"AWS::EC2::SecurityGroup::Id":       "sg-0123456789abcdef0",
	"List<AWS::EC2::Subnet::Id>":        "subnet-0123456789abcdef0",
	"List<AWS::EC2::SecurityGroup::Id>": "sg-0123456789abcdef0",
	"List<AWS::EC2::VPC::Id>":           "vpc-0123456789abcdef0",
	"Number":                            "1",
	"List<Number>":                      "1",
	"CommaDelimitedList":                "example",
	"String":                            "example",
}

// parameters merges --params and --param; nil when none were given.
func (f validateFlags) parameters() (map[string]string, error) {
	var params map[string]string
	if f.paramsFile != "" {
		var err error
		if params, err = readParamsFile(f.paramsFile); err != nil {
			return nil, &cli.UsageError{Err: fmt.Errorf("--params: %w", err)}
		}
	}
	for _, kv := range f.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, cli.UsageErrorf("--param %q is not KEY=VALUE", kv)
		}
		if params == nil {
			params = map[string]string{}
		}
		params[strings.TrimSpace(k)] = v
	}
	return params, nil
}

// readParamsFile reads a JSON object of strings, or CloudFormation's
// parameter list [{"ParameterKey": …, "ParameterValue": …}].
func readParamsFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var object map[string]string
	if err := json.Unmarshal(data, &object); err == nil {
		return object, nil
	}
	var list []struct {
		ParameterKey   string
		ParameterValue string
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s is neither a JSON object of strings nor a list of {\"ParameterKey\",\"ParameterValue\"}", path)
	}
	out := make(map[string]string, len(list))
	for i, p := range list {
		if p.ParameterKey == "" {
			return nil, fmt.Errorf("%s: entry %d has no ParameterKey", path, i)
		}
		out[p.ParameterKey] = p.ParameterValue
	}
	return out, nil
}

// parameterDecl is what validate needs of a template parameter.
type parameterDecl struct {
	Type       string
	HasDefault bool
}

// declaredParameters reads the Parameters section of a template.
func declaredParameters(data []byte) (map[string]parameterDecl, error) {
	var doc struct {
		Parameters map[string]yaml.Node `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the template is not YAML: %w", err)
	}
	out := make(map[string]parameterDecl, len(doc.Parameters))
	for name, node := range doc.Parameters {
		var decl map[string]yaml.Node
		if err := node.Decode(&decl); err != nil {
			return nil, fmt.Errorf("parameter %s: declaration is not a mapping", name)
		}
		_, hasDefault := decl["Default"]
		typeNode := decl["Type"]
		out[name] = parameterDecl{Type: typeNode.Value, HasDefault: hasDefault}
	}
	return out, nil
}

// exampleParameters picks the example values for the parameters the
// template declares: ExampleParams, then a value by type for any other
// parameter without a Default. It returns the names it set, sorted.
func exampleParameters(decls map[string]parameterDecl) (map[string]string, []string) {
	params := map[string]string{}
	for name, decl := range decls {
		if v, ok := ExampleParams[name]; ok {
			params[name] = v
		} else if !decl.HasDefault {
			v, ok := examplesByType[decl.Type]
			if !ok {
				v = "example"
			}
			params[name] = v
		}
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	return params, names
}

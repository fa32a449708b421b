package samtemplate

// Lambda's defaults for properties a function does not set.
const (
	DefaultFunctionTimeout    = 3   // seconds
	DefaultFunctionMemorySize = 128 // MB
)

// Function is an AWS::Serverless::Function with SAM Globals merged and
// every property evaluated.
type Function struct {
	LogicalID string
	// FunctionName is what Ref returns: the FunctionName property or
	// <stack>-<LogicalId>.
	FunctionName string
	// Arn is arn:<partition>:lambda:<region>:<account>:function:<FunctionName>.
	Arn           string
	Description   string
	Handler       string
	Runtime       string
	Architectures []string
	// Timeout in seconds (DefaultFunctionTimeout if unset).
	Timeout int
	// MemorySize in MB (DefaultFunctionMemorySize if unset).
	MemorySize int
	// Environment holds the evaluated Environment.Variables.
	Environment map[string]string
	// Policies are the IAM statements of the function's role, from inline
	// policy documents and the SAM policy templates samtemplate knows.
	Policies []Statement
	// ManagedPolicies are the managed policy names or ARNs in Policies;
	// Allows does not look into them.
	ManagedPolicies []string
	// InVPC reports whether the function has a VpcConfig.
	InVPC bool
	// CodeURI is the CodeUri property; BuildMethod the Metadata BuildMethod.
	CodeURI, BuildMethod string
	Tracing              string
	// EventRules are the function's EventBridgeRule events: rules that
	// invoke it directly.
	EventRules []EventRule
	// Streams are the function's DynamoDB events: event source mappings
	// that invoke it with batches of a table's stream records.
	Streams []StreamEvent
	// Alias is the AutoPublishAlias ("" for none); ProvisionedConcurrency
	// the alias's ProvisionedConcurrencyConfig (0 for none).
	Alias                  string
	ProvisionedConcurrency int
}

// AliasArn is the ARN of the function's published alias ("" for none).
func (f *Function) AliasArn() string {
	if f.Alias == "" {
		return ""
	}
	return f.Arn + ":" + f.Alias
}

func buildFunction(e *evaluator, r *resource) (*Function, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	name, err := e.physicalName(r.id, "Resources."+r.id)
	if err != nil {
		return nil, err
	}
	arn, err := e.arn(r.id, "Resources."+r.id)
	if err != nil {
		return nil, err
	}
	p := &reader{m: props, path: "Resources." + r.id + ".Properties"}
	env := p.sub("Environment")
	fn := &Function{
		LogicalID:     r.id,
		FunctionName:  name,
		Arn:           arn,
		Description:   p.str("Description"),
		Handler:       p.str("Handler"),
		Runtime:       p.str("Runtime"),
		Architectures: p.strList("Architectures"),
		Timeout:       p.intOr("Timeout", DefaultFunctionTimeout),
		MemorySize:    p.intOr("MemorySize", DefaultFunctionMemorySize),
		Environment:   env.strMap("Variables"),
		InVPC:         p.has("VpcConfig"),
		CodeURI:       p.str("CodeUri"),
		Tracing:       p.str("Tracing"),
		Alias:         p.str("AutoPublishAlias"),
	}
	fn.ProvisionedConcurrency = p.sub("ProvisionedConcurrencyConfig").intOr("ProvisionedConcurrentExecutions", 0)
	if fn.Architectures == nil {
		fn.Architectures = []string{"x86_64"}
	}
	if fn.Environment == nil {
		fn.Environment = map[string]string{}
	}
	fn.BuildMethod, _ = r.metadata["BuildMethod"].(string)
	if err := collect(p, env); err != nil {
		return nil, err
	}
	if v, ok := props["Policies"]; ok {
		fn.Policies, fn.ManagedPolicies, err = parsePolicies(e, v, p.path+".Policies")
		if err != nil {
			return nil, err
		}
	}
	if fn.EventRules, err = eventRules(e, r.id, p, &fn.Streams); err != nil {
		return nil, err
	}
	return fn, nil
}

package asl

import (
	"strings"
)

// lambdaInvokeParameters are the Parameters the lambda:invoke integration
// accepts (with or without the ".$" suffix).
var lambdaInvokeParameters = map[string]bool{
	"FunctionName": true, "Payload": true, "InvocationType": true,
	"Qualifier": true, "ClientContext": true, "LogType": true,
}

type taskSpec struct {
	resource       string
	lambdaFunction bool   // Resource is a Lambda function ARN
	lambdaInvoke   bool   // Resource is arn:aws:states:::lambda:invoke
	staticFunction string // lambda:invoke FunctionName when it is a literal
	timeoutSeconds int64
	timeoutPath    *jsonPath
}

func (st *state) parseTask(o *object) error {
	if err := st.parseCommon(o, "Parameters"); err != nil {
		return err
	}
	res, err := o.reqStr("Resource")
	if err != nil {
		return err
	}
	t := &taskSpec{resource: res}
	switch {
	case strings.Contains(res, "${"):
		return o.err("Resource", "%q has an unsubstituted placeholder; apply the template's DefinitionSubstitutions first (see Substitute)", res)
	case !strings.HasPrefix(res, "arn:"):
		return o.err("Resource", "must be an ARN, got %q", res)
	case strings.HasSuffix(res, ".waitForTaskToken"):
		return o.err("Resource", "the callback pattern (.waitForTaskToken) is not supported: %q", res)
	case isLambdaInvoke(res):
		t.lambdaInvoke = true
		if t.staticFunction, err = checkLambdaInvokeParameters(o); err != nil {
			return err
		}
	case isLambdaFunctionARN(res):
		t.lambdaFunction = true
	}
	if o.has("TimeoutSeconds") && o.has("TimeoutSecondsPath") {
		return o.err("TimeoutSecondsPath", "TimeoutSeconds and TimeoutSecondsPath are mutually exclusive")
	}
	if t.timeoutSeconds, _, err = o.integer("TimeoutSeconds", 1, maxTimeoutSeconds); err != nil {
		return err
	}
	if t.timeoutPath, _, err = o.path("TimeoutSecondsPath", nil); err != nil {
		return err
	}
	st.task = t
	return nil
}

// isLambdaInvoke matches arn:<partition>:states:::lambda:invoke.
func isLambdaInvoke(res string) bool {
	parts := strings.Split(res, ":")
	return len(parts) == 7 && parts[2] == "states" && parts[3] == "" && parts[4] == "" &&
		parts[5] == "lambda" && parts[6] == "invoke"
}

// isLambdaFunctionARN matches arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>].
func isLambdaFunctionARN(res string) bool {
	parts := strings.Split(res, ":")
	return (len(parts) == 7 || len(parts) == 8) && parts[2] == "lambda" && parts[5] == "function" && parts[6] != ""
}

// checkLambdaInvokeParameters validates the Parameters of a lambda:invoke
// task and returns FunctionName when it is a literal.
func checkLambdaInvokeParameters(o *object) (string, error) {
	raw, ok := o.fields["Parameters"]
	params, isObj := raw.(map[string]any)
	if !ok || !isObj {
		return "", o.err("Parameters", "lambda:invoke needs Parameters with a FunctionName")
	}
	for _, k := range sortedKeys(params) {
		if !lambdaInvokeParameters[strings.TrimSuffix(k, ".$")] {
			return "", o.err("Parameters."+k, "is not a parameter of lambda:invoke")
		}
	}
	if it, ok := params["InvocationType"]; ok && it != "RequestResponse" {
		return "", o.err("Parameters.InvocationType", "only RequestResponse invocations are supported, got %v", it)
	}
	if _, ok := params["InvocationType.$"]; ok {
		return "", o.err("Parameters.InvocationType.$", "only a literal RequestResponse invocation type is supported")
	}
	if name, ok := params["FunctionName"]; ok {
		s, isStr := name.(string)
		if !isStr || s == "" {
			return "", o.err("Parameters.FunctionName", "must be a non-empty string")
		}
		return s, nil
	}
	if _, ok := params["FunctionName.$"]; !ok {
		return "", o.err("Parameters", "lambda:invoke needs a FunctionName")
	}
	return "", nil
}

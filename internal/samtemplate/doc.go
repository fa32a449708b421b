// Package samtemplate reads Switchyard's AWS SAM template (template.yaml) so
// the local stack creates the alarm, the EventBridge rule, the table and the
// state machine from the same file that would be deployed, and so the
// deployable artefacts can be checked offline.
//
// Load parses the template and evaluates the intrinsic functions it uses
// (Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Not, Fn::Equals, Fn::And, Fn::Or,
// Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64, in short and
// long form) against parameter values, the Conditions section and settable
// pseudo parameters. Resources get local names and ARNs the way
// CloudFormation would name them in a stack (see the Pseudo* constants).
// SAM's Globals are merged into functions as SAM does (maps merged, lists
// appended, scalars overridden). The state machine's DefinitionUri is read
// relative to the template and its DefinitionSubstitutions applied.
//
// Why not goformation: github.com/awslabs/goformation/v7 parses SAM, but its
// intrinsic handling is not good enough to run a stack from: Fn::GetAtt
// always yields nil, Fn::Sub silently deletes every variable it cannot
// resolve (so a typo becomes an empty string instead of an error), Ref of a
// resource is not supported, pseudo parameters are fixed, and SAM Globals are
// not merged. A small evaluator over gopkg.in/yaml.v3 nodes is shorter than
// the work-arounds and fails loudly, with the path of the offending value,
// on anything it does not understand.
//
// Validate runs the structural checks of the template against its state
// machine definition (substitutions, task resources and timeouts, alarm and
// EventBridge rule and cluster configuration agreeing); the CLI's validate
// command calls it.
package samtemplate

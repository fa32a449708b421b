package samtemplate

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table is an AWS::DynamoDB::Table. Only the properties CreateTable needs
// for a table without secondary indexes are read.
type Table struct {
	LogicalID string
	// TableName is what Ref returns; Arn is
	// arn:<partition>:dynamodb:<region>:<account>:table/<TableName>.
	TableName, Arn string
	// BillingMode is PROVISIONED (CloudFormation's default) or
	// PAY_PER_REQUEST.
	BillingMode          string
	KeySchema            []KeyElement
	AttributeDefinitions []AttributeDefinition
	// ReadCapacityUnits and WriteCapacityUnits are the provisioned
	// throughput (0 when unset).
	ReadCapacityUnits, WriteCapacityUnits int64
	PointInTimeRecovery                   bool
	// StreamViewType is the StreamSpecification's view type ("" when the
	// table has no stream); StreamArn is what GetAtt StreamArn returns:
	// the table ARN with /stream/StreamLabel.
	StreamViewType, StreamArn string
}

// StreamLabel stands for the creation time CloudFormation puts at the end
// of a stream ARN, which is known only once the table exists.
const StreamLabel = "1970-01-01T00:00:00.000"

// streamArn is the stream ARN of the table with ARN tableArn.
func streamArn(tableArn string) string { return tableArn + "/stream/" + StreamLabel }

// KeyElement is one attribute of the primary key; KeyType is HASH or RANGE.
type KeyElement struct {
	AttributeName, KeyType string
}

// AttributeDefinition declares a key attribute; AttributeType is S, N or B.
type AttributeDefinition struct {
	AttributeName, AttributeType string
}

func buildTable(e *evaluator, r *resource) (*Table, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	path := "Resources." + r.id + ".Properties"
	p := &reader{m: props, path: path}
	t := &Table{LogicalID: r.id, BillingMode: p.str("BillingMode")}
	if t.BillingMode == "" {
		t.BillingMode = "PROVISIONED"
	}
	readers := []*reader{p}
	for _, k := range p.list("KeySchema") {
		t.KeySchema = append(t.KeySchema, KeyElement{AttributeName: k.required("AttributeName"), KeyType: k.required("KeyType")})
		readers = append(readers, k)
	}
	for _, a := range p.list("AttributeDefinitions") {
		t.AttributeDefinitions = append(t.AttributeDefinitions,
			AttributeDefinition{AttributeName: a.required("AttributeName"), AttributeType: a.required("AttributeType")})
		readers = append(readers, a)
	}
	pt := p.sub("ProvisionedThroughput")
	t.ReadCapacityUnits = int64(pt.intOr("ReadCapacityUnits", 0))
	t.WriteCapacityUnits = int64(pt.intOr("WriteCapacityUnits", 0))
	pitr := p.sub("PointInTimeRecoverySpecification")
	t.PointInTimeRecovery = pitr.boolOr("PointInTimeRecoveryEnabled", false)
	stream := p.sub("StreamSpecification")
	if p.has("StreamSpecification") {
		t.StreamViewType = stream.required("StreamViewType")
	}
	if err := collect(append(readers, pt, pitr, stream)...); err != nil {
		return nil, err
	}
	if len(t.KeySchema) == 0 {
		return nil, errf(path+".KeySchema", "missing")
	}
	if t.TableName, err = e.physicalName(r.id, path); err != nil {
		return nil, err
	}
	if t.Arn, err = e.arn(r.id, path); err != nil {
		return nil, err
	}
	switch t.StreamViewType {
	case "":
	case "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES":
		t.StreamArn = streamArn(t.Arn)
	default:
		return nil, errf(path+".StreamSpecification.StreamViewType", "%q is not KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES", t.StreamViewType)
	}
	return t, nil
}

// CreateTableInput returns the DynamoDB request that creates the table.
func (t *Table) CreateTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.TableName),
		BillingMode: ddbtypes.BillingMode(t.BillingMode),
	}
	for _, k := range t.KeySchema {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType)})
	}
	if t.StreamViewType != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(t.StreamViewType)}
	}
	if t.ReadCapacityUnits > 0 || t.WriteCapacityUnits > 0 {
		in.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(t.ReadCapacityUnits), WriteCapacityUnits: aws.Int64(t.WriteCapacityUnits)}
	}
	return in
}

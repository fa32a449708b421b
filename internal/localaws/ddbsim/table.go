package ddbsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// TableSpec describes a table to create in process (the local stack's
// bootstrap). Key types are "S", "N" or "B"; RangeKey is optional.
type TableSpec struct {
	// StreamViewType turns on the table's stream ("" for none).
	StreamViewType string
	Name           string
	HashKey        string
	HashKeyType    string
	RangeKey       string
	RangeKeyType   string
}

// table is one table: its key schema and its items, by encoded hash key
// and then encoded range key ("" without a range key).
type table struct {
	name               string
	hashKey, hashType  string
	rangeKey, rangeTyp string
	billingMode        string
	read, write        int64
	created            time.Time
	items              map[string]map[string]item
	stream             *stream // nil without a StreamSpecification
}

type keySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type attributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type provisionedThroughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

type createTableInput struct {
	TableName              string                 `json:"TableName"`
	AttributeDefinitions   []attributeDefinition  `json:"AttributeDefinitions"`
	KeySchema              []keySchemaElement     `json:"KeySchema"`
	BillingMode            string                 `json:"BillingMode"`
	ProvisionedThroughput  *provisionedThroughput `json:"ProvisionedThroughput"`
	GlobalSecondaryIndexes []json.RawMessage      `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []json.RawMessage      `json:"LocalSecondaryIndexes"`
	StreamSpecification    *streamSpecification   `json:"StreamSpecification"`
}

// CreateTable creates a table in process, as CreateTable over the wire would.
func (s *Service) CreateTable(spec TableSpec) error {
	in := createTableInput{TableName: spec.Name, BillingMode: "PAY_PER_REQUEST",
		KeySchema:            []keySchemaElement{{AttributeName: spec.HashKey, KeyType: "HASH"}},
		AttributeDefinitions: []attributeDefinition{{AttributeName: spec.HashKey, AttributeType: spec.HashKeyType}},
	}
	if spec.StreamViewType != "" {
		in.StreamSpecification = &streamSpecification{StreamEnabled: true, StreamViewType: spec.StreamViewType}
	}
	if spec.RangeKey != "" {
		in.KeySchema = append(in.KeySchema, keySchemaElement{AttributeName: spec.RangeKey, KeyType: "RANGE"})
		in.AttributeDefinitions = append(in.AttributeDefinitions, attributeDefinition{AttributeName: spec.RangeKey, AttributeType: spec.RangeKeyType})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.create(in); err != nil {
		return fmt.Errorf("creating table %s: %w", spec.Name, err)
	}
	return nil
}

func (s *Service) createTable(call *localaws.Call) (any, error) {
	var in createTableInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.TableName)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.create(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(t)}, nil
}

func (s *Service) create(in createTableInput) (*table, error) {
	if in.TableName == "" || len(in.TableName) < 3 || len(in.TableName) > 255 {
		return nil, validation("TableName must be at least 3 characters long and at most 255 characters long")
	}
	if _, exists := s.tables[in.TableName]; exists {
		return nil, localaws.BadRequest("ResourceInUseException", "Table already exists: %s", in.TableName)
	}
	if len(in.GlobalSecondaryIndexes)+len(in.LocalSecondaryIndexes) > 0 {
		return nil, validation("The local stack does not emulate secondary indexes")
	}
	if err := validStreamSpec(in.StreamSpecification); err != nil {
		return nil, err
	}
	t := &table{name: in.TableName, created: s.now(), items: map[string]map[string]item{}, billingMode: in.BillingMode}
	if spec := in.StreamSpecification; spec != nil && spec.StreamEnabled {
		t.stream = newStream(spec.StreamViewType, s.tableArn(in.TableName), t.created)
	}
	types := map[string]string{}
	for _, d := range in.AttributeDefinitions {
		if !slices.Contains([]string{typeS, typeN, typeB}, d.AttributeType) {
			return nil, validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		types[d.AttributeName] = d.AttributeType
	}
	for _, k := range in.KeySchema {
		typ, ok := types[k.AttributeName]
		if !ok {
			return nil, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: %v", k.AttributeName, names(in.AttributeDefinitions))
		}
		switch {
		case k.KeyType == "HASH" && t.hashKey == "":
			t.hashKey, t.hashType = k.AttributeName, typ
		case k.KeyType == "RANGE" && t.rangeKey == "" && t.hashKey != "":
			t.rangeKey, t.rangeTyp = k.AttributeName, typ
		default:
			return nil, validation("1 validation error detected: Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
	}
	if t.hashKey == "" {
		return nil, validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
	}
	if len(in.AttributeDefinitions) != len(in.KeySchema) {
		return nil, validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	switch t.billingMode {
	case "", "PROVISIONED":
		t.billingMode = "PROVISIONED"
		if in.ProvisionedThroughput == nil || in.ProvisionedThroughput.ReadCapacityUnits < 1 || in.ProvisionedThroughput.WriteCapacityUnits < 1 {
			return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		t.read, t.write = in.ProvisionedThroughput.ReadCapacityUnits, in.ProvisionedThroughput.WriteCapacityUnits
	case "PAY_PER_REQUEST":
		if in.ProvisionedThroughput != nil {
			return nil, validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", t.billingMode)
	}
	s.tables[t.name] = t
	return t, nil
}

func names(defs []attributeDefinition) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.AttributeName
	}
	return out
}

func (s *Service) tableArn(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.region, s.account, name)
}

// describe renders a TableDescription; the emulated table is ACTIVE at once.
func (s *Service) describe(t *table) map[string]any {
	keys := []keySchemaElement{{AttributeName: t.hashKey, KeyType: "HASH"}}
	defs := []attributeDefinition{{AttributeName: t.hashKey, AttributeType: t.hashType}}
	if t.rangeKey != "" {
		keys = append(keys, keySchemaElement{AttributeName: t.rangeKey, KeyType: "RANGE"})
		defs = append(defs, attributeDefinition{AttributeName: t.rangeKey, AttributeType: t.rangeTyp})
	}
	count := 0
	for _, p := range t.items {
		count += len(p)
	}
	d := map[string]any{
		"TableName":            t.name,
		"TableArn":             s.tableArn(t.name),
		"TableId":              fmt.Sprintf("%08x-0000-4000-8000-%012x", len(t.name), t.created.UnixNano()&0xffffffffffff),
		"TableStatus":          "ACTIVE",
		"CreationDateTime":     float64(t.created.UnixMilli()) / 1000,
		"KeySchema":            keys,
		"AttributeDefinitions": defs,
		"ItemCount":            count,
		"TableSizeBytes":       0,
		"BillingModeSummary":   map[string]any{"BillingMode": t.billingMode},
		"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": t.read, "WriteCapacityUnits": t.write,
			"NumberOfDecreasesToday": 0},
	}
	if st := t.stream; st != nil {
		d["StreamSpecification"] = streamSpecification{StreamEnabled: true, StreamViewType: st.viewType}
		d["LatestStreamArn"], d["LatestStreamLabel"] = st.arn, st.label
	}
	return d
}

type tableNameInput struct {
	TableName string `json:"TableName"`
}

func (s *Service) describeTable(call *localaws.Call) (any, error) {
	var in tableNameInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.TableName)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": s.describe(t)}, nil
}

func (s *Service) deleteTable(call *localaws.Call) (any, error) {
	var in tableNameInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.TableName)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	delete(s.tables, t.name)
	d := s.describe(t)
	d["TableStatus"] = "DELETING"
	return map[string]any{"TableDescription": d}, nil
}

func (s *Service) listTables(call *localaws.Call) (any, error) {
	var in struct {
		ExclusiveStartTableName string `json:"ExclusiveStartTableName"`
		Limit                   int    `json:"Limit"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	if in.Limit == 0 {
		in.Limit = 100
	}
	if in.Limit < 1 || in.Limit > 100 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", in.Limit)
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.tables))
	for n := range s.tables {
		if n > in.ExclusiveStartTableName {
			names = append(names, n)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := map[string]any{"TableNames": names}
	if len(names) > in.Limit {
		out["TableNames"] = names[:in.Limit]
		out["LastEvaluatedTableName"] = names[in.Limit-1]
	}
	return out, nil
}

// table returns the named table or ResourceNotFoundException. s.mu is held.
func (s *Service) table(name string) (*table, error) {
	t, ok := s.tables[name]
	if !ok {
		return nil, localaws.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found")
	}
	return t, nil
}

// encode writes a key value so equal values encode equally.
func encodeKey(v *attr) string { return v.typ + ":" + v.s }

// keyOf validates that key holds exactly the table's key attributes, with
// the right types, and returns its encoded hash and range parts.
func (t *table) keyOf(key item) (string, string, error) {
	want := 1
	if t.rangeKey != "" {
		want = 2
	}
	if len(key) != want {
		return "", "", validation("The provided key element does not match the schema")
	}
	return t.keyParts(key, "The provided key element does not match the schema")
}

// keyParts checks the key attributes of an item or key and encodes them.
func (t *table) keyParts(it item, mismatch string) (string, string, error) {
	check := func(name, typ string) (string, error) {
		v := it[name]
		if v == nil {
			if mismatch != "" {
				return "", validation("%s", mismatch)
			}
			return "", validation("One or more parameter values were invalid: Missing the key %s in the item", name)
		}
		if v.typ != typ {
			if mismatch != "" {
				return "", validation("%s", mismatch)
			}
			return "", validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", name, typ, v.typ)
		}
		if v.s == "" && typ != typeN {
			return "", validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", map[string]string{typeS: "string", typeB: "binary"}[typ], name)
		}
		return encodeKey(v), nil
	}
	h, err := check(t.hashKey, t.hashType)
	if err != nil || t.rangeKey == "" {
		return h, "", err
	}
	r, err := check(t.rangeKey, t.rangeTyp)
	return h, r, err
}

func (t *table) get(h, r string) item { return t.items[h][r] }

func (t *table) put(h, r string, it item) {
	p := t.items[h]
	if p == nil {
		p = map[string]item{}
		t.items[h] = p
	}
	p[r] = it
}

func (t *table) remove(h, r string) {
	delete(t.items[h], r)
	if len(t.items[h]) == 0 {
		delete(t.items, h)
	}
}

// isKey reports whether name is one of the table's key attributes.
func (t *table) isKey(name string) bool {
	return name == t.hashKey || (t.rangeKey != "" && name == t.rangeKey)
}

// checkKeyNotUpdated refuses an update expression that names a key
// attribute, as DynamoDB does.
func (t *table) checkKeyNotUpdated(u *updateExpr) error {
	for _, p := range u.paths() {
		if t.isKey(p[0].name) {
			return validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", p[0].name)
		}
	}
	return nil
}

// keyItem extracts the key attributes of an item.
func (t *table) keyItem(it item) item {
	k := item{t.hashKey: it[t.hashKey]}
	if t.rangeKey != "" {
		k[t.rangeKey] = it[t.rangeKey]
	}
	return k
}

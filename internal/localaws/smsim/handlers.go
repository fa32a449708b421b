package smsim

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/switchyard/switchyard/internal/localaws"
)

// protocol is Secrets Manager's awsJson1_1 dialect: bare error codes in
// __type and a request id header.
var protocol = localaws.JSONProtocol{
	TargetPrefix:      targetPrefix,
	ContentType:       "application/x-amz-json-1.1",
	InternalErrorCode: "InternalServiceError",
	Header:            func(h http.Header, _ []byte) { h.Set("x-amzn-RequestId", newVersionID()) },
}

type getSecretValueRequest struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

type getSecretValueResponse struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  string   `json:"SecretString"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   float64  `json:"CreatedDate"` // epoch seconds, as JSON 1.1 encodes timestamps
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	var req getSecretValueRequest
	if err := json.Unmarshal(call.Body, &req); err != nil {
		s.WriteError(w, call, localaws.BadRequest("SerializationException", "The request body is not valid JSON: %v", err))
		return
	}
	resp, apiErr := s.getSecretValue(call, req)
	if apiErr != nil {
		s.WriteError(w, call, apiErr)
		return
	}
	protocol.Respond(w, call, resp, nil)
}

// WriteError implements localaws.Service.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, err *localaws.APIError) {
	protocol.WriteError(w, call, err)
}

func notFound(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("ResourceNotFoundException", format, args...)
}

// getSecretValue returns the version asked for: by id, by stage, or the
// AWSCURRENT one.
func (s *Service) getSecretValue(call *localaws.Call, req getSecretValueRequest) (*getSecretValueResponse, *localaws.APIError) {
	if req.SecretID == "" {
		return nil, localaws.BadRequest("ValidationException",
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(req.SecretID)
	if sec == nil {
		call.AddResource(req.SecretID)
		return nil, notFound("Secrets Manager can't find the specified secret.")
	}
	call.AddResource(sec.arn)
	stage := req.VersionStage
	if stage == "" && req.VersionID == "" {
		stage = StageCurrent
	}
	var found *version
	for _, v := range sec.versions {
		if (req.VersionID == "" || v.id == req.VersionID) && (stage == "" || slices.Contains(v.stages, stage)) {
			found = v
		}
	}
	switch {
	case found == nil && req.VersionID != "":
		return nil, notFound("Secrets Manager can't find the specified secret value for VersionId: %s", req.VersionID)
	case found == nil:
		return nil, notFound("Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return &getSecretValueResponse{
		ARN: sec.arn, Name: sec.name, VersionID: found.id, SecretString: found.value,
		VersionStages: append([]string{}, found.stages...),
		CreatedDate:   float64(found.created.UnixMilli()) / 1000,
	}, nil
}

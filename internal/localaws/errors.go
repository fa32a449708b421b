package localaws

import (
	"errors"
	"fmt"
	"net/http"
)

// APIError is an AWS error as a service returns it: a code such as
// "InvalidRoute.NotFound", a message and an HTTP status.
type APIError struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *APIError with a formatted message.
func Errorf(status int, code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...), HTTPStatus: status}
}

// BadRequest returns a 400 *APIError.
func BadRequest(code, format string, args ...any) *APIError {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// InternalError is what an injected fault returns unless it names another error.
func InternalError() *APIError {
	return Errorf(http.StatusInternalServerError, "InternalError", "An internal error has occurred (injected by the local stack)")
}

func asAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return Errorf(http.StatusBadRequest, "InvalidRequest", "%v", err)
}

package sfnsim

import (
	"encoding/base64"

	"github.com/switchyard/switchyard/internal/localaws"
)

// paginate returns the page of items after the one named by token (the
// first page when token is empty) and the token for the next page ("" when
// this is the last). Tokens name the last item returned rather than an
// offset, so pages stay consistent while a list grows. key identifies an
// item; maxResults 0 means 100.
func paginate[T any](items []T, key func(T) string, maxResults int, token string) ([]T, string, error) {
	if maxResults < 0 || maxResults > 1000 {
		return nil, "", localaws.BadRequest("ValidationException",
			"1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", maxResults)
	}
	if maxResults == 0 {
		maxResults = 100
	}
	start := 0
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		found := false
		if err == nil {
			for i, it := range items {
				if key(it) == string(after) {
					start, found = i+1, true
					break
				}
			}
		}
		if !found {
			return nil, "", localaws.BadRequest("InvalidToken", "Invalid Token: '%s'", token)
		}
	}
	end := min(start+maxResults, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return page, next, nil
}

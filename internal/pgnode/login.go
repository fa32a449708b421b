package pgnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// Login is the PostgreSQL login kept in the database secret,
// {"username": …, "password": …} (other keys are ignored). It is never
// logged: String hides the password.
type Login struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (l Login) String() string { return l.Username + ":***" }

// ParseLogin decodes a secret's string; it must be a JSON object with a
// username.
func ParseLogin(secret *string) (Login, error) {
	var l Login
	if secret == nil || json.Unmarshal([]byte(*secret), &l) != nil || l.Username == "" {
		return Login{}, errors.New("the secret's string is not a JSON object with username and password")
	}
	return l, nil
}

// DSN is the connection URL for addr (host:port) and database with the
// login, libpq's sslmode and an application_name for pg_stat_activity.
func (l Login) DSN(addr, database, sslMode, application string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("postgres address %q: %w", addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("postgres address %q: bad port", addr)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(l.Username, l.Password), Host: net.JoinHostPort(host, port), Path: "/" + database}
	q := url.Values{}
	q.Set("sslmode", sslMode)
	q.Set("application_name", application)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

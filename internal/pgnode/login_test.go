package pgnode_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/pgnode"
)

func TestLogin(t *testing.T) {
	for _, bad := range []string{"", "[]", `{"password":"p"}`, "not json"} {
		s := bad
		if _, err := pgnode.ParseLogin(&s); err == nil {
			t.Errorf("ParseLogin(%q) accepted", bad)
		}
	}
	if _, err := pgnode.ParseLogin(nil); err == nil {
		t.Error("ParseLogin(nil) accepted")
	}
	secret := `{"username":"switchyard","password":"p@ss/w:rd","engine":"postgres"}`
	l, err := pgnode.ParseLogin(&secret)
	if err != nil {
		t.Fatal(err)
	}
	if s := l.String(); strings.Contains(s, "p@ss") || s != "switchyard:***" {
		t.Errorf("String() = %q shows the password", s)
	}
	dsn, err := l.DSN("10.0.2.10:5432", "app", "verify-full", "switchyard")
	if err != nil || dsn != "postgres://switchyard:p%40ss%2Fw%3Ard@10.0.2.10:5432/app?application_name=switchyard&sslmode=verify-full" {
		t.Errorf("DSN = %q, %v", dsn, err)
	}
	for _, addr := range []string{"10.0.2.10", "10.0.2.10:pg"} {
		if _, err := l.DSN(addr, "app", "prefer", "x"); err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("DSN(%q): %v, want an error naming the address", addr, err)
		}
	}
}

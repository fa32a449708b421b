package pgnode

import (
	"fmt"
	"strconv"
	"strings"
)

// LSN is a PostgreSQL write-ahead log position (pg_lsn): a byte offset into
// the WAL stream. The zero value is InvalidLSN, which PostgreSQL prints as
// "0/0" and uses for "no position".
type LSN uint64

// InvalidLSN is PostgreSQL's InvalidXLogRecPtr: no position known.
const InvalidLSN LSN = 0

// ParseLSN parses PostgreSQL's textual form "HI/LO" (two hexadecimal numbers
// of up to 8 digits each, e.g. "16/B374D848"; zero-padded forms such as
// "0/0000ABCD" are accepted too).
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("parsing LSN %q: missing '/'", s)
	}
	h, err := parseHalf(hi)
	if err != nil {
		return 0, fmt.Errorf("parsing LSN %q: high part: %w", s, err)
	}
	l, err := parseHalf(lo)
	if err != nil {
		return 0, fmt.Errorf("parsing LSN %q: low part: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

func parseHalf(s string) (uint64, error) {
	if s == "" || len(s) > 8 {
		return 0, fmt.Errorf("want 1 to 8 hex digits, got %d", len(s))
	}
	// ParseUint would accept a sign or "0x" only with base 0; base 16 still
	// accepts a leading '+', which PostgreSQL does not.
	if s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("unexpected sign")
	}
	return strconv.ParseUint(s, 16, 32)
}

// MustParseLSN is ParseLSN for constants in tests and examples; it panics on
// malformed input.
func MustParseLSN(s string) LSN {
	l, err := ParseLSN(s)
	if err != nil {
		panic(err)
	}
	return l
}

// String returns the position the way PostgreSQL prints it ("16/B374D848").
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF)
}

// IsValid reports whether l is a real position (not InvalidLSN).
func (l LSN) IsValid() bool { return l != InvalidLSN }

// Sub returns the distance l - o in bytes; it is negative when o is ahead of
// l. Like pg_wal_lsn_diff, it is exact for any two positions less than 2^63
// bytes apart.
func (l LSN) Sub(o LSN) int64 { return int64(uint64(l) - uint64(o)) }

// Add returns the position n bytes after l (before l when n is negative).
func (l LSN) Add(n int64) LSN { return LSN(uint64(l) + uint64(n)) }

// Max returns the later of l and o.
func (l LSN) Max(o LSN) LSN {
	if o > l {
		return o
	}
	return l
}

// MarshalText encodes the position in PostgreSQL's form, so an LSN travels
// through JSON (Lambda payloads, the cluster record) as "16/B374D848".
func (l LSN) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText decodes PostgreSQL's form; an empty string is InvalidLSN.
func (l *LSN) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = InvalidLSN
		return nil
	}
	v, err := ParseLSN(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

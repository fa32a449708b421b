package ddbsim

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokEOF         tokenKind = iota
	tokIdent                 // bare attribute name, keyword or function name
	tokName                  // #placeholder
	tokValue                 // :placeholder
	tokNumber                // list index digits
	tokPunctuation           // ( ) [ ] , . = <> < <= > >= + -
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset in the expression
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lex splits an expression into tokens. kind names the expression in error
// messages ("ConditionExpression", ...).
func lex(kind, src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			if j == i+1 {
				return nil, syntaxError(kind, src, string(c), i)
			}
			k := tokName
			if c == ':' {
				k = tokValue
			}
			toks = append(toks, token{kind: k, text: src[i:j], pos: i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			toks = append(toks, token{kind: tokNumber, text: src[i:j], pos: i})
			i = j
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: src[i:j], pos: i})
			i = j
		case strings.HasPrefix(src[i:], "<>") || strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">="):
			toks = append(toks, token{kind: tokPunctuation, text: src[i : i+2], pos: i})
			i += 2
		case strings.ContainsRune("()[],.=<>+-", rune(c)):
			toks = append(toks, token{kind: tokPunctuation, text: src[i : i+1], pos: i})
			i++
		default:
			return nil, syntaxError(kind, src, string(c), i)
		}
	}
	return append(toks, token{kind: tokEOF, text: "<EOF>", pos: len(src)}), nil
}

// syntaxError words a syntax error the way DynamoDB does: the offending
// token and the text around it.
func syntaxError(kind, src, tok string, pos int) error {
	from := max(0, pos-10)
	to := min(len(src), pos+len(tok)+10)
	if tok == "<EOF>" {
		to = len(src)
	}
	return validation("Invalid %s: Syntax error; token: %q, near: %q", kind, tok, strings.TrimSpace(src[from:to]))
}

// pathElem is one step of a document path: a map key or a list index.
type pathElem struct {
	name  string
	index int // list index when name == ""
}

// docPath is a document path such as a.b[2].c.
type docPath []pathElem

func (p docPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.name == "":
			fmt.Fprintf(&b, "[%d]", e.index)
		case i > 0:
			b.WriteString("." + e.name)
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}

// overlaps reports whether one path is a prefix of the other.
func (p docPath) overlaps(q docPath) bool {
	n := min(len(p), len(q))
	for i := 0; i < n; i++ {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

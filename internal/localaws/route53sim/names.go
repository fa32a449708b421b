package route53sim

import (
	"fmt"
	"net"
	"strings"
)

// recordTypes are the record types Route 53 accepts (RRType).
var recordTypes = map[string]bool{
	"A": true, "AAAA": true, "CAA": true, "CNAME": true, "DS": true, "HTTPS": true,
	"MX": true, "NAPTR": true, "NS": true, "PTR": true, "SOA": true, "SPF": true,
	"SRV": true, "SSHFP": true, "SVCB": true, "TLSA": true, "TXT": true,
}

// canonicalName returns name as Route 53 stores and returns it: lower case,
// with the trailing dot, and every character other than a-z, 0-9, '-', '_'
// and '.' written as a three-digit octal escape ("*" becomes "\052").
// Escapes already present in name are understood.
func canonicalName(name string) string {
	raw := unescapeName(strings.TrimSpace(name))
	raw = strings.ToLower(raw)
	if !strings.HasSuffix(raw, ".") {
		raw += "."
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}

// unescapeName turns "\ddd" octal escapes back into the bytes they name.
func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			v := (s[i+1]-'0')*64 + (s[i+2]-'0')*8 + (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return s[0] <= '3'
}

// sortKey is name with its labels reversed, the key Route 53 sorts record
// sets and hosted zones by: "www.example.com." becomes "com.example.www.".
func sortKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".") + "."
}

// inZone reports whether the canonical name lies in the canonical zone name.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// bareZoneID strips a "/hostedzone/" prefix: the SDK sends bare ids, seeds
// and callers may use either form.
func bareZoneID(id string) string {
	return strings.TrimPrefix(strings.TrimSpace(id), "/hostedzone/")
}

// bareChangeID strips a "/change/" prefix.
func bareChangeID(id string) string {
	return strings.TrimPrefix(strings.TrimSpace(id), "/change/")
}

// valueProblem returns the Route 53 message for a record value its type does
// not allow, or "".
func valueProblem(rtype, value string) string {
	switch rtype {
	case "A":
		if ip := net.ParseIP(value); ip == nil || ip.To4() == nil || strings.Contains(value, ":") {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '%s''", value)
		}
	case "AAAA":
		if ip := net.ParseIP(value); ip == nil || !strings.Contains(value, ":") {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '%s''", value)
		}
	}
	return ""
}

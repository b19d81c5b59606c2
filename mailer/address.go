package mailer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ErrAddressInvalid is wrapped by every error ParseAddress returns: the text
// is not an address this application sends mail to. Forms show "write it
// like name@organisation.no". The error's text never holds the address.
var ErrAddressInvalid = errors.New("mailer: not a valid email address")

// ErrAddressTooLong is an address over the limits of RFC 5321 (64 octets
// before the @, 63 per domain label, 254 in all). It wraps ErrAddressInvalid.
var ErrAddressTooLong = fmt.Errorf("%w: too long", ErrAddressInvalid)

// ErrAddressNeedsUTF8 is returned by ParseAddressFor for a valid address
// with non-ASCII characters before the @ (bjørn@example.no) while the mail
// relay does not offer SMTPUTF8 (RFC 6531), so mail to it cannot be sent.
// It does not wrap ErrAddressInvalid: the address is fine, the relay is not.
var ErrAddressNeedsUTF8 = errors.New("mailer: the address has non-ASCII characters in its local part and the mail server does not take them (SMTPUTF8)")

// Address is an email address someone typed, parsed.
type Address struct {
	// Typed is the address as typed, trimmed: what is stored and shown.
	Typed string
	// Send is the form for the envelope and the headers: the local part in
	// Unicode NFC, the domain as an IDNA A-label in lower case
	// (ola@bærum.no → ola@xn--brum-roa.no).
	Send string
	// Key identifies the person for duplicates, look-ups and data rights:
	// Send with the local part lower-cased as well. ola@Bærum.no and
	// OLA@xn--brum-roa.no have the same key.
	Key string
	// UTF8 is true when the local part is not ASCII: mail to the address
	// needs a relay that offers SMTPUTF8.
	UTF8 bool
}

// RFC 5321 section 4.5.3.1.
const (
	maxLocalOctets   = 64
	maxLabelOctets   = 63
	maxDomainOctets  = 253
	maxAddressOctets = 254 // a path is 256 octets with its angle brackets
)

// ParseAddress is the one definition of an address the application sends
// mail to, used by every form that takes one and by Enqueue. It accepts a
// bare address (no display name, no comment, no angle brackets):
//
//   - a local part that is a dot-atom (RFC 5322 atext and dots, no dot at
//     either end or two in a row), where the characters beyond ASCII may be
//     letters, marks and digits (RFC 6532): no spaces, control, format
//     (bidi overrides, zero-width), private-use or other characters;
//     quoted local parts are refused: they are rare, and relays and
//     receivers disagree on them;
//   - a domain that is a host name in DNS: labels of letters, digits and
//     hyphens, none at either end of a label, at least two labels and a
//     top-level label that is not all digits; in any script, as it
//     converts to an A-label (IDNA 2008, UTS 46 lookup). No address
//     literals ([127.0.0.1]), no underscore.
//
// The error wraps ErrAddressInvalid (ErrAddressTooLong for the length
// limits).
func ParseAddress(s string) (Address, error) {
	return parseAddress(s, true)
}

// ParseAddressFor is ParseAddress for an address mail is about to be sent
// to through a relay that does (relayUTF8) or does not offer SMTPUTF8: it
// returns ErrAddressNeedsUTF8 for a UTF-8 local part the relay cannot take.
func ParseAddressFor(s string, relayUTF8 bool) (Address, error) {
	a, err := ParseAddress(s)
	if err != nil {
		return a, err
	}
	if a.UTF8 && !relayUTF8 {
		return Address{}, ErrAddressNeedsUTF8
	}
	return a, nil
}

// parseAddress is ParseAddress; multiLabel false also takes a domain of one
// label (localhost), which only the configured sender may have.
func parseAddress(s string, multiLabel bool) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, fmt.Errorf("%w: empty", ErrAddressInvalid)
	}
	if !utf8.ValidString(s) {
		return Address{}, fmt.Errorf("%w: not UTF-8", ErrAddressInvalid)
	}
	if strings.ContainsFunc(s, unsafeRune) {
		return Address{}, fmt.Errorf("%w: spaces, control or invisible characters", ErrAddressInvalid)
	}
	at := strings.IndexByte(s, '@')
	if at < 0 || strings.Count(s, "@") != 1 {
		return Address{}, fmt.Errorf("%w: not one at sign", ErrAddressInvalid)
	}
	local, domain := norm.NFC.String(s[:at]), s[at+1:]
	utf8Local, err := checkLocal(local)
	if err != nil {
		return Address{}, err
	}
	ascii, err := hostName(domain, multiLabel)
	if err != nil {
		return Address{}, err
	}
	send := local + "@" + ascii
	if len(send) > maxAddressOctets {
		return Address{}, fmt.Errorf("%w: over %d octets", ErrAddressTooLong, maxAddressOctets)
	}
	return Address{Typed: s, Send: send, Key: strings.ToLower(local) + "@" + ascii, UTF8: utf8Local}, nil
}

// unsafeRune is refused anywhere in an address: what would break a header
// or an SMTP command, or make the address look other than it is (U+202E
// turns text around; zero-width and soft hyphens hide).
func unsafeRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) ||
		unicode.In(r, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp, unicode.Zs) ||
		r == utf8.RuneError
}

// checkLocal checks a local part (already NFC) and reports whether it has
// characters beyond ASCII.
func checkLocal(local string) (nonASCII bool, err error) {
	switch {
	case local == "":
		return false, fmt.Errorf("%w: nothing before the at sign", ErrAddressInvalid)
	case len(local) > maxLocalOctets:
		return false, fmt.Errorf("%w: local part over %d octets", ErrAddressTooLong, maxLocalOctets)
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return false, fmt.Errorf("%w: misplaced dot in the local part", ErrAddressInvalid)
	}
	for _, r := range local {
		switch {
		case r < utf8.RuneSelf:
			if r != '.' && !isAtext(byte(r)) {
				return false, fmt.Errorf("%w: character not allowed in the local part", ErrAddressInvalid)
			}
		case unicode.In(r, unicode.L, unicode.M, unicode.Nd):
			nonASCII = true
		default:
			return false, fmt.Errorf("%w: character not allowed in the local part", ErrAddressInvalid)
		}
	}
	return nonASCII, nil
}

// isAtext is RFC 5322 atext in ASCII: letters, digits and !#$%&'*+-/=?^_`{|}~.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// hostName returns the domain as a lower-case A-label host name, or an
// error if it is not a host name mail can be sent to.
func hostName(domain string, multiLabel bool) (string, error) {
	if domain == "" {
		return "", fmt.Errorf("%w: no domain", ErrAddressInvalid)
	}
	if domain[0] == '[' {
		return "", fmt.Errorf("%w: address literals are not taken", ErrAddressInvalid)
	}
	ascii := strings.ToLower(domain)
	if !isASCII(domain) || strings.Contains(ascii, "xn--") {
		// UTS 46 lookup: maps case and width, refuses what IDNA 2008
		// disallows (symbols, joiners, bidi controls), checks the hyphens
		// and that an A-label someone typed is valid punycode.
		var err error
		if ascii, err = idna.Lookup.ToASCII(domain); err != nil {
			return "", fmt.Errorf("%w: the domain is not a valid international name", ErrAddressInvalid)
		}
	}
	if len(ascii) > maxDomainOctets {
		return "", fmt.Errorf("%w: domain over %d octets", ErrAddressTooLong, maxDomainOctets)
	}
	labels := strings.Split(ascii, ".")
	if multiLabel && len(labels) < 2 {
		return "", fmt.Errorf("%w: the domain has no dot", ErrAddressInvalid)
	}
	for _, l := range labels {
		if len(l) > maxLabelOctets {
			return "", fmt.Errorf("%w: domain label over %d octets", ErrAddressTooLong, maxLabelOctets)
		}
		if !ldhLabel(l) {
			return "", fmt.Errorf("%w: the domain is not a host name", ErrAddressInvalid)
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Errorf("%w: the top-level domain is a number", ErrAddressInvalid)
	}
	return ascii, nil
}

// ldhLabel is a host name label (RFC 1123): lower-case letters, digits and
// hyphens, not empty, no hyphen at either end.
func ldhLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// NormalizeAddress is the key addresses are looked up by (ForAddress,
// ForgetTo, registrations' email_norm): Address.Key, and for
// text that is not an address (an erased placeholder) the text trimmed and
// lower-cased.
func NormalizeAddress(addr string) string {
	if a, err := ParseAddress(addr); err == nil {
		return a.Key
	}
	return strings.ToLower(strings.TrimSpace(addr))
}

// ValidateAddress reports whether Enqueue would accept addr as a To or
// Reply-To address; ParseAddress says more.
func ValidateAddress(addr string) error {
	_, err := ParseAddress(addr)
	return err
}

// sendableAddress is the Send form of an address. Config.From may have a
// domain of one label (localhost in development).
func sendableAddress(v string) (string, error) {
	a, err := parseAddress(v, false)
	return a.Send, err
}

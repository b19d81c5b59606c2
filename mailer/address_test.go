package mailer

import (
	"errors"
	"strings"
	"testing"
)

// TestParseAddress is the one definition of an address the forms, the
// organisers' pages and the outbox share. The first six are the ones an
// outside tester found ending in 500 at sign-up, add-by-hand and password
// reset.
func TestParseAddress(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		in string
		// want: the sendable form and the key; empty for a refused address
		send, key string
		utf8      bool
		err       error // the error refused addresses wrap
	}{
		// reported
		{in: "bjørn@example.no", send: "bjørn@example.no", key: "bjørn@example.no", utf8: true},
		{in: "ØYVIND@example.no", send: "ØYVIND@example.no", key: "øyvind@example.no", utf8: true},
		{in: "a@x_y.no", err: ErrAddressInvalid},
		{in: "a@x-.no", err: ErrAddressInvalid},
		{in: "a@[127.0.0.1]", err: ErrAddressInvalid},
		{in: "a@x\u202e.no", err: ErrAddressInvalid},

		// valid Norwegian and international domain names
		{in: "ola@bærum.no", send: "ola@xn--brum-voa.no", key: "ola@xn--brum-voa.no"},
		{in: "ola@xn--brum-voa.no", send: "ola@xn--brum-voa.no", key: "ola@xn--brum-voa.no"},
		{in: "Ola@BÆRUM.no", send: "Ola@xn--brum-voa.no", key: "ola@xn--brum-voa.no"},
		{in: "post@bø.kommune.no", send: "post@xn--b-5ga.kommune.no", key: "post@xn--b-5ga.kommune.no"},
		{in: "Kari.Nordmann@Example.NO", send: "Kari.Nordmann@example.no", key: "kari.nordmann@example.no"},
		{in: "  kari@example.no\t", send: "kari@example.no", key: "kari@example.no"},
		{in: "ola.nordmann+mote@example.no", send: "ola.nordmann+mote@example.no", key: "ola.nordmann+mote@example.no"},
		{in: "x@bergen.kommune.example.no", send: "x@bergen.kommune.example.no", key: "x@bergen.kommune.example.no"},
		{in: "o'brien@example.ie", send: "o'brien@example.ie", key: "o'brien@example.ie"},
		{in: "a-b_c@x-y.example.no", send: "a-b_c@x-y.example.no", key: "a-b_c@x-y.example.no"},
		{in: "1@2a.no", send: "1@2a.no", key: "1@2a.no"},
		{in: "åse.ødegård@nav.no", send: "åse.ødegård@nav.no", key: "åse.ødegård@nav.no", utf8: true},
		// the same person typed with a combining ring (NFD) is one key
		{in: "a\u030ase@nav.no", send: "åse@nav.no", key: "åse@nav.no", utf8: true},
		{in: long + "@example.no", send: long + "@example.no", key: long + "@example.no"},

		// refused: not an address, or not one we can send to
		{in: "", err: ErrAddressInvalid},
		{in: "ola", err: ErrAddressInvalid},
		{in: "ola@", err: ErrAddressInvalid},
		{in: "@example.no", err: ErrAddressInvalid},
		{in: "ola@@example.no", err: ErrAddressInvalid},
		{in: "ola@kari@example.no", err: ErrAddressInvalid},
		{in: "Ola <ola@example.no>", err: ErrAddressInvalid},
		{in: "<ola@example.no>", err: ErrAddressInvalid},
		{in: `"ola nordmann"@example.no`, err: ErrAddressInvalid},
		{in: `"ola"@example.no`, err: ErrAddressInvalid},
		{in: "ola nordmann@example.no", err: ErrAddressInvalid},
		{in: "ola@example.no (Ola)", err: ErrAddressInvalid},
		{in: "ola@example.no\r\nBcc: x@example.no", err: ErrAddressInvalid},
		{in: "ola\x00@example.no", err: ErrAddressInvalid},
		{in: "ola\u00a0n@example.no", err: ErrAddressInvalid},
		{in: "o\u200bla@example.no", err: ErrAddressInvalid}, // zero-width space
		{in: "ola\u202e@example.no", err: ErrAddressInvalid}, // right-to-left override
		{in: "ola\u2066@example.no", err: ErrAddressInvalid}, // bidi isolate
		{in: "ola\u00ad@example.no", err: ErrAddressInvalid}, // soft hyphen
		{in: "ola@exa\u200dmple.no", err: ErrAddressInvalid}, // zero-width joiner
		{in: "ola\ue000@example.no", err: ErrAddressInvalid}, // private use
		{in: "ola\xff@example.no", err: ErrAddressInvalid},   // not UTF-8
		{in: "ola\u2028@example.no", err: ErrAddressInvalid}, // line separator
		{in: "ola😀@example.no", err: ErrAddressInvalid},      // not a letter or digit
		{in: ".ola@example.no", err: ErrAddressInvalid},
		{in: "ola.@example.no", err: ErrAddressInvalid},
		{in: "ola..nordmann@example.no", err: ErrAddressInvalid},
		{in: "ola(x)@example.no", err: ErrAddressInvalid},
		{in: `ola\x@example.no`, err: ErrAddressInvalid},
		{in: "ola@localhost", err: ErrAddressInvalid},
		{in: "ola@.example.no", err: ErrAddressInvalid},
		{in: "ola@example.no.", err: ErrAddressInvalid},
		{in: "ola@example..no", err: ErrAddressInvalid},
		{in: "ola@-x.no", err: ErrAddressInvalid},
		{in: "ola@x.-no", err: ErrAddressInvalid},
		{in: "ola@x.no-", err: ErrAddressInvalid},
		{in: "ola@127.0.0.1", err: ErrAddressInvalid},
		{in: "ola@example.123", err: ErrAddressInvalid},
		{in: "ola@exa mple.no", err: ErrAddressInvalid},
		{in: "ola@exa+mple.no", err: ErrAddressInvalid},
		{in: "ola@xn--zz.no", err: ErrAddressInvalid}, // not valid punycode
		{in: "ola@" + strings.Repeat("a", 64) + ".no", err: ErrAddressTooLong},
		{in: long + "a@example.no", err: ErrAddressTooLong},
		{in: "ø" + long[1:] + "@example.no", err: ErrAddressTooLong}, // 64 characters, 65 octets
		{in: "ola@" + strings.Repeat("abcdefghi.", 25) + "no", err: ErrAddressTooLong},
	} {
		a, err := ParseAddress(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrAddressInvalid) {
				t.Errorf("ParseAddress(%q) = %+v, %v; want an error wrapping %v", tc.in, a, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "@") {
				t.Errorf("ParseAddress(%q): the error %q repeats the address", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tc.in, err)
			continue
		}
		if a.Typed != strings.TrimSpace(tc.in) || a.Send != tc.send || a.Key != tc.key || a.UTF8 != tc.utf8 {
			t.Errorf("ParseAddress(%q) = %+v; want send %q, key %q, utf8 %v", tc.in, a, tc.send, tc.key, tc.utf8)
		}
		// the parser accepts its own output, to the same key
		for _, again := range []string{a.Send, a.Key} {
			b, err := ParseAddress(again)
			if err != nil || b.Key != a.Key {
				t.Errorf("ParseAddress(%q) (from %q) = %+v, %v; want key %q", again, tc.in, b, err, a.Key)
			}
		}
	}
}

// TestAddressForRelay is the rule the forms apply: a UTF-8 local part only
// when the relay takes SMTPUTF8; a domain in any script either way, since it
// is sent as an A-label.
func TestAddressForRelay(t *testing.T) {
	for _, tc := range []struct {
		in        string
		relayUTF8 bool
		want      error
	}{
		{"bjørn@example.no", true, nil},
		{"bjørn@example.no", false, ErrAddressNeedsUTF8},
		{"ola@bærum.no", false, nil},
		{"ola@example.no", false, nil},
		{"a@x_y.no", true, ErrAddressInvalid},
	} {
		_, err := ParseAddressFor(tc.in, tc.relayUTF8)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("ParseAddressFor(%q, %v) = %v, want %v", tc.in, tc.relayUTF8, err, tc.want)
		}
	}
	if _, err := ParseAddressFor("bjørn@example.no", false); errors.Is(err, ErrAddressInvalid) {
		t.Error("an address that needs SMTPUTF8 is reported as invalid: the form would say the wrong thing")
	}
}

// TestNormalizeAddress: the key for lookups, the same for both spellings of
// a domain; what is not an address (an erased placeholder) is lower-cased.
func TestNormalizeAddress(t *testing.T) {
	for in, want := range map[string]string{
		"Ola@Bærum.NO":        "ola@xn--brum-voa.no",
		"ola@xn--brum-voa.no": "ola@xn--brum-voa.no",
		"ØYVIND@example.no":   "øyvind@example.no",
		" erased-7@invalid ":  "erased-7@invalid",
	} {
		if got := NormalizeAddress(in); got != want {
			t.Errorf("NormalizeAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkParseAddress: NormalizeEmail runs it inside the single writer
// for every sign-up, so it must stay far below the cost of the insert.
func BenchmarkParseAddress(b *testing.B) {
	for _, addr := range []string{"kari.nordmann@vegvesen.no", "ola@bærum.no", "bjørn@example.no"} {
		b.Run(addr, func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseAddress(addr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

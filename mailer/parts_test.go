package mailer

// Tests of the pure parts: the configuration, address validation and the
// backoff.

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Host: "smtp.example.no", TLS: TLSStartTLS, User: "u", Password: "p", From: "moteplass@example.no", FromName: "Møteplass"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"complete", func(*Config) {}, ""},
		{"no host: mail is held", func(c *Config) { *c = Config{From: "moteplass@example.no"} }, ""},
		{"no from", func(c *Config) { c.From = "" }, "from address"},
		{"from with a name", func(c *Config) { c.From = "Møteplass <moteplass@example.no>" }, "from address"},
		{"line break in from name", func(c *Config) { c.FromName = "Møteplass\r\nBcc: x@example.com" }, "line break"},
		{"unknown TLS mode", func(c *Config) { c.TLS = "ssl" }, "TLS must be"},
		{"empty TLS mode", func(c *Config) { c.TLS = "" }, "TLS must be"},
		{"port out of range", func(c *Config) { c.Port = 70000 }, "out of range"},
		{"password without user", func(c *Config) { c.User = "" }, "without a user"},
		{"credentials without TLS", func(c *Config) { c.TLS = TLSNone }, "need TLS"},
		{"plain relay without credentials", func(c *Config) { c.TLS, c.User, c.Password = TLSNone, "", "" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want an error with %q", err, tt.want)
			}
		})
	}
	ports := map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}
	for mode, want := range ports {
		if got := (Config{TLS: mode}).port(); got != want {
			t.Errorf("default port for %s = %d, want %d", mode, got, want)
		}
	}
}

func TestValidateAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"ola@example.no":         true,
		"ola.nordmann+mote@x.no": true,
		"ola@blåbær.no":          true,
		"øyvind@example.no":      true, // sent if the relay offers SMTPUTF8
		"Ola <ola@example.no>":   false,
		"ola@example.no\r\nBcc:": false,
		"ola@[127.0.0.1]":        false,
		"ola":                    false,
		"":                       false,
	} {
		if err := ValidateAddress(addr); (err == nil) != ok {
			t.Errorf("ValidateAddress(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestExponentialBackoff(t *testing.T) {
	backoff := ExponentialBackoff(30*time.Second, 2*time.Hour)
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(30*time.Second<<min(attempt-1, 20), 2*time.Hour)
		for range 50 {
			got := backoff(attempt)
			if got < ceiling/2 || got > ceiling {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", attempt, got, ceiling/2, ceiling)
			}
		}
	}
}

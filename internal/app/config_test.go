package app_test

import (
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := app.LoadConfig(env(nil))
	if err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	d := app.DefaultConfig()
	if c.Addr != d.Addr || c.DB != d.DB || c.BaseURL != d.BaseURL || c.Demo != "auto" || c.SignupRate != d.SignupRate || c.LogLevel != "info" {
		t.Errorf("defaults %+v", c)
	}
	if c.HTTPS() {
		t.Error("the default site is not https")
	}
}

func TestLoadConfigReadsTheEnvironment(t *testing.T) {
	c, err := app.LoadConfig(env(map[string]string{
		"MOTEPLASS_ADDR":            " 127.0.0.1:9000 ",
		"MOTEPLASS_DB":              "data/m.db",
		"MOTEPLASS_BASE_URL":        "https://moteplass.example.no/",
		"MOTEPLASS_DEMO":            "off",
		"MOTEPLASS_SIGNUP_RATE":     "0",
		"MOTEPLASS_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
		"MOTEPLASS_LOG_LEVEL":       "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DB != "data/m.db" || c.Demo != "off" || c.SignupRate != 0 || c.LogLevel != "debug" || c.TrustedProxies != "10.0.0.0/8, ::1" {
		t.Errorf("%+v", c)
	}
	if c.BaseURL != "https://moteplass.example.no" {
		t.Errorf("BaseURL %q: the trailing slash should go", c.BaseURL)
	}
	if !c.HTTPS() {
		t.Error("an https base URL is https")
	}
}

func TestLoadConfigRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		name, value string
		why         string // what would go wrong if it were accepted (for the message)
	}{
		{"MOTEPLASS_ADDR", "8080", ""},
		{"MOTEPLASS_ADDR", "localhost", ""},
		{"MOTEPLASS_ADDR", "http://localhost:8080", ""},
		{"MOTEPLASS_ADDR", ":abc", "a port that is not a number would fail only at Listen"},
		{"MOTEPLASS_ADDR", ":99999", "a port above 65535 would fail only at Listen"},
		{"MOTEPLASS_BASE_URL", "moteplass.example.no", ""},
		{"MOTEPLASS_BASE_URL", "ftp://moteplass.example.no", ""},
		{"MOTEPLASS_BASE_URL", "https://", ""},
		{"MOTEPLASS_BASE_URL", "https://moteplass.example.no/app", ""},
		{"MOTEPLASS_BASE_URL", "https://moteplass.example.no/?x=1", "every link would carry the query"},
		{"MOTEPLASS_BASE_URL", "https://moteplass.example.no/#top", "every link would carry the fragment"},
		{"MOTEPLASS_BASE_URL", "http://exa mple.no", ""},
		{"MOTEPLASS_DEMO", "yes", ""},
		{"MOTEPLASS_DEMO", "true", ""},
		{"MOTEPLASS_SIGNUP_RATE", "-1", ""},
		{"MOTEPLASS_SIGNUP_RATE", "ten", ""},
		{"MOTEPLASS_SIGNUP_RATE", "1.5", ""},
		{"MOTEPLASS_SIGNUP_RATE", "99999999999999999999999", ""},
		{"MOTEPLASS_TRUSTED_PROXIES", "localhost", ""},
		{"MOTEPLASS_TRUSTED_PROXIES", "10.0.0.0/33", ""},
		{"MOTEPLASS_LOG_LEVEL", "verbose", ""},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			_, err := app.LoadConfig(env(map[string]string{c.name: c.value}))
			if err == nil {
				t.Fatalf("accepted (%s)", c.why)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.name) {
				t.Errorf("the error does not name %s: %s", c.name, msg)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("the error is not one line: %q", msg)
			}
			if len(msg) > 300 {
				t.Errorf("the error is %d characters long", len(msg))
			}
		})
	}
}

func TestValidateNamesTheDatabase(t *testing.T) {
	c := app.DefaultConfig()
	c.DB = ""
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "MOTEPLASS_DB") {
		t.Fatalf("empty DB: %v", err)
	}
}

// TestTheBaseURLFollowsTheAddress: with no MOTEPLASS_BASE_URL, the links
// in pages and emails point where the server listens, so moving it to
// another port on one's own machine keeps every link working.
func TestTheBaseURLFollowsTheAddress(t *testing.T) {
	for _, tc := range []struct{ addr, base, want string }{
		{"", "", "http://localhost:8080"},
		{":9000", "", "http://localhost:9000"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"127.0.0.1:8091", "", "http://127.0.0.1:8091"},
		{"[::1]:8092", "", "http://[::1]:8092"},
		{":9000", "https://moteplass.example.no", "https://moteplass.example.no"}, // set: kept
	} {
		c, err := app.LoadConfig(env(map[string]string{"MOTEPLASS_ADDR": tc.addr, "MOTEPLASS_BASE_URL": tc.base}))
		if err != nil {
			t.Fatalf("%q: %v", tc.addr, err)
		}
		if c.BaseURL != tc.want {
			t.Errorf("MOTEPLASS_ADDR %q, MOTEPLASS_BASE_URL %q: base URL %q, want %q", tc.addr, tc.base, c.BaseURL, tc.want)
		}
	}
}

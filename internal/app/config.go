package app

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/moteplass/moteplass/internal/web"
)

// Config is every setting, read from the environment. Defaults need nothing
// set: `go run ./cmd/moteplass` serves the demo at http://localhost:8080.
type Config struct {
	Addr           string // MOTEPLASS_ADDR
	DB             string // MOTEPLASS_DB
	BaseURL        string // MOTEPLASS_BASE_URL
	Demo           string // MOTEPLASS_DEMO: auto or off
	SignupRate     int    // MOTEPLASS_SIGNUP_RATE: sign-ups per address per minute, 0 = off
	TrustedProxies string // MOTEPLASS_TRUSTED_PROXIES
	LogLevel       string // MOTEPLASS_LOG_LEVEL: debug, info, warn, error
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		Addr:       ":8080",
		DB:         "moteplass.db",
		BaseURL:    "http://localhost:8080",
		Demo:       "auto",
		SignupRate: 10,
		LogLevel:   "info",
	}
}

// LoadConfig reads the environment (through getenv, so tests can pass their own).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	var errs []string
	num := func(name string, dst *int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Sprintf("%s must be a whole number of 0 or more, not %q", name, v))
			return
		}
		*dst = n
	}
	str("MOTEPLASS_ADDR", &c.Addr)
	str("MOTEPLASS_DB", &c.DB)
	str("MOTEPLASS_BASE_URL", &c.BaseURL)
	str("MOTEPLASS_DEMO", &c.Demo)
	num("MOTEPLASS_SIGNUP_RATE", &c.SignupRate)
	str("MOTEPLASS_TRUSTED_PROXIES", &c.TrustedProxies)
	str("MOTEPLASS_LOG_LEVEL", &c.LogLevel)
	if len(errs) > 0 {
		return c, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return c, c.Validate()
}

// Validate checks the settings and says what is wrong in one line.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("MOTEPLASS_ADDR must be host:port such as :8080, not %q", c.Addr)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("MOTEPLASS_BASE_URL must be an http(s) URL with no path, such as https://moteplass.example.no, not %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Demo != "auto" && c.Demo != "off" {
		return fmt.Errorf("MOTEPLASS_DEMO must be auto or off, not %q", c.Demo)
	}
	if c.DB == "" {
		return fmt.Errorf("MOTEPLASS_DB must name a database file")
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("MOTEPLASS_TRUSTED_PROXIES: %v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("MOTEPLASS_LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return nil
}

// HTTPS reports whether the site is served over https (secure cookies, HSTS).
func (c Config) HTTPS() bool { return strings.HasPrefix(c.BaseURL, "https://") }

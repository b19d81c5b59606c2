package app

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// Config is every setting, read from the environment. Defaults need nothing
// set: `go run ./cmd/moteplass` serves the demo at http://localhost:8080.
type Config struct {
	Addr string // MOTEPLASS_ADDR
	DB   string // MOTEPLASS_DB: a SQLite file, or a postgres:// URL
	// DBReadConns (MOTEPLASS_DB_READ_CONNS) bounds the read pool;
	// DBLockTimeout and DBStatementTimeout (MOTEPLASS_DB_LOCK_TIMEOUT,
	// MOTEPLASS_DB_STATEMENT_TIMEOUT, PostgreSQL) how long a statement
	// waits for a row lock, or runs, before the user is asked to try again.
	DBReadConns                       int
	DBLockTimeout, DBStatementTimeout time.Duration
	BaseURL                           string // MOTEPLASS_BASE_URL
	Demo                              string // MOTEPLASS_DEMO: auto or off
	SignupRate                        int    // MOTEPLASS_SIGNUP_RATE: sign-ups per address per minute, 0 = off
	TrustedProxies                    string // MOTEPLASS_TRUSTED_PROXIES
	LogLevel                          string // MOTEPLASS_LOG_LEVEL: debug, info, warn, error

	SMTPHost      string // MOTEPLASS_SMTP_HOST: empty keeps mail in the outbox (development mailbox)
	SMTPPort      int    // MOTEPLASS_SMTP_PORT: 0 = the usual port for the TLS mode
	SMTPUser      string // MOTEPLASS_SMTP_USER
	SMTPPassword  string // MOTEPLASS_SMTP_PASSWORD
	SMTPTLS       string // MOTEPLASS_SMTP_TLS: none, starttls, tls
	MailFrom      string // MOTEPLASS_MAIL_FROM
	ReminderHours int    // MOTEPLASS_REMINDER_HOURS: reminders this long before an event

	MetricsToken string // MOTEPLASS_METRICS_TOKEN: when set, /metrics wants "Authorization: Bearer TOKEN"

	ControllerName  string // MOTEPLASS_CONTROLLER_NAME: who is responsible for the personal data
	ControllerEmail string // MOTEPLASS_CONTROLLER_EMAIL: where people ask about it
	RetentionDays   int    // MOTEPLASS_RETENTION_DAYS: personal data is anonymised this long after an event
	// SecurityContact is where vulnerabilities are reported
	// (MOTEPLASS_SECURITY_CONTACT, /.well-known/security.txt); the
	// controller's address when unset.
	SecurityContact string
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

		SMTPTLS:       "starttls",
		MailFrom:      "moteplass@localhost",
		ReminderHours: 48,

		ControllerName:  "Møteplass (demo)",
		ControllerEmail: "personvern@moteplass.example.no",
		RetentionDays:   180,
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
	num("MOTEPLASS_DB_READ_CONNS", &c.DBReadConns)
	dur := func(name string, dst *time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s must be a duration such as 5s, not %q", name, v))
			return
		}
		*dst = d
	}
	dur("MOTEPLASS_DB_LOCK_TIMEOUT", &c.DBLockTimeout)
	dur("MOTEPLASS_DB_STATEMENT_TIMEOUT", &c.DBStatementTimeout)
	str("MOTEPLASS_BASE_URL", &c.BaseURL)
	str("MOTEPLASS_DEMO", &c.Demo)
	num("MOTEPLASS_SIGNUP_RATE", &c.SignupRate)
	str("MOTEPLASS_TRUSTED_PROXIES", &c.TrustedProxies)
	str("MOTEPLASS_LOG_LEVEL", &c.LogLevel)
	str("MOTEPLASS_SMTP_HOST", &c.SMTPHost)
	num("MOTEPLASS_SMTP_PORT", &c.SMTPPort)
	str("MOTEPLASS_SMTP_USER", &c.SMTPUser)
	str("MOTEPLASS_SMTP_PASSWORD", &c.SMTPPassword)
	str("MOTEPLASS_SMTP_TLS", &c.SMTPTLS)
	str("MOTEPLASS_MAIL_FROM", &c.MailFrom)
	num("MOTEPLASS_REMINDER_HOURS", &c.ReminderHours)
	str("MOTEPLASS_METRICS_TOKEN", &c.MetricsToken)
	str("MOTEPLASS_CONTROLLER_NAME", &c.ControllerName)
	str("MOTEPLASS_CONTROLLER_EMAIL", &c.ControllerEmail)
	num("MOTEPLASS_RETENTION_DAYS", &c.RetentionDays)
	str("MOTEPLASS_SECURITY_CONTACT", &c.SecurityContact)
	if strings.TrimSpace(getenv("MOTEPLASS_BASE_URL")) == "" {
		c.BaseURL = localBaseURL(c.Addr, c.BaseURL)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return c, c.Validate()
}

// localBaseURL is the URL of a server listening on addr, as a browser on
// the same machine reaches it: without MOTEPLASS_BASE_URL, links in pages
// and emails follow a changed MOTEPLASS_ADDR (":9000" gives
// http://localhost:9000). An address that is not host:port keeps fallback
// (Validate then says what is wrong).
func localBaseURL(addr, fallback string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return fallback
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// DBOptions are the database settings.
func (c Config) DBOptions() db.Options {
	return db.Options{ReadConns: c.DBReadConns, LockTimeout: c.DBLockTimeout, StatementTimeout: c.DBStatementTimeout}
}

// Validate checks the settings and says what is wrong in one line.
func (c *Config) Validate() error {
	_, port, err := net.SplitHostPort(c.Addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("MOTEPLASS_ADDR must be host:port such as :8080, not %q", c.Addr)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("MOTEPLASS_BASE_URL must be an http(s) URL with no path, such as https://moteplass.example.no, not %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Demo != "auto" && c.Demo != "off" {
		return fmt.Errorf("MOTEPLASS_DEMO must be auto or off, not %q", c.Demo)
	}
	if c.DB == "" {
		return fmt.Errorf("MOTEPLASS_DB must name a database file or a postgres:// URL")
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("MOTEPLASS_TRUSTED_PROXIES: %v", err)
	}
	if err := c.Mail().Validate(); err != nil {
		return fmt.Errorf("MOTEPLASS_SMTP_* / MOTEPLASS_MAIL_FROM: %v", strings.TrimPrefix(err.Error(), "mailer: config: "))
	}
	if c.RetentionDays < 1 {
		return fmt.Errorf("MOTEPLASS_RETENTION_DAYS must be at least 1, not %d", c.RetentionDays)
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

// Mail is the mail relay configuration.
func (c Config) Mail() mailer.Config {
	return mailer.Config{Host: c.SMTPHost, Port: c.SMTPPort, User: c.SMTPUser, Password: c.SMTPPassword,
		TLS: c.SMTPTLS, From: c.MailFrom, FromName: "Møteplass"}
}

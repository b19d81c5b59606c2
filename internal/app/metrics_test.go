package app_test

// /metrics speaks the Prometheus text format (parsed here with the
// Prometheus parser), its counters move with sign-ups and requests, it
// carries no personal data, and MOTEPLASS_METRICS_TOKEN guards it.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// privScrape fetches /metrics (with the bearer token when given) and parses it.
func privScrape(t *testing.T, a *app.App, token string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	a.Router.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	body := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families, body
}

// privValue is the value of the counter (or gauge) name with labels, 0 if absent.
func privValue(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return 0
	}
metrics:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue metrics
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return 0
}

func TestMetricsMoveWithSignUps(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 1)
	before, _ := privScrape(t, a, "")
	for _, name := range []string{"moteplass_http_requests_total", "moteplass_outbox_messages", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[name]; !ok && name != "moteplass_http_requests_total" {
			t.Errorf("no %s", name)
		}
	}
	post := map[string]string{"route": "/events/:slug/registrations", "method": "POST", "status": "303"}
	confirmed := map[string]string{"outcome": "confirmed"}
	waiting := map[string]string{"outcome": "waiting"}

	privSignUp(t, a, ev.Slug, privForm("Marte Målesen", "marte.maal@example.no"))
	privSignUp(t, a, ev.Slug, privForm("Mikkel Målesen", "mikkel.maal@example.no"))
	after, body := privScrape(t, a, "")
	if d := privValue(after, "moteplass_signups_total", confirmed) - privValue(before, "moteplass_signups_total", confirmed); d != 1 {
		t.Errorf("confirmed sign-ups moved by %v, want 1", d)
	}
	if d := privValue(after, "moteplass_signups_total", waiting) - privValue(before, "moteplass_signups_total", waiting); d != 1 {
		t.Errorf("waiting-list sign-ups moved by %v, want 1", d)
	}
	if d := privValue(after, "moteplass_http_requests_total", post) - privValue(before, "moteplass_http_requests_total", post); d != 2 {
		t.Errorf("sign-up requests moved by %v, want 2", d)
	}
	if privValue(after, "moteplass_outbox_messages", map[string]string{"status": "queued"})+
		privValue(after, "moteplass_outbox_messages", map[string]string{"status": "held"}) < 2 {
		t.Error("the outbox gauge does not count the two confirmations")
	}
	for _, s := range []string{"Målesen", "maal@example.no", ev.Slug, "/r/"} {
		if strings.Contains(body, s) {
			t.Errorf("/metrics holds %q", s)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	const token = "hemmelig-maaletoken-123"
	a := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.MetricsToken = token }})
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer feil", http.StatusUnauthorized},
		{token, http.StatusUnauthorized},
		{"Basic " + token, http.StatusUnauthorized},
		{"Bearer " + token, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		a.Router.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("Authorization %q: %d, want %d", c.auth, rec.Code, c.want)
		}
		if rec.Code == http.StatusUnauthorized && (strings.Contains(rec.Body.String(), "moteplass_") || rec.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("Authorization %q: the 401 shows metrics or lacks WWW-Authenticate", c.auth)
		}
	}
	families, _ := privScrape(t, a, token)
	if _, ok := families["moteplass_http_requests_total"]; !ok {
		t.Error("no request counter with the token")
	}
}

// Package metrics exposes the application's numbers in the Prometheus text
// format at /metrics: requests by route and status with their latency, and
// the domain's own counters. Gauges that live in the database (the outbox
// queue) are read when scraped, so they cannot drift.
package metrics

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one application.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// Signups counts registrations by outcome (confirmed, waiting).
	Signups *prometheus.CounterVec
	// Promotions counts people moved from the waiting list to a place.
	Promotions prometheus.Counter
	// MatchingRuns counts runs of the introductions matching.
	MatchingRuns prometheus.Counter
}

// New registers the collectors. db is read at scrape time for the outbox.
func New(db *sql.DB) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moteplass_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moteplass_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"route"}),
		Signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moteplass_signups_total", Help: "Registrations by outcome.",
		}, []string{"outcome"}),
		Promotions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moteplass_waitlist_promotions_total", Help: "People moved from a waiting list to a place.",
		}),
		MatchingRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moteplass_matching_runs_total", Help: "Runs of the introductions matching.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.Signups, m.Promotions, m.MatchingRuns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(outboxCollector{db: db})
	return m
}

// CountNotice counts what a registrant is told: a sign-up (confirmed or
// waiting) or a promotion from the waiting list.
func (m *Metrics) CountNotice(kind string) {
	switch kind {
	case "confirmed", "waiting":
		m.Signups.WithLabelValues(kind).Inc()
	case "promoted":
		m.Promotions.Inc()
	}
}

// Middleware counts and times every request by its route pattern (never
// the path: manage links carry secrets).
func (m *Metrics) Middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

// Handler serves /metrics, behind a bearer token when token is set.
func (m *Metrics) Handler(token string) gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) {
		if token != "" {
			got := c.GetHeader("Authorization")
			if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+token)) != 1 {
				c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
				c.String(http.StatusUnauthorized, "metrics need a bearer token\n")
				return
			}
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// outboxCollector reads the outbox's state when scraped.
type outboxCollector struct{ db *sql.DB }

var outboxDesc = prometheus.NewDesc("moteplass_outbox_messages", "Messages in the outbox by status (queued, sending, sent, failed, held).", []string{"status"}, nil)

func (o outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc }

func (o outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"queued": 0, "sending": 0, "sent": 0, "failed": 0, "held": 0}
	rows, err := o.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err == nil {
		for rows.Next() {
			var s string
			var n float64
			if rows.Scan(&s, &n) == nil {
				counts[s] = n
			}
		}
		rows.Close()
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, n, s)
	}
}

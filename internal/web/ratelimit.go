package web

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// ClientIP finds the client's address. X-Forwarded-For is honoured only
// when the direct peer is one of the trusted proxies, and then read from the
// right, skipping trusted hops, so a client cannot pick its own address.
type ClientIP struct {
	trusted []netip.Prefix
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDRs.
func ParseTrustedProxies(s string) (ClientIP, error) {
	var ci ClientIP
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return ci, fmt.Errorf("%q is not an IP address or CIDR", part)
			}
			part = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return ci, fmt.Errorf("%q is not an IP address or CIDR", part)
		}
		ci.trusted = append(ci.trusted, p.Masked())
	}
	return ci, nil
}

func (ci ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range ci.trusted {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Of returns the client address of a request.
func (ci ClientIP) Of(c *gin.Context) string {
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	if err != nil {
		host = c.Request.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !ci.isTrusted(peer) {
		return host
	}
	hops := strings.Split(c.GetHeader("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !ci.isTrusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.String()
}

// Limiter is a per-key token bucket (key: a client address, or an account).
// Buckets unused for a while are forgotten so memory stays bounded.
type Limiter struct {
	mu      sync.Mutex
	perMin  int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows perMinute events per key per minute, with that many in a
// burst. perMinute 0 turns the limit off.
func NewLimiter(perMinute int) *Limiter {
	return &Limiter{perMin: perMinute, buckets: map[string]*bucket{}}
}

// Allow reports whether key may act now, and counts the act.
func (l *Limiter) Allow(key string) bool {
	if l == nil || l.perMin <= 0 {
		return true
	}
	return l.bucket(key).AllowN(time.Now(), 1)
}

// Exhausted reports whether key has no acts left now, without counting one:
// for limits that only failures count against (wrong passwords).
func (l *Limiter) Exhausted(key string) bool {
	if l == nil || l.perMin <= 0 {
		return false
	}
	return l.bucket(key).TokensAt(time.Now()) < 1
}

func (l *Limiter) bucket(key string) *rate.Limiter {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

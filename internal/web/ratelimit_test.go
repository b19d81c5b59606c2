package web_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
)

func TestParseTrustedProxies(t *testing.T) {
	for _, s := range []string{"", " ", "10.0.0.0/8", "10.0.0.1", "10.0.0.1/8", " 10.0.0.0/8 , 192.168.1.1 ,", "::1", "2001:db8::/32", "127.0.0.1,::1"} {
		if _, err := web.ParseTrustedProxies(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"abc", "10.0.0.0/33", "10.0.0", "10.0.0.0/8,nope", "localhost", "::1/129", "*"} {
		if _, err := web.ParseTrustedProxies(s); err == nil {
			t.Errorf("%q was accepted", s)
		}
	}
}

func TestClientIP(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted string
		remote  string
		xff     string
		want    string
	}{
		{"no proxies: the peer", "", "203.0.113.7:5555", "", "203.0.113.7"},
		{"no proxies: a spoofed header is ignored", "", "203.0.113.7:5555", "1.2.3.4", "203.0.113.7"},
		{"an untrusted peer cannot spoof", "10.0.0.0/8", "203.0.113.7:5555", "1.2.3.4", "203.0.113.7"},
		{"a trusted proxy: the client it saw", "10.0.0.0/8", "10.0.0.5:443", "198.51.100.9", "198.51.100.9"},
		{"a trusted proxy: what the client wrote is ignored", "10.0.0.0/8", "10.0.0.5:443", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"trusted hops are skipped", "10.0.0.0/8", "10.0.0.5:443", "198.51.100.9, 10.0.0.7", "198.51.100.9"},
		{"a trusted proxy without the header: the proxy", "10.0.0.0/8", "10.0.0.5:443", "", "10.0.0.5"},
		{"only trusted hops: the peer", "10.0.0.0/8", "10.0.0.5:443", "10.0.0.8", "10.0.0.5"},
		{"garbage in the header: the peer", "10.0.0.0/8", "10.0.0.5:443", "garbage", "10.0.0.5"},
		{"garbage to the right stops the walk", "10.0.0.0/8", "10.0.0.5:443", "198.51.100.9, garbage", "10.0.0.5"},
		{"one trusted address", "192.168.1.1", "192.168.1.1:80", "198.51.100.9", "198.51.100.9"},
		{"a neighbour of the trusted address is not trusted", "192.168.1.1", "192.168.1.2:80", "198.51.100.9", "192.168.1.2"},
		{"IPv6 peer and client", "::1", "[::1]:1234", "2001:db8::1", "2001:db8::1"},
		{"an IPv4-mapped peer is the IPv4 proxy", "127.0.0.1", "[::ffff:127.0.0.1]:80", "198.51.100.9", "198.51.100.9"},
		{"an IPv4-mapped client is written as IPv4", "127.0.0.1", "127.0.0.1:80", "::ffff:198.51.100.9", "198.51.100.9"},
		{"a peer without a port", "", "198.51.100.2", "1.2.3.4", "198.51.100.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ci, err := web.ParseTrustedProxies(c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			g, _ := gin.CreateTestContext(httptest.NewRecorder())
			g.Request = httptest.NewRequest(http.MethodGet, "/", nil)
			g.Request.RemoteAddr = c.remote
			if c.xff != "" {
				g.Request.Header.Set("X-Forwarded-For", c.xff)
			}
			g.Request.Header.Set("X-Real-IP", "9.9.9.9") // never read
			if got := ci.Of(g); got != c.want {
				t.Errorf("Of = %q, want %q", got, c.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		var nilLimiter *web.Limiter
		off := web.NewLimiter(0)
		for i := 0; i < 1000; i++ {
			if !off.Allow("a") || !nilLimiter.Allow("a") {
				t.Fatal("a limit that is off refused")
			}
		}
	})
	t.Run("a burst of perMinute, then no", func(t *testing.T) {
		l := web.NewLimiter(3)
		for i := 0; i < 3; i++ {
			if !l.Allow("198.51.100.1") {
				t.Fatalf("attempt %d refused", i+1)
			}
		}
		// the next token comes after 20 s; no test runs that slowly
		if l.Allow("198.51.100.1") {
			t.Fatal("a fourth attempt in a row was allowed")
		}
		if !l.Allow("198.51.100.2") {
			t.Fatal("one address's limit hit another")
		}
	})
	t.Run("exact under concurrency", func(t *testing.T) {
		l := web.NewLimiter(10)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if l.Allow("same") {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 10 {
			t.Fatalf("%d allowed, want exactly 10", n)
		}
	})
}

package organisers

import (
	"strings"
	"testing"
)

// safeNext keeps the login's "go back to" address on this site. Browsers
// drop tabs, line breaks and some invisible characters from a URL before
// they read it, so "/\t/evil.example/" is "//evil.example/" to them: another
// host. Every case here is a URL a stranger can put in a link to our login.
func TestSafeNext(t *testing.T) {
	tests := []struct {
		name, next, want string
	}{
		// good: our own pages, as Require sends them
		{"a page", "/admin/audit", "/admin/audit"},
		{"a page with a query", "/admin/events/3/attendees?sort=name", "/admin/events/3/attendees?sort=name"},
		{"a page with an escaped query", "/admin/events?q=Bergen%20kommune&page=2", "/admin/events?q=Bergen%20kommune&page=2"},
		{"a fragment", "/admin/events/3#attendees", "/admin/events/3#attendees"},
		{"an escaped space in the path", "/admin/a%20page", "/admin/a%20page"},
		{"non-ASCII in the path", "/arrangementer/møte", "/arrangementer/møte"},
		{"the root", "/", "/"},
		{"nothing", "", ""},

		// what browsers read as another host
		{"protocol-relative", "//evil.example", ""},
		{"protocol-relative with a path", "//evil.example/admin", ""},
		{"backslash (browsers read it as a slash)", "/\\evil.example", ""},
		{"backslash later in the path", "/admin\\..\\\\evil.example", ""},
		{"tab between the slashes", "/\t/evil.example/", ""},
		{"line feed between the slashes", "/\n/evil", ""},
		{"carriage return between the slashes", "/\r/evil", ""},
		{"NUL between the slashes", "/\x00/evil", ""},
		{"DEL between the slashes", "/\x7f/evil", ""},
		{"C1 control between the slashes", "/\u0085/evil", ""},
		{"zero-width space between the slashes", "/\u200b/evil.example", ""},
		{"byte order mark between the slashes", "/\ufeff/evil.example", ""},
		{"right-to-left mark between the slashes", "/\u200f/evil.example", ""},
		{"soft hyphen between the slashes", "/\u00ad/evil.example", ""},
		{"leading space", " //evil.example", ""},
		{"leading tab", "\t//evil.example", ""},
		{"no-break space", "/\u00a0/evil.example", ""},

		// other schemes and hosts
		{"absolute https", "https://evil.example", ""},
		{"absolute http with our path", "http://evil.example/admin", ""},
		{"scheme-relative with credentials", "//user@evil.example", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"javascript with a leading slash missing", "JaVaScRiPt:alert(1)", ""},
		{"data", "data:text/html,<script>alert(1)</script>", ""},
		{"relative path", "admin/audit", ""},
		{"dot path", "./admin", ""},

		// escaped: the browser does not decode %09 or %2F when it resolves a
		// Location, so these would stay on our site; they are refused all the
		// same, since no page of ours has a control character, a backslash or
		// an empty first segment, and something between us and the browser
		// might decode them.
		{"escaped tab between the slashes", "/%09/evil.example/", ""},
		{"escaped slash", "/%2F/evil.example", ""},
		{"escaped backslash", "/%5Cevil.example", ""},
		{"escaped line feed", "/admin%0a/x", ""},

		// not text
		{"invalid UTF-8", "/admin/\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeNext(tt.next); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}

	t.Run("a tab inside a path of ours is dropped, as the browser would", func(t *testing.T) {
		if got := safeNext("/admin/\taudit"); got != "/admin/audit" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("a very long address is refused", func(t *testing.T) {
		long := "/admin/" + strings.Repeat("a", 3000)
		if got := safeNext(long); got != "" {
			t.Errorf("a %d-byte next was kept", len(long))
		}
	})
}

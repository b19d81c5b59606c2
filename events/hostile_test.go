package events_test

// A table of hostile inputs to the public pages that must never produce a
// 5xx, through the real router and the demo data.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

// badInput is a request that must be answered without a 5xx.
type badInput struct {
	name   string
	method string
	target string
	header []string
	want   []int  // acceptable statuses
	notice string // the filter label a notice must name ("" = no notice expected)
	absent []string
}

func TestHostileInputNeverFails(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	long := strings.Repeat("a", 10<<10)
	ok, bad, nf := []int{200}, []int{400}, []int{404}
	script := "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	cases := []badInput{
		{name: "unknown format", target: "/?format=webinar", want: bad, notice: "Type"},
		{name: "unknown level", target: "/?level=ceo", want: bad, notice: "Ledernivå"},
		{name: "unknown role", target: "/?role=chef", want: bad, notice: "Fagområde"},
		{name: "unknown theme", target: "/?theme=sport", want: bad, notice: "Tema"},
		{name: "price as a number", target: "/?price=0", want: bad, notice: "Pris"},
		{name: "access as a boolean", target: "/?access=true", want: bad, notice: "Påmelding"},
		{name: "mode hybrid is not a filter value", target: "/?mode=hybrid", want: bad, notice: "Form"},
		{name: "page=0", target: "/?page=0", want: bad, notice: "side"},
		{name: "page=-1", target: "/?page=-1", want: bad, notice: "side"},
		{name: "page=10^9", target: "/?page=1000000000", want: bad, notice: "side"},
		{name: "page=10^30", target: "/?page=1000000000000000000000000000000", want: bad, notice: "side"},
		{name: "page=abc", target: "/?page=abc", want: bad, notice: "side"},
		{name: "page=1.5", target: "/?page=1.5", want: bad, notice: "side"},
		{name: "the deepest page allowed", target: "/?page=1000", want: ok},
		{name: "10 kB format", target: "/?format=" + long, want: bad, notice: "Type"},
		{name: "10 kB region", target: "/?region=" + long, want: bad, notice: "Region"},
		{name: "10 kB unknown parameter", target: "/?x=" + long, want: ok},
		{name: "invalid UTF-8 format", target: "/?format=%ff%fe", want: bad, notice: "Type"},
		{name: "invalid UTF-8 region", target: "/?region=%ff%fe", want: bad, notice: "Region"},
		{name: "invalid UTF-8 date", target: "/?from=%ff%fe", want: bad, notice: "Fra dato"},
		{name: "SQL in region", target: "/?region=oslo'%20OR%20'1'='1", want: bad, notice: "Region"},
		{name: "SQL in format", target: "/?format=conference'%3B%20DROP%20TABLE%20events%3B--", want: bad, notice: "Type"},
		{name: "SQL in organiser", target: "/?organiser=x%22%20OR%201%3D1", want: bad, notice: "Arrangør"},
		{name: "script in format", target: "/?format=" + script, want: bad, notice: "Type", absent: []string{"<script>alert(1)"}},
		{name: "script in an unknown parameter", target: "/?x=" + script, want: ok, absent: []string{"<script>alert(1)"}},
		{name: "attribute breakout in from", target: "/?from=%22%3E%3Cimg%20src%3Dx%3E", want: bad, notice: "Fra dato", absent: []string{`"><img src=x>`}},
		{name: "null byte in format", target: "/?format=%00", want: bad, notice: "Type"},
		{name: "null byte in region", target: "/?region=osl%00o", want: bad, notice: "Region"},
		{name: "repeated parameter, good first", target: "/?format=conference&format=webinar", want: ok},
		{name: "repeated parameter, bad first", target: "/?format=webinar&format=conference", want: bad, notice: "Type"},
		{name: "unknown region slug", target: "/?region=atlantis", want: bad, notice: "Region"},
		{name: "region in capitals", target: "/?region=Oslo", want: bad, notice: "Region"},
		{name: "month 13, day 45", target: "/?from=2026-13-45", want: bad, notice: "Fra dato"},
		{name: "30 February", target: "/?to=2026-02-30", want: bad, notice: "Til dato"},
		{name: "a date in words", target: "/?from=yesterday", want: bad, notice: "Fra dato"},
		{name: "a Norwegian date", target: "/?from=07.01.2027", want: bad, notice: "Fra dato"},
		{name: "several bad values at once", target: "/?format=x&level=y&page=z", want: bad, notice: "Ledernivå"},
		{name: "unknown language", target: "/?lang=xx", want: ok},
		{name: "script as language", target: "/?lang=" + script, want: ok, absent: []string{"<script>alert(1)"}},
		{name: "garbage Accept-Language", target: "/", header: []string{"Accept-Language", strings.Repeat(";q=,", 2000)}, want: ok},
		{name: "garbage lang cookie", target: "/", header: []string{"Cookie", "lang=%3Cscript%3E"}, want: ok},
		{name: "garbage csrf cookie", target: "/", header: []string{"Cookie", "csrf=" + long}, want: ok},
		{name: "region page with a bad filter", target: "/regions/oslo?format=x", want: bad, notice: "Type"},
		{name: "unknown region page", target: "/regions/atlantis", want: nf},
		{name: "encoded slashes in a region", target: "/regions/%2F..%2F..%2Fetc%2Fpasswd", want: nf},
		{name: "very long region", target: "/regions/" + long, want: nf},
		{name: "encoded slash in an event slug", target: "/events/a%2Fb", want: nf},
		{name: "path traversal in an event slug", target: "/events/..%2F..%2Fgo.mod", want: nf},
		{name: "very long event slug", target: "/events/" + long, want: nf},
		{name: "invalid UTF-8 event slug", target: "/events/%ff%fe", want: nf},
		{name: "null byte event slug", target: "/events/%00", want: nf},
		{name: "SQL event slug", target: "/events/x'%20OR%20'1'%3D'1", want: nf},
		{name: "script event slug", target: "/events/" + script, want: nf, absent: []string{"<script>alert(1)"}},
		{name: "unicode event slug", target: "/events/m%C3%B8te", want: nf},
		{name: "unknown organiser", target: "/organisers/" + long, want: nf},
		{name: "static path traversal", target: "/static/x/../../go.mod", want: nf},
		{name: "static encoded traversal", target: "/static/x/..%2f..%2flocales%2fcommon.nb.toml", want: nf},
		{name: "static dot-dot into another folder", target: "/static/x/../locales/common.nb.toml", want: nf},
		{name: "static folder", target: "/static/x/", want: nf},
		{name: "static null byte", target: "/static/x/style.css%00.png", want: nf},
		{name: "HEAD on the front page", method: http.MethodHead, target: "/", want: []int{200, 405}},
		{name: "HEAD on an event", method: http.MethodHead, target: "/events/partnerforum-styring-og-ledelse", want: []int{200, 405}},
		{name: "POST on the front page", method: http.MethodPost, target: "/", want: []int{403, 405}},
		{name: "PUT on an event", method: http.MethodPut, target: "/events/partnerforum-styring-og-ledelse", want: []int{403, 405}},
		{name: "DELETE on a region", method: http.MethodDelete, target: "/regions/oslo", want: []int{403, 405}},
	}
	if len(cases) < 20 {
		t.Fatal("the table must have at least 20 cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			rec := request(t, a.Router, method, c.target, c.header...)
			if rec.Code >= 500 {
				t.Fatalf("%s %.80s: %d", method, c.target, rec.Code)
			}
			if !slices.Contains(c.want, rec.Code) {
				t.Fatalf("%s %.80s: status %d, want one of %v", method, c.target, rec.Code, c.want)
			}
			checkSecurityHeaders(t, rec)
			body := rec.Body.String()
			for _, s := range c.absent {
				if strings.Contains(body, s) {
					t.Errorf("the page contains %q unescaped", s)
				}
			}
			if rec.Code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if method != http.MethodGet || rec.Code == http.StatusNotFound {
				return
			}
			ns := notices(rec.Body.Bytes())
			if c.notice == "" {
				if len(ns) != 0 {
					t.Errorf("unexpected notices %v", ns)
				}
				if len(cardSlugs(rec.Body.Bytes())) == 0 && !strings.Contains(c.target, "page=1000") {
					t.Error("the list is empty")
				}
				return
			}
			found := false
			for _, n := range ns {
				if strings.Contains(n, "«"+c.notice+"»") {
					found = true
				}
			}
			if !found {
				t.Errorf("no notice naming «%s»: %v", c.notice, ns)
			}
			// the list is still shown, with the bad value left out
			if len(cardSlugs(rec.Body.Bytes())) == 0 {
				t.Error("a bad value emptied the list instead of being ignored")
			}
		})
	}

	t.Run("the notice is in English on English pages", func(t *testing.T) {
		rec := get(t, a.Router, "/?format=webinar&lang=en")
		ns := notices(rec.Body.Bytes())
		if len(ns) != 1 || !strings.Contains(ns[0], "“Type”") || !strings.Contains(ns[0], "not applied") {
			t.Errorf("English notice %v", ns)
		}
	})

	t.Run("POST with a valid CSRF token is refused with 405", func(t *testing.T) {
		c := apptest.NewClient(t, a.Router)
		rec := c.PostForm("/", url.Values{})
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
			t.Errorf("POST /: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})

	t.Run("the data survived", func(t *testing.T) {
		if n := len(allEvents(t, a)); n < 18 {
			t.Fatalf("%d events left", n)
		}
	})
}

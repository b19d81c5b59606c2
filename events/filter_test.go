package events_test

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
)

func TestParseListQueryAcceptsEveryKnownValue(t *testing.T) {
	for _, c := range []struct {
		param   string
		allowed []string
		field   func(q events.ListQuery) string
	}{
		{"format", events.Formats, func(q events.ListQuery) string { return q.Format }},
		{"level", events.Levels, func(q events.ListQuery) string { return q.Level }},
		{"role", events.Roles, func(q events.ListQuery) string { return q.Role }},
		{"theme", events.Themes, func(q events.ListQuery) string { return q.Theme }},
		{"price", []string{"free", "paid"}, func(q events.ListQuery) string { return q.Price }},
		{"access", []string{"open", "invitation"}, func(q events.ListQuery) string { return q.Access }},
		{"mode", []string{"physical", "digital"}, func(q events.ListQuery) string { return q.Mode }},
		{"region", []string{"oslo", "tromso", "more-og-romsdal", "region-2"}, func(q events.ListQuery) string { return q.Region }},
		{"organiser", []string{"dfo", "nhh"}, func(q events.ListQuery) string { return q.Organiser }},
		{"from", []string{"2026-01-01", "2028-02-29"}, func(q events.ListQuery) string { return q.From }},
		{"to", []string{"2026-12-31"}, func(q events.ListQuery) string { return q.To }},
	} {
		for _, v := range c.allowed {
			t.Run(c.param+"="+v+" is kept", func(t *testing.T) {
				q := events.ParseListQuery(url.Values{c.param: {v}})
				if got := c.field(q); got != v || len(q.Ignored) != 0 {
					t.Fatalf("got %q, ignored %v", got, q.Ignored)
				}
				// and spaces around it do not matter
				q = events.ParseListQuery(url.Values{c.param: {"  " + v + " "}})
				if got := c.field(q); got != v {
					t.Fatalf("with spaces: got %q", got)
				}
			})
		}
	}
}

func TestParseListQueryIgnoresWhatItDoesNotUnderstand(t *testing.T) {
	for _, c := range []struct {
		name    string
		query   string
		ignored []string
	}{
		{"unknown format", "format=webinar", []string{"format"}},
		{"format in capitals", "format=Conference", []string{"format"}},
		{"hybrid is not a mode filter", "mode=hybrid", []string{"mode"}},
		{"price as a number", "price=0", []string{"price"}},
		{"region with capitals", "region=Oslo", []string{"region"}},
		{"region with a slash", "region=a%2Fb", []string{"region"}},
		{"region with a letter outside a-z", "region=m%C3%B8re", []string{"region"}},
		{"organiser with SQL", "organiser=x'%20OR%201=1", []string{"organiser"}},
		{"invalid UTF-8", "format=%ff%fe", []string{"format"}},
		{"null byte", "level=%00", []string{"level"}},
		{"too long", "theme=" + strings.Repeat("x", 101), []string{"theme"}},
		{"bad month", "from=2026-13-01", []string{"from"}},
		{"bad day", "to=2026-02-30", []string{"to"}},
		{"American date", "from=01/07/2027", []string{"from"}},
		{"date and time", "from=2027-01-07T10:00", []string{"from"}},
		{"page 0", "page=0", []string{"page"}},
		{"page -1", "page=-1", []string{"page"}},
		{"page 10^9", "page=1000000000", []string{"page"}},
		{"page beyond int64", "page=99999999999999999999999", []string{"page"}},
		{"page abc", "page=abc", []string{"page"}},
		{"page with a plus", "page=%2B2", nil}, // strconv accepts "+2"
		{"several at once", "format=x&level=y&price=z&page=q", []string{"format", "level", "price", "page"}},
		{"unknown parameters are not named", "utm_source=x&q=y", nil},
		{"empty values are no filter", "format=&region=&page=", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			q := events.ParseListQuery(v)
			got := slices.Clone(q.Ignored)
			slices.Sort(got)
			want := slices.Clone(c.ignored)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("ignored %v, want %v", q.Ignored, c.ignored)
			}
			if q.Page < 1 {
				t.Fatalf("page %d", q.Page)
			}
			// what is ignored is not applied
			if q.Active() && len(c.ignored) > 0 && c.name != "page with a plus" {
				t.Fatalf("ignored values were kept: %+v", q)
			}
		})
	}
}

func TestParseListQueryFirstValueWins(t *testing.T) {
	q := events.ParseListQuery(url.Values{"format": {"conference", "webinar"}})
	if q.Format != "conference" || len(q.Ignored) != 0 {
		t.Fatalf("%+v", q)
	}
}

func TestListQueryValuesRoundTrip(t *testing.T) {
	queries := []events.ListQuery{
		{},
		{Region: "oslo"},
		{Region: "bergen", Format: "conference", Level: "top", Role: "hr", Theme: "subject", Price: "free", Access: "open", Mode: "physical", From: "2027-01-01", To: "2027-06-30"},
		{Organiser: "dfo", Price: "paid", Access: "invitation", Mode: "digital"},
	}
	// and every single value of every enum
	for _, f := range events.Formats {
		queries = append(queries, events.ListQuery{Format: f})
	}
	for _, l := range events.Levels {
		queries = append(queries, events.ListQuery{Level: l})
	}
	for _, r := range events.Roles {
		queries = append(queries, events.ListQuery{Role: r})
	}
	for _, th := range events.Themes {
		queries = append(queries, events.ListQuery{Theme: th})
	}
	for _, q := range queries {
		q.Page = 1
		back := events.ParseListQuery(q.Values())
		if !reflect.DeepEqual(back, q) {
			t.Errorf("round trip\n got %+v\nwant %+v", back, q)
		}
		// through a real URL, too
		for _, n := range []int{1, 2, 17} {
			u, err := url.Parse(q.PageURL("/", n))
			if err != nil {
				t.Fatal(err)
			}
			back := events.ParseListQuery(u.Query())
			want := q
			want.Page = n
			if !reflect.DeepEqual(back, want) {
				t.Errorf("PageURL %s\n got %+v\nwant %+v", u, back, want)
			}
		}
	}
}

func TestListQueryValuesLeaveOutPageAndIgnored(t *testing.T) {
	q := events.ParseListQuery(url.Values{"format": {"x"}, "page": {"3"}, "region": {"oslo"}})
	v := q.Values()
	if v.Encode() != "region=oslo" {
		t.Fatalf("Values() = %s", v.Encode())
	}
	if got := q.PageURL("/regions", 1); got != "/regions?region=oslo" {
		t.Errorf("PageURL(1) = %s", got)
	}
	if got := (events.ListQuery{}).PageURL("/", 1); got != "/" {
		t.Errorf("empty PageURL(1) = %s", got)
	}
	if got := (events.ListQuery{}).PageURL("/", 2); got != "/?page=2" {
		t.Errorf("empty PageURL(2) = %s", got)
	}
	if (events.ListQuery{Page: 4}).Active() {
		t.Error("a page number alone is not a filter")
	}
}

func TestListQueryFilter(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)

	t.Run("without dates the list starts now", func(t *testing.T) {
		f := events.ListQuery{Page: 1}.Filter(now)
		if !f.From.Equal(now) || !f.To.IsZero() || f.Limit != events.PageSize || f.Offset != 0 {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("dates are whole days in Oslo", func(t *testing.T) {
		// 29 March 2026 is the first day of summer time: the day starts at
		// +01:00, the next one at +02:00
		f := events.ListQuery{From: "2026-03-29", To: "2026-03-29", Page: 1}.Filter(now)
		if want := time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC); !f.From.Equal(want) {
			t.Errorf("From %s, want %s", f.From.UTC(), want)
		}
		if want := time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC); !f.To.Equal(want) {
			t.Errorf("To %s, want %s (end of the day)", f.To.UTC(), want)
		}
	})
	t.Run("pages become offsets", func(t *testing.T) {
		f := events.ListQuery{Page: 3}.Filter(now)
		if f.Offset != 2*events.PageSize || f.Limit != events.PageSize {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("every filter reaches the store filter", func(t *testing.T) {
		q := events.ListQuery{Region: "r", Organiser: "o", Format: "f", Level: "l", Role: "ro", Theme: "t", Price: "p", Access: "a", Mode: "m", Page: 1}
		f := q.Filter(now)
		if f.Region != "r" || f.Organiser != "o" || f.Format != "f" || f.Level != "l" || f.Role != "ro" || f.Theme != "t" || f.Price != "p" || f.Access != "a" || f.Mode != "m" {
			t.Fatalf("%+v", f)
		}
	})
}

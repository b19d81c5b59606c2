package events

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PageSize is how many events a listing page shows.
const PageSize = 20

// maxPage bounds pagination: deeper pages are refused, not computed.
const maxPage = 1000

// maxParamLen bounds any one query parameter.
const maxParamLen = 100

// ListQuery is what a visitor asked for on the listing page, the feeds and
// the API: filters as plain GET parameters, so a list is bookmarkable.
type ListQuery struct {
	Region    string
	Organiser string
	Format    string
	Level     string
	Role      string
	Theme     string
	Price     string
	Access    string
	Mode      string
	From      string // YYYY-MM-DD, as typed
	To        string
	// Q is the text searched for in title, summary, organiser and region
	// (see EventFilter.Search), as typed, trimmed.
	Q string
	// When is "past" for the events that are over, newest first; empty for
	// what is coming (and running).
	When string
	Page int

	// Ignored names the parameters whose values were not understood; the
	// page says so, the API answers 400.
	Ignored []string
}

// filterParams lists each enum filter with its allowed values, in the
// order the form shows them.
var filterParams = []struct {
	name    string
	allowed []string
	field   func(q *ListQuery) *string
}{
	{"format", Formats, func(q *ListQuery) *string { return &q.Format }},
	{"level", Levels, func(q *ListQuery) *string { return &q.Level }},
	{"role", Roles, func(q *ListQuery) *string { return &q.Role }},
	{"theme", Themes, func(q *ListQuery) *string { return &q.Theme }},
	{"price", []string{"free", "paid"}, func(q *ListQuery) *string { return &q.Price }},
	{"access", []string{"open", "invitation"}, func(q *ListQuery) *string { return &q.Access }},
	{"mode", []string{"physical", "digital"}, func(q *ListQuery) *string { return &q.Mode }},
}

// ParseListQuery reads the listing parameters. Region and organiser slugs
// are checked against the database by the caller. It never fails: what it
// does not understand it leaves out and names in Ignored.
func ParseListQuery(v url.Values) ListQuery {
	var q ListQuery
	get := func(name string) string {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return ""
		}
		if len(s) > maxParamLen || !utf8.ValidString(s) {
			q.Ignored = append(q.Ignored, name)
			return ""
		}
		return s
	}
	for _, p := range filterParams {
		s := get(p.name)
		if s == "" {
			continue
		}
		if !slices.Contains(p.allowed, s) {
			q.Ignored = append(q.Ignored, p.name)
			continue
		}
		*p.field(&q) = s
	}
	q.Region = slugParam(get("region"), "region", &q.Ignored)
	q.Organiser = slugParam(get("organiser"), "organiser", &q.Ignored)
	for _, d := range []struct {
		name string
		dst  *string
	}{{"from", &q.From}, {"to", &q.To}} {
		s := get(d.name)
		if s == "" {
			continue
		}
		if _, err := time.ParseInLocation("2006-01-02", s, Oslo); err != nil {
			q.Ignored = append(q.Ignored, d.name)
			continue
		}
		*d.dst = s
	}
	q.Q = strings.Join(strings.Fields(get("q")), " ")
	if s := get("when"); s != "" {
		if s == WhenPast {
			q.When = s
		} else {
			q.Ignored = append(q.Ignored, "when")
		}
	}
	q.Page = 1
	if s := get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			q.Ignored = append(q.Ignored, "page")
		} else {
			q.Page = n
		}
	}
	return q
}

// slugParam accepts lower-case letters, digits and hyphens.
func slugParam(s, name string, ignored *[]string) string {
	if s == "" {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			*ignored = append(*ignored, name)
			return ""
		}
	}
	return s
}

// WhenPast is the when= value of the events that are over.
const WhenPast = "past"

// Past reports whether the query asks for the events that are over.
func (q ListQuery) Past() bool { return q.When == WhenPast }

// Filter turns the query into a store filter. Without a from date the list
// starts now: upcoming and running events only. The past view is the
// events that ended before now, newest first (from and to still narrow it).
func (q ListQuery) Filter(now time.Time) EventFilter {
	f := EventFilter{
		Region: q.Region, Organiser: q.Organiser, Format: q.Format, Level: q.Level, Role: q.Role,
		Theme: q.Theme, Price: q.Price, Access: q.Access, Mode: q.Mode, Search: q.Q,
		From: now, Limit: PageSize, Offset: (q.Page - 1) * PageSize,
	}
	if q.Past() {
		f.From, f.EndedBefore, f.NewestFirst = time.Time{}, now, true
	}
	if q.From != "" {
		d, _ := time.ParseInLocation("2006-01-02", q.From, Oslo)
		f.From = d
	}
	if q.To != "" {
		d, _ := time.ParseInLocation("2006-01-02", q.To, Oslo)
		f.To = d.AddDate(0, 0, 1) // the whole last day
	}
	return f
}

// Values is the query as URL parameters (without page), for links that keep
// the current filters: pagination, feeds, language switch.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("region", q.Region)
	set("organiser", q.Organiser)
	for _, p := range filterParams {
		set(p.name, *p.field(&q))
	}
	set("from", q.From)
	set("to", q.To)
	set("q", q.Q)
	set("when", q.When)
	return v
}

// Active reports whether any filter is set.
func (q ListQuery) Active() bool { return len(q.Values()) > 0 }

// PageURL is the listing URL of page n with the same filters.
func (q ListQuery) PageURL(path string, n int) string {
	v := q.Values()
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

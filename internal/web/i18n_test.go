package web_test

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/templates"
)

func TestPickLanguage(t *testing.T) {
	for _, c := range []struct {
		explicit, cookie, accept string
		want                     string
	}{
		{"", "", "", "nb"},
		{"en", "", "", "en"},
		{"EN", "", "", "en"},
		{" en ", "", "", "en"},
		{"en-GB", "", "", "en"},
		{"en_US", "", "", "en"},
		{"nb", "", "en", "nb"},
		{"nn", "", "", "nb"},
		{"no", "", "", "nb"},
		{"nb_NO", "", "", "nb"},
		{"nb", "en", "en", "nb"},                            // an explicit choice beats the cookie
		{"", "en", "nb", "en"},                              // the cookie beats the browser
		{"xx", "en", "", "en"},                              // an unknown choice is no choice
		{"<script>", "", "en", "en"},                        // nor is garbage
		{"", "fr", "en", "en"},                              // an unknown cookie is no cookie
		{"", "", "en-US,en;q=0.9", "en"},                    // the browser's first
		{"", "", "de-DE,de;q=0.9,en;q=0.5", "en"},           // the first we speak
		{"", "", "en;q=0.1, nb;q=0.9", "nb"},                // by weight, not order
		{"", "", "nn-NO,nn;q=0.9", "nb"},                    // nynorsk readers get bokmål
		{"", "", "no", "nb"},                                // "no" is Norwegian
		{"", "", "sv-SE,da;q=0.8", "nb"},                    // nothing we speak: bokmål
		{"", "", "*", "nb"},                                 // anything: bokmål
		{"", "", ";;;,,q=abc", "nb"},                        // garbage: bokmål
		{"", "", strings.Repeat("en-GB;q=0.5,", 500), "en"}, // long, but valid
	} {
		if got := web.PickLanguage(c.explicit, c.cookie, c.accept); got != c.want {
			t.Errorf("PickLanguage(%q, %q, %.40q) = %q, want %q", c.explicit, c.cookie, c.accept, got, c.want)
		}
	}
}

func loadCatalogue(t testing.TB) *web.Catalogue {
	t.Helper()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestDatesAndClock(t *testing.T) {
	cat := loadCatalogue(t)
	oslo := events.Oslo
	for _, c := range []struct {
		at            time.Time
		nb, en        string
		short, shortE string
		clockNB, clkE string
	}{
		{time.Date(2027, 1, 7, 8, 0, 0, 0, time.UTC), "torsdag 7. januar 2027", "Thursday 7 January 2027", "7. jan.", "7 Jan", "09.00", "09:00"},
		{time.Date(2026, 12, 3, 15, 5, 0, 0, time.UTC), "torsdag 3. desember 2026", "Thursday 3 December 2026", "3. des.", "3 Dec", "16.05", "16:05"},
		{time.Date(2026, 6, 21, 22, 30, 0, 0, time.UTC), "mandag 22. juni 2026", "Monday 22 June 2026", "22. juni", "22 Jun", "00.30", "00:30"}, // after midnight in Oslo: the next day
		{time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), "søndag 29. mars 2026", "Sunday 29 March 2026", "29. mars", "29 Mar", "00.30", "00:30"},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "søndag 29. mars 2026", "Sunday 29 March 2026", "29. mars", "29 Mar", "03.00", "03:00"}, // summer time has begun
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "søndag 25. oktober 2026", "Sunday 25 October 2026", "25. okt.", "25 Oct", "02.30", "02:30"},
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "søndag 25. oktober 2026", "Sunday 25 October 2026", "25. okt.", "25 Oct", "02.30", "02:30"}, // the hour that happens twice
		{time.Date(2028, 2, 29, 11, 0, 0, 0, time.UTC), "tirsdag 29. februar 2028", "Tuesday 29 February 2028", "29. feb.", "29 Feb", "12.00", "12:00"},
		{time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), "fredag 1. mai 2026", "Friday 1 May 2026", "1. mai", "1 May", "12.00", "12:00"},
		{time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC), "lørdag 1. august 2026", "Saturday 1 August 2026", "1. aug.", "1 Aug", "12.00", "12:00"},
	} {
		if got := cat.Date("nb", c.at, oslo); got != c.nb {
			t.Errorf("Date(nb, %s) = %q, want %q", c.at, got, c.nb)
		}
		if got := cat.Date("en", c.at, oslo); got != c.en {
			t.Errorf("Date(en, %s) = %q, want %q", c.at, got, c.en)
		}
		if got := cat.ShortDate("nb", c.at, oslo); got != c.short {
			t.Errorf("ShortDate(nb, %s) = %q, want %q", c.at, got, c.short)
		}
		if got := cat.ShortDate("en", c.at, oslo); got != c.shortE {
			t.Errorf("ShortDate(en, %s) = %q, want %q", c.at, got, c.shortE)
		}
		if got := cat.Clock("nb", c.at, oslo); got != c.clockNB {
			t.Errorf("Clock(nb, %s) = %q, want %q", c.at, got, c.clockNB)
		}
		if got := cat.Clock("en", c.at, oslo); got != c.clkE {
			t.Errorf("Clock(en, %s) = %q, want %q", c.at, got, c.clkE)
		}
	}
	// a language we do not speak falls back to bokmål
	if got := cat.Date("de", time.Date(2027, 1, 7, 8, 0, 0, 0, time.UTC), oslo); got != "torsdag 7. januar 2027" {
		t.Errorf("Date(de) = %q", got)
	}
}

func TestCatalogueT(t *testing.T) {
	cat := loadCatalogue(t)
	if got := cat.T("nb", "event.seats_left", "Count", 1, "Capacity", 40); got != "1 av 40 plasser er ledig." {
		t.Errorf("singular: %q", got)
	}
	if got := cat.T("nb", "event.seats_left", "Count", 37, "Capacity", 40); got != "37 av 40 plasser er ledige." {
		t.Errorf("plural: %q", got)
	}
	if got := cat.T("en", "event.seats_left", "Count", 1, "Capacity", 40); got != "1 of 40 places is free." {
		t.Errorf("English singular: %q", got)
	}
	if got := cat.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows as %q, want the key itself", got)
	}
	if !cat.Has("nb", "site.name") || !cat.Has("en", "site.name") || cat.Has("nb", "no.such.key") || cat.Has("xx", "site.name") {
		t.Error("Has")
	}
}

// catalogueFiles reads every locales/*.toml into name -> lang -> key -> value.
func catalogueFiles(t *testing.T) map[string]map[string]map[string]any {
	t.Helper()
	files, err := fs.Glob(templates.FS, "locales/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogues: %v", err)
	}
	out := map[string]map[string]map[string]any{}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".toml")
		i := strings.LastIndex(base, ".")
		if i < 0 {
			t.Errorf("%s: name it DOMAIN.LANG.toml", f)
			continue
		}
		name, lang := base[:i], base[i+1:]
		if !slices.Contains(web.Languages, lang) {
			t.Errorf("%s: unknown language %q", f, lang)
			continue
		}
		b, err := fs.ReadFile(templates.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := toml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if out[name] == nil {
			out[name] = map[string]map[string]any{}
		}
		out[name][lang] = m
	}
	return out
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders lists the {{.Name}} a message uses, over all plural forms.
func placeholders(v any) []string {
	var texts []string
	switch v := v.(type) {
	case string:
		texts = []string{v}
	case map[string]any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				texts = append(texts, s)
			}
		}
	}
	set := map[string]bool{}
	for _, s := range texts {
		for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCatalogueLanguagesMatch(t *testing.T) {
	for name, langs := range catalogueFiles(t) {
		t.Run(name, func(t *testing.T) {
			nb, en := langs["nb"], langs["en"]
			if nb == nil || en == nil {
				t.Fatalf("%s needs both %s.nb.toml and %s.en.toml", name, name, name)
			}
			for k, v := range nb {
				ev, ok := en[k]
				if !ok {
					t.Errorf("%q is in %s.nb.toml but not in %s.en.toml", k, name, name)
					continue
				}
				if p, q := placeholders(v), placeholders(ev); !slices.Equal(p, q) {
					t.Errorf("%q uses %v in bokmål but %v in English", k, p, q)
				}
				if m, ok := v.(map[string]any); ok {
					if _, ok := m["other"]; !ok {
						t.Errorf("%q (nb) has plural forms but no \"other\"", k)
					}
				}
				if m, ok := ev.(map[string]any); ok {
					if _, ok := m["other"]; !ok {
						t.Errorf("%q (en) has plural forms but no \"other\"", k)
					}
				}
				if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
					t.Errorf("%q is empty in bokmål", k)
				}
			}
			for k := range en {
				if _, ok := nb[k]; !ok {
					t.Errorf("%q is in %s.en.toml but not in %s.nb.toml", k, name, name)
				}
			}
		})
	}
}

var (
	tCallRE  = regexp.MustCompile(`(?:\{\{-?\s*|\(|\|\s*)t\s+"([^"]+)"`)
	tkCallRE = regexp.MustCompile(`(?:\{\{-?\s*|\(|\|\s*)tk\s+"([^"]+)"`)
)

// tkValues are the values each tk prefix is used with in the templates.
var tkValues = map[string][]string{
	"format.":             events.Formats,
	"level.":              events.Levels,
	"role.":               events.Roles,
	"theme.":              events.Themes,
	"sector.":             events.Sectors,
	"facilitation.":       events.Facilitations,
	"registration_state.": {"open", "not_open_yet", "closed", "started", "cancelled", "draft"},
}

// TestCatalogueHasEveryKeyTheTemplatesUse scans every template for
// {{t "key"}} and {{tk "prefix." value}} and wants each key in both
// languages. A missing key would show as the key itself.
func TestCatalogueHasEveryKeyTheTemplatesUse(t *testing.T) {
	cat := loadCatalogue(t)
	used := map[string][]string{} // key -> files
	prefixes := map[string][]string{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".txt")) {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		for _, m := range tCallRE.FindAllSubmatch(b, -1) {
			used[string(m[1])] = append(used[string(m[1])], p)
		}
		for _, m := range tkCallRE.FindAllSubmatch(b, -1) {
			prefixes[string(m[1])] = append(prefixes[string(m[1])], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the templates: is the scan broken?", len(used))
	}
	for prefix, files := range prefixes {
		values, ok := tkValues[prefix]
		if !ok {
			// another domain's closed list: at least the prefix must exist;
			// the nb/en symmetry test covers the rest
			if !hasPrefix(t, prefix) {
				t.Errorf("tk %q (in %v) has no keys at all", prefix, files)
			}
			t.Logf("tk %q: values unknown to this test, only checked that the prefix exists", prefix)
			continue
		}
		for _, v := range values {
			used[prefix+v] = append(used[prefix+v], files...)
		}
	}
	// keys the Go code of internal/web and events builds
	for _, k := range []string{"site.name", "site.description", "list.title", "region.title", "notice.ignored_param"} {
		used[k] = append(used[k], "(Go code)")
	}
	for _, name := range []string{"region", "organiser", "format", "level", "role", "theme", "price", "access", "mode", "from", "to", "page"} {
		used["filter."+name] = append(used["filter."+name], "(ParseListQuery)")
	}
	for i := 0; i < 7; i++ {
		used["date.weekday."+strconv.Itoa(i)] = append(used["date.weekday."+strconv.Itoa(i)], "(Catalogue.Date)")
	}
	for i := 1; i <= 12; i++ {
		used["date.month."+strconv.Itoa(i)] = append(used["date.month."+strconv.Itoa(i)], "(Catalogue.Date)")
		used["date.month_short."+strconv.Itoa(i)] = append(used["date.month_short."+strconv.Itoa(i)], "(Catalogue.ShortDate)")
	}
	for _, k := range goErrorKeys(t) {
		for _, part := range []string{".title", ".message", ".hint"} {
			used[k+part] = append(used[k+part], "(web.Errorf)")
		}
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, lang := range web.Languages {
			if !cat.Has(lang, k) {
				t.Errorf("%q (used in %v) is missing in %s", k, dedupe(used[k]), lang)
			}
		}
	}
}

// goErrorKeys are the keys of web.Errorf(http.StatusX, "key") calls in the
// application's Go code: each needs a title, a message and a hint.
func goErrorKeys(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`Errorf\(\s*http\.Status\w+,\s*"([a-z_.]+)"\s*\)`)
	set := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			set[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !set["error.not_found"] || !set["error.csrf"] {
		t.Fatalf("the scan of the Go code found %v: is it broken?", set)
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hasPrefix(t *testing.T, prefix string) bool {
	for _, langs := range catalogueFiles(t) {
		for k := range langs["nb"] {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
	}
	return false
}

func dedupe(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// TestCatalogueMissingKeys pins the contract the completeness tests rely
// on: a key missing in one language is not filled in from the other.
func TestCatalogueMissingKeys(t *testing.T) {
	fsys := fstest.MapFS{
		"l/x.nb.toml": {Data: []byte("\"both\" = \"nb\"\n\"only.nb\" = \"bare bokmål\"\n")},
		"l/x.en.toml": {Data: []byte("\"both\" = \"en\"\n\"only.en\" = \"English only\"\n")},
	}
	cat, err := web.LoadCatalogue(fsys, "l")
	if err != nil {
		t.Fatal(err)
	}
	if !cat.Has("nb", "both") || !cat.Has("en", "both") || cat.T("en", "both") != "en" {
		t.Error("a key in both languages")
	}
	if cat.Has("en", "only.nb") || cat.T("en", "only.nb") != "only.nb" {
		t.Error("English borrowed a bokmål message")
	}
	if cat.Has("nb", "only.en") || cat.T("nb", "only.en") != "only.en" {
		t.Error("bokmål borrowed an English message")
	}
	if _, err := web.LoadCatalogue(fstest.MapFS{"l/x.nb.toml": {Data: []byte("not toml = = =")}}, "l"); err == nil {
		t.Error("a broken catalogue loaded")
	}
}

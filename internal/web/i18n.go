package web

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages the product speaks, bokmål first: it is the default.
var Languages = []string{"nb", "en"}

// Catalogue holds every user-visible string in both languages. Each domain
// keeps its own file pair (events.nb.toml, events.en.toml, ...) under
// templates/locales; they are loaded into one bundle at start-up.
type Catalogue struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer

	// plain holds the messages that take no arguments, translated once:
	// pages and emails ask for them thousands of times a second, and
	// go-i18n executes a template on every call.
	plain sync.Map // lang + "\x00" + key -> string
}

// LoadCatalogue reads every *.toml file in dir of fsys.
func LoadCatalogue(fsys fs.FS, dir string) (*Catalogue, error) {
	b := i18n.NewBundle(language.Norwegian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(fsys, f); err != nil {
			return nil, fmt.Errorf("web: load catalogue %s: %w", f, err)
		}
	}
	c := &Catalogue{bundle: b, localizers: map[string]*i18n.Localizer{}}
	for _, l := range Languages {
		c.localizers[l] = i18n.NewLocalizer(b, l)
	}
	return c, nil
}

// A Message is catalogue text with its name/value arguments, made by code
// that does not know the reader's language; pages show it with "msg".
type Message struct {
	Key  string
	Args []any
}

// Msg is a Message.
func Msg(key string, args ...any) Message { return Message{Key: key, Args: args} }

// T translates key into lang. args are name/value pairs for the message
// template; a "Count" pair also selects the plural form. A missing key is a
// programming error: it shows as the key itself so tests catch it.
func (c *Catalogue) T(lang, key string, args ...any) string {
	if len(args) == 0 {
		if s, ok := c.plain.Load(lang + "\x00" + key); ok {
			return s.(string)
		}
		s := c.localize(lang, key)
		c.plain.Store(lang+"\x00"+key, s)
		return s
	}
	return c.localize(lang, key, args...)
}

func (c *Catalogue) localize(lang, key string, args ...any) string {
	loc, ok := c.localizers[lang]
	if !ok {
		loc = c.localizers["nb"]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			name := fmt.Sprint(args[i])
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		return key
	}
	return s
}

// Has reports whether key exists in the catalogue for lang.
func (c *Catalogue) Has(lang, key string) bool {
	loc, ok := c.localizers[lang]
	if !ok {
		return false
	}
	_, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: key})
	return err == nil && tag.String() != "und"
}

// Date writes a day the way each language does: "torsdag 3. desember 2026"
// or "Thursday 3 December 2026". t is shown in loc.
func (c *Catalogue) Date(lang string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	wd := c.T(lang, fmt.Sprintf("date.weekday.%d", t.Weekday()))
	mo := c.T(lang, fmt.Sprintf("date.month.%d", t.Month()))
	if lang == "en" {
		return fmt.Sprintf("%s %d %s %d", wd, t.Day(), mo, t.Year())
	}
	return fmt.Sprintf("%s %d. %s %d", wd, t.Day(), mo, t.Year())
}

// ShortDate is "3. des." / "3 Dec".
func (c *Catalogue) ShortDate(lang string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	mo := c.T(lang, fmt.Sprintf("date.month_short.%d", t.Month()))
	if lang == "en" {
		return fmt.Sprintf("%d %s", t.Day(), mo)
	}
	return fmt.Sprintf("%d. %s", t.Day(), mo)
}

// Clock is "09.00" in bokmål (Språkrådet's recommendation) and "09:00" in English.
func (c *Catalogue) Clock(lang string, t time.Time, loc *time.Location) string {
	if lang == "en" {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("15.04")
}

// PickLanguage chooses from an explicit choice, a cookie and Accept-Language,
// in that order, falling back to bokmål.
func PickLanguage(explicit, cookie, acceptLanguage string) string {
	for _, v := range []string{explicit, cookie} {
		if v = normaliseLang(v); v != "" {
			return v
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil {
		for _, t := range tags {
			if l := normaliseLang(t.String()); l != "" {
				return l
			}
		}
	}
	return "nb"
}

// acceptLanguages remembers what each Accept-Language header chose, as
// PickLanguage would: browsers send few distinct values, and parsing one
// cost more than the rest of serving a cached page. It holds at most max
// headers of up to 200 bytes, and starts over when full.
type acceptLanguages struct {
	mu  sync.RWMutex
	max int
	m   map[string]string
}

func (a *acceptLanguages) pick(header string) string {
	if header == "" {
		return "nb"
	}
	a.mu.RLock()
	lang, ok := a.m[header]
	a.mu.RUnlock()
	if ok {
		return lang
	}
	lang = PickLanguage("", "", header)
	if len(header) <= 200 {
		a.mu.Lock()
		if len(a.m) >= a.max {
			clear(a.m)
		}
		a.m[header] = lang
		a.mu.Unlock()
	}
	return lang
}

// normaliseLang maps the ways people write Norwegian and English to our two codes.
func normaliseLang(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, "-_"); i > 0 {
		v = v[:i]
	}
	switch v {
	case "nb", "no", "nn":
		return "nb"
	case "en":
		return "en"
	}
	return ""
}

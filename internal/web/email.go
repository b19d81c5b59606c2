package web

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"
)

// Emails are templates too: templates/email/NAME.html defines "email_body"
// (inside the shared "email_base" layout, with its blocks) and
// templates/email/NAME.txt defines "subject" and "text" (with the shared
// blocks of email/common.txt). The text part says everything the HTML part
// says. Both are parsed at start-up, per language.
type Emails struct {
	html map[string]map[string]*htmltemplate.Template // lang -> name
	text map[string]map[string]*texttemplate.Template
}

// Email is one rendered message.
type Email struct {
	Subject string
	Text    string
	HTML    string
}

// NewEmails parses every email template with the renderer's functions.
func NewEmails(fsys fs.FS, r *Renderer) (*Emails, error) {
	e := &Emails{html: map[string]map[string]*htmltemplate.Template{}, text: map[string]map[string]*texttemplate.Template{}}
	htmlFiles, err := fs.Glob(fsys, "email/*.html")
	if err != nil {
		return nil, err
	}
	for _, lang := range Languages {
		e.html[lang] = map[string]*htmltemplate.Template{}
		e.text[lang] = map[string]*texttemplate.Template{}
		funcs := r.Funcs(lang)
		for _, f := range htmlFiles {
			name := strings.TrimSuffix(path.Base(f), ".html")
			if name == "layout" {
				continue
			}
			ht, err := htmltemplate.New("email").Funcs(funcs).ParseFS(fsys, "email/layout.html", f)
			if err != nil {
				return nil, fmt.Errorf("web: parse email %s: %w", f, err)
			}
			tt, err := texttemplate.New("email").Funcs(texttemplate.FuncMap(funcs)).ParseFS(fsys, "email/common.txt", "email/"+name+".txt")
			if err != nil {
				return nil, fmt.Errorf("web: parse email %s.txt: %w", name, err)
			}
			e.html[lang][name], e.text[lang][name] = ht, tt
		}
	}
	return e, nil
}

// EmailData is the envelope of every email; Data is the email's own type.
type EmailData struct {
	Lang    string
	Subject string
	BaseURL string
	Data    any
}

// Render renders email name in lang. The subject is plain text folded to
// one line (a line break in a subject could otherwise start a header).
func (e *Emails) Render(name, lang, baseURL string, data any) (Email, error) {
	ht, ok := e.html[lang][name]
	if !ok {
		return Email{}, fmt.Errorf("web: no email template %q", name)
	}
	d := &EmailData{Lang: lang, BaseURL: baseURL, Data: data}
	var subj bytes.Buffer
	if err := e.text[lang][name].ExecuteTemplate(&subj, "subject", d); err != nil {
		return Email{}, fmt.Errorf("web: email %s subject: %w", name, err)
	}
	d.Subject = strings.Join(strings.Fields(subj.String()), " ")
	var h, t bytes.Buffer
	if err := ht.ExecuteTemplate(&h, "email_base", d); err != nil {
		return Email{}, fmt.Errorf("web: email %s html: %w", name, err)
	}
	if err := e.text[lang][name].ExecuteTemplate(&t, "text", d); err != nil {
		return Email{}, fmt.Errorf("web: email %s text: %w", name, err)
	}
	return Email{Subject: d.Subject, Text: strings.TrimSpace(t.String()) + "\n", HTML: h.String()}, nil
}

package registration

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moteplass/moteplass/internal/leader"
	"github.com/moteplass/moteplass/mailer"
)

// The form's field names, as posted. They are part of the page's contract
// (tests, browser autofill, the load tool): keep them.
const (
	FieldName          = "name"
	FieldEmail         = "email"
	FieldOrganisation  = "organisation"
	FieldRole          = "role"
	FieldLevel         = "level"
	FieldSector        = "sector"
	FieldRegion        = "region"
	FieldPhone         = "phone"
	FieldDietary       = "dietary"
	FieldAccessibility = "accessibility"
	FieldTopics        = "topics"
	FieldIntroConsent  = "intro_consent"
	FieldHealthConsent = "health_consent"
	FieldInviteCode    = "invite_code"
	// FieldHoneypot is hidden from people (visually, from screen readers and
	// from the tab order); a value in it means a bot filled in the form.
	FieldHoneypot = "website"
)

// fieldOrder is the order of the fields on the page, for the error summary.
var fieldOrder = []string{FieldInviteCode, FieldName, FieldEmail, FieldOrganisation, FieldRole, FieldLevel, FieldSector,
	FieldRegion, FieldPhone, FieldDietary, FieldAccessibility, FieldHealthConsent, FieldTopics, FieldIntroConsent}

// Length limits, in characters.
const (
	MaxName          = 100
	MaxEmail         = 254
	MaxOrganisation  = 150
	MaxRole          = 100
	MaxRegion        = 100
	MaxPhone         = 30
	MaxDietary       = 500
	MaxAccessibility = 1000
	MaxTopics        = 1000
	MaxInviteCode    = 100
)

// FieldError is a message about one field: a catalogue key
// (registration.error.*) and the limit it mentions, if any.
type FieldError struct {
	Field string
	Key   string
	Max   int
}

// Form is the registration form's state: what the person typed, and a
// message per field that is wrong. Templates read Values and Errors with
// `index`, so a nil form (a fresh page) renders as an empty one.
type Form struct {
	Values map[string]string
	Errors map[string]*FieldError // nil for a field without error
	// Summary lists the errors in the order of the fields on the page.
	Summary []*FieldError
}

// ParseForm takes the posted values of the registration form (trimmed; line
// breaks normalised in the free-text fields).
func ParseForm(v url.Values) *Form {
	f := &Form{Values: map[string]string{}, Errors: map[string]*FieldError{}}
	for _, name := range fieldOrder {
		s := strings.ReplaceAll(v.Get(name), "\r\n", "\n")
		f.Values[name] = strings.TrimSpace(s)
	}
	for _, box := range []string{FieldIntroConsent, FieldHealthConsent} {
		if f.Values[box] != "" {
			f.Values[box] = "1"
		}
	}
	return f
}

// FormFor is the form filled in with a registration, for the manage page.
func FormFor(r Registration) *Form {
	f := &Form{Values: map[string]string{
		FieldName: r.Name, FieldEmail: r.Email, FieldOrganisation: r.Organisation, FieldRole: r.Role,
		FieldLevel: r.Level, FieldSector: r.Sector, FieldRegion: r.Region, FieldPhone: r.Phone,
		FieldDietary: r.Dietary, FieldAccessibility: r.Accessibility, FieldTopics: r.Topics,
	}, Errors: map[string]*FieldError{}}
	if r.IntroConsent {
		f.Values[FieldIntroConsent] = "1"
	}
	if r.HealthConsent {
		f.Values[FieldHealthConsent] = "1"
	}
	return f
}

// Fail records a message for a field.
func (f *Form) Fail(field, key string, max int) {
	if _, ok := f.Errors[field]; ok {
		return
	}
	f.Errors[field] = &FieldError{Field: field, Key: "registration.error." + key, Max: max}
	f.Summary = f.Summary[:0]
	for _, name := range fieldOrder {
		if e, ok := f.Errors[name]; ok {
			f.Summary = append(f.Summary, e)
		}
	}
}

// Valid reports whether no field has an error.
func (f *Form) Valid() bool { return len(f.Errors) == 0 }

// EmailRule is what Validate does with the address field.
type EmailRule int

const (
	// EmailFixed: the field is not asked for (the manage page, where the
	// address cannot be changed).
	EmailFixed EmailRule = iota
	// EmailASCII: an address mail can be sent to through a relay without
	// SMTPUTF8: nothing beyond ASCII before the @ (the domain may be in
	// any script: it is sent as an A-label).
	EmailASCII
	// EmailUTF8: any address mailer.ParseAddress takes; the relay offers
	// SMTPUTF8.
	EmailUTF8
)

// EmailRuleFor is the rule for a relay that does or does not take UTF-8
// local parts (the mail worker's AcceptsUTF8, given to the handlers as a
// func; nil counts as does not).
func EmailRuleFor(relayUTF8 func() bool) EmailRule {
	if relayUTF8 != nil && relayUTF8() {
		return EmailUTF8
	}
	return EmailASCII
}

// Validate checks every field and returns the details; email says what to
// do with the address.
func (f *Form) Validate(email EmailRule) (Details, bool) {
	v := f.Values
	d := Details{
		Name: v[FieldName], Organisation: v[FieldOrganisation], Role: v[FieldRole],
		Level: v[FieldLevel], Sector: v[FieldSector], Region: v[FieldRegion], Phone: v[FieldPhone],
		Dietary: v[FieldDietary], Accessibility: v[FieldAccessibility], Topics: v[FieldTopics],
		IntroConsent: v[FieldIntroConsent] != "", HealthConsent: v[FieldHealthConsent] != "",
	}
	f.text(FieldName, MaxName, true, false)
	if d.Name != "" && !hasLetter(d.Name) {
		f.Fail(FieldName, "name_invalid", 0)
	}
	if email != EmailFixed {
		if addr, ok := f.Email(email); ok {
			d.Email = addr
		}
	}
	f.text(FieldOrganisation, MaxOrganisation, true, false)
	f.text(FieldRole, MaxRole, true, false)
	if !slices.Contains(leader.Levels, d.Level) {
		f.Fail(FieldLevel, "level_required", 0)
	}
	if !slices.Contains(leader.Sectors, d.Sector) {
		f.Fail(FieldSector, "sector_required", 0)
	}
	f.text(FieldRegion, MaxRegion, true, false)
	if f.text(FieldPhone, MaxPhone, false, false) && d.Phone != "" && !validPhone(d.Phone) {
		f.Fail(FieldPhone, "phone_invalid", 0)
	}
	f.text(FieldDietary, MaxDietary, false, true)
	f.text(FieldAccessibility, MaxAccessibility, false, true)
	// Needs are health data: stored only with their own consent, and a
	// consent to nothing is not one.
	if d.HasNeeds() && !d.HealthConsent {
		f.Fail(FieldHealthConsent, "health_consent_required", 0)
	}
	d.HealthConsent = d.HealthConsent && d.HasNeeds()
	f.text(FieldTopics, MaxTopics, false, true)
	f.text(FieldInviteCode, MaxInviteCode, false, false)
	return d, f.Valid()
}

// text checks a free-text field: present when required, not too long, and
// free of control characters (line breaks only where multiline). It
// reports whether the field passed.
func (f *Form) text(field string, max int, required, multiline bool) bool {
	s := f.Values[field]
	switch {
	case s == "" && required:
		f.Fail(field, field+"_required", 0)
	case !utf8.ValidString(s) || hasControl(s, multiline):
		f.Fail(field, "invalid_characters", 0)
	case utf8.RuneCountInString(s) > max:
		f.Fail(field, "too_long", max)
	default:
		return true
	}
	return false
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// validPhone accepts what people write for a phone number: digits with
// spaces, dashes, dots or brackets, a leading +, and 8 to 15 digits.
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 8 && digits <= 15
}

// Email checks the address field under rule and records its message:
// required, too long, not an address, or (EmailASCII) an address beyond
// ASCII before the @ that the relay cannot send to. It returns the
// address as typed (trimmed).
func (f *Form) Email(rule EmailRule) (string, bool) {
	v := f.Values[FieldEmail]
	if v == "" {
		f.Fail(FieldEmail, "email_required", 0)
		return "", false
	}
	if utf8.RuneCountInString(v) > MaxEmail {
		f.Fail(FieldEmail, "email_too_long", MaxEmail)
		return "", false
	}
	a, err := mailer.ParseAddressFor(v, rule == EmailUTF8)
	switch {
	case errors.Is(err, mailer.ErrAddressNeedsUTF8):
		f.Fail(FieldEmail, "email_needs_utf8", 0)
	case errors.Is(err, mailer.ErrAddressTooLong):
		f.Fail(FieldEmail, "email_too_long", MaxEmail)
	case err != nil:
		f.Fail(FieldEmail, "email_invalid", 0)
	default:
		return a.Typed, true
	}
	return "", false
}

// ParseEmail checks an address as typed with mailer.ParseAddress, the one
// definition the forms and the outbox share, and returns it trimmed and
// its key (NormalizeEmail). Whether mail can be sent to it now is not
// asked: look-ups (erasure) must find any address someone registered with.
func ParseEmail(s string) (addr, norm string, err error) {
	a, err := mailer.ParseAddress(s)
	if err != nil {
		return "", "", err
	}
	return a.Typed, a.Key, nil
}

// NormalizeEmail is the key the duplicate rule and the data rights compare
// (mailer.NormalizeAddress): the local part lower-cased, the domain as an
// A-label, so ola@bærum.no and OLA@xn--brum-voa.no are one person.
func NormalizeEmail(s string) string { return mailer.NormalizeAddress(s) }

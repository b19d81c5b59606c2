package events

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
)

// Organiser kinds, from the research note's "provider" attribute.
var OrganiserKinds = []string{"public", "organisation", "commercial"}

// OrganisationsPage is the admin's list of organisers and the form for a new one.
type OrganisationsPage struct {
	Organisers []Organiser
	Form       OrganisationForm
	Errors     map[string]string
	Kinds      []string
}

// OrganisationForm is a new organiser as typed.
type OrganisationForm struct {
	Name, Slug, Kind, ContactEmail, Website string
}

// Organisations is GET /admin/organisations: the list, and the form for a
// new one.
func (a *Admin) Organisations(c *gin.Context) {
	a.renderOrganisations(c, http.StatusOK, OrganisationForm{Kind: "public"}, nil)
}

func (a *Admin) renderOrganisations(c *gin.Context, status int, f OrganisationForm, errs map[string]string) {
	orgs, err := a.Store.FindOrganisers(c.Request.Context())
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	p := a.R.NewPage(c, a.R.T(c, "admin.orgs.title"), OrganisationsPage{Organisers: orgs, Form: f, Errors: errs, Kinds: OrganiserKinds})
	a.R.Render(c, status, "admin_organisations", p)
}

// validate checks a new organiser: the contact address goes into every
// registrant's email as Reply-To, so it must be one the mailer accepts
// and, while the relay does not offer SMTPUTF8 (relayUTF8 false), ASCII
// before the @.
func (f *OrganisationForm) validate(relayUTF8 bool) map[string]string {
	errs := map[string]string{}
	if f.Name == "" || len(f.Name) > 200 {
		errs["name"] = "admin.orgs.err.name"
	}
	if f.Slug == "" {
		f.Slug = Slugify(f.Name)
	}
	if f.Slug == "" || Slugify(f.Slug) != f.Slug {
		errs["slug"] = "admin.orgs.err.slug"
	}
	if !slices.Contains(OrganiserKinds, f.Kind) {
		errs["kind"] = "admin.orgs.err.kind"
	}
	switch _, err := mailer.ParseAddressFor(f.ContactEmail, relayUTF8); {
	case errors.Is(err, mailer.ErrAddressNeedsUTF8):
		errs["contact_email"] = "admin.orgs.err.email_needs_utf8"
	case err != nil:
		errs["contact_email"] = "admin.orgs.err.email"
	}
	if f.Website != "" {
		if u, err := url.Parse(f.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["website"] = "admin.orgs.err.website"
		}
	}
	return errs
}

// CreateOrganisation is POST /admin/organisations.
func (a *Admin) CreateOrganisation(c *gin.Context) {
	f := OrganisationForm{
		Name: strings.TrimSpace(c.PostForm("name")), Slug: strings.TrimSpace(c.PostForm("slug")), Kind: c.PostForm("kind"),
		ContactEmail: strings.TrimSpace(c.PostForm("contact_email")), Website: strings.TrimSpace(c.PostForm("website")),
	}
	errs := f.validate(a.RelayUTF8 != nil && a.RelayUTF8())
	ctx := c.Request.Context()
	if len(errs) == 0 {
		if taken, err := slugTaken(ctx, a.Store.DB.Read(), "organisers", f.Slug, 0); err != nil {
			a.R.Fail(c, err)
			return
		} else if taken {
			errs["slug"] = "admin.orgs.err.slug_taken"
		}
	}
	if len(errs) > 0 {
		a.renderOrganisations(c, http.StatusUnprocessableEntity, f, errs)
		return
	}
	o := Organiser{Slug: f.Slug, Name: f.Name, Kind: f.Kind, ContactEmail: f.ContactEmail, Website: f.Website}
	err := a.Store.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := CreateOrganiser(ctx, tx, &o); err != nil {
			return err
		}
		return organisers.Audit(ctx, tx, now, organisers.CurrentUser(c), o.ID, "organisation_create", "organiser", o.ID, o.Slug)
	})
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.admin.org_created")
	c.Redirect(http.StatusSeeOther, "/admin/organisations")
}

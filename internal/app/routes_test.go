package app_test

// Who may use which organiser page: every route under /admin, read from
// the router itself, tried by every role against DFØ's objects and against
// another organisation's. A route that is not in the policy below fails the
// test, so a new page cannot be added without deciding who may use it.
//
// And the route table is the whole URL space: the router has exactly the
// routes routes.go registers, so none can be added elsewhere.

import (
	"context"
	"database/sql"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// The roles the table is tried with.
const (
	roleAnonymous = "anonymous"
	roleCheckIn   = "check-in (DFØ)"
	roleOrganiser = "organiser (DFØ)"
	roleOther     = "organiser (other organisation)"
	roleAdmin     = "admin"
)

var allRoles = []string{roleAnonymous, roleCheckIn, roleOrganiser, roleOther, roleAdmin}

// access is who may use a route.
type access int

const (
	anyStaff     access = iota // every logged-in role
	staff                      // admins and organisers of any organisation (no object in the path)
	adminOnly                  // admins
	eventManage                // admins and the event's organisers (:id is an event)
	eventCheckIn               // and the check-in volunteers of the event's organisation
	seriesManage               // admins and the series' organisers (:id is a series)
	codeCheckIn                // /admin/checkin/:code: as eventCheckIn, for the code's event
)

// routePolicy is every route under /admin with who may use it.
var routePolicy = map[string]access{
	"GET /admin":                                          anyStaff,
	"GET /admin/users":                                    adminOnly,
	"POST /admin/users":                                   adminOnly,
	"GET /admin/organisations":                            adminOnly,
	"POST /admin/organisations":                           adminOnly,
	"GET /admin/audit":                                    staff,
	"GET /admin/erase":                                    staff,
	"POST /admin/erase":                                   staff,
	"GET /admin/dashboard":                                staff,
	"GET /admin/checkin/:code":                            codeCheckIn,
	"GET /admin/events/new":                               staff,
	"POST /admin/events":                                  staff,
	"GET /admin/events/:id":                               eventManage,
	"POST /admin/events/:id":                              eventManage,
	"POST /admin/events/:id/publish":                      eventManage,
	"POST /admin/events/:id/unpublish":                    eventManage,
	"POST /admin/events/:id/duplicate":                    eventManage,
	"GET /admin/events/:id/cancel":                        eventManage,
	"POST /admin/events/:id/cancel":                       eventManage,
	"GET /admin/series/new":                               staff,
	"POST /admin/series":                                  staff,
	"GET /admin/series/:id":                               seriesManage,
	"POST /admin/series/:id":                              seriesManage,
	"GET /admin/events/:id/followup":                      eventManage,
	"POST /admin/events/:id/followup":                     eventManage,
	"POST /admin/events/:id/followup/regenerate":          eventManage,
	"POST /admin/events/:id/followup/move":                eventManage,
	"POST /admin/events/:id/followup/remove":              eventManage,
	"GET /admin/events/:id/followup/approve":              eventManage,
	"POST /admin/events/:id/followup/approve":             eventManage,
	"POST /admin/events/:id/followup/seeds/:group/start":  eventManage,
	"POST /admin/events/:id/followup/seeds/:group/invite": eventManage,
	"GET /admin/events/:id/attendees":                     eventManage,
	"GET /admin/events/:id/attendees.csv":                 eventManage,
	"GET /admin/events/:id/attendees/new":                 eventManage,
	"POST /admin/events/:id/attendees":                    eventManage,
	"POST /admin/events/:id/attendees/:reg/move":          eventManage,
	"GET /admin/events/:id/attendees/:reg/remove":         eventManage,
	"POST /admin/events/:id/attendees/:reg/remove":        eventManage,
	"GET /admin/events/:id/checkin":                       eventCheckIn,
	"POST /admin/events/:id/checkin/:reg":                 eventCheckIn,
	"POST /admin/events/:id/checkin/:reg/undo":            eventCheckIn,
	"GET /admin/events/:id/message":                       eventManage,
	"POST /admin/events/:id/message/preview":              eventManage,
	"POST /admin/events/:id/message":                      eventManage,
	"GET /admin/events/:id/dashboard":                     eventManage,
}

// notInTable are the pages for getting in: open to everyone by design.
var notInTable = []string{
	"GET /admin/login", "POST /admin/login", "POST /admin/logout",
	"GET /admin/reset", "POST /admin/reset", "GET /admin/reset/:token", "POST /admin/reset/:token",
}

// mayBeMissing are routes whose extra parameter the table cannot fill with
// a real object (a proposed network seed): an allowed user may get a 404.
var mayBeMissing = map[string]bool{
	"POST /admin/events/:id/followup/seeds/:group/start":  true,
	"POST /admin/events/:id/followup/seeds/:group/invite": true,
}

const cancelRoute = "POST /admin/events/:id/cancel"

// The organisations the objects of a request belong to.
const (
	ownOrg   = "DFØ"
	otherOrg = "other"
)

// objects are the ids the table puts into the paths, per organisation.
type objects struct {
	event, series, reg int64
	code               string
}

// allowed says whether role may use a route with access a on an object of org.
func allowed(a access, role, org string) bool {
	switch role {
	case roleAnonymous:
		return false
	case roleAdmin:
		return true
	}
	own := (role == roleOther) == (org == otherOrg) // the role's own organisation
	switch a {
	case anyStaff:
		return true
	case staff:
		return role != roleCheckIn
	case adminOnly:
		return false
	case eventManage, seriesManage:
		return role != roleCheckIn && own
	case eventCheckIn, codeCheckIn:
		return own
	}
	panic("unknown access")
}

// world is a demo app with what the table needs: DFØ's demo event, an
// event of another organisation, a series and a registration of each, and
// an organiser login at that other organisation.
type world struct {
	app      *app.App
	objs     map[string]objects
	otherOrg events.Organiser
}

func newWorld(t *testing.T) *world {
	t.Helper()
	a := apptest.New(t, apptest.Options{Demo: true})
	ctx := context.Background()
	store := events.Store{DB: a.DB}
	w := &world{app: a, objs: map[string]objects{}}
	for org, slug := range map[string]string{ownOrg: "tid-for-ledelse-bergen-psykologisk-trygghet", otherOrg: "frokostmote-beredskap-i-nord"} {
		ev, err := store.FindEventBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		if org == ownOrg && ev.Organiser.Slug != "dfo" || org == otherOrg && ev.Organiser.Slug == "dfo" {
			t.Fatalf("demo event %s belongs to %s", slug, ev.Organiser.Slug)
		}
		if org == otherOrg {
			w.otherOrg = ev.Organiser
		}
		regs, err := registration.FindRegistrations(ctx, a.DB.Read(), registration.Filter{EventID: ev.ID, Statuses: []string{registration.StatusConfirmed}, Limit: 1})
		if err != nil || len(regs) == 0 {
			t.Fatalf("no registration for %s (%v)", slug, err)
		}
		code, err := a.Registrations.CheckinCode(ctx, regs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		se := events.Series{Slug: "nettverk-" + ev.Organiser.Slug, Title: "Nettverk " + ev.Organiser.Name, OrganiserID: ev.Organiser.ID}
		if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateSeries(ctx, tx, &se) }); err != nil {
			t.Fatal(err)
		}
		w.objs[org] = objects{event: ev.ID, series: se.ID, reg: regs[0].ID, code: code}
	}
	accounts := organisers.Store{DB: a.DB, BcryptCost: bcrypt.MinCost}
	u := organisers.User{Email: "arrangor@annen.example.no", Name: "Anne Annen", Role: organisers.RoleOrganiser, OrganiserID: w.otherOrg.ID}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return accounts.CreateUser(ctx, tx, now, &u, demo.Password) }); err != nil {
		t.Fatal(err)
	}
	return w
}

// client is a browser logged in as role (anonymous: not logged in).
func (w *world) client(t *testing.T, role string) *apptest.Client {
	t.Helper()
	cl := apptest.NewClient(t, w.app.Router)
	email := map[string]string{
		roleCheckIn: "innsjekk@dfo.example.no", roleOrganiser: "arrangor@dfo.example.no",
		roleOther: "arrangor@annen.example.no", roleAdmin: "admin@moteplass.example.no",
	}[role]
	if email == "" {
		return cl
	}
	if rec := cl.PostForm("/admin/login", url.Values{"email": {email}, "password": {demo.Password}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", role, rec.Code)
	}
	return cl
}

// path puts the objects of org into a route's parameters.
func (o objects) path(route string) string {
	var parts []string
	isSeries := strings.HasPrefix(route, "/admin/series/")
	for _, seg := range strings.Split(route, "/") {
		switch seg {
		case ":id":
			if isSeries {
				seg = strconv.FormatInt(o.series, 10)
			} else {
				seg = strconv.FormatInt(o.event, 10)
			}
		case ":reg":
			seg = strconv.FormatInt(o.reg, 10)
		case ":code":
			seg = o.code
		case ":group":
			seg = "1"
		default:
			if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
				panic("routes_test: no value for " + seg + " in " + route)
			}
		}
		parts = append(parts, seg)
	}
	return strings.Join(parts, "/")
}

// adminRoutes lists "METHOD /path" of every route under /admin.
func adminRoutes(a *app.App) []string {
	var out []string
	for _, r := range a.Router.Routes() {
		if r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	slices.Sort(out)
	return out
}

func TestEveryAdminRouteIsInThePolicy(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	routes := adminRoutes(a)
	for _, r := range routes {
		if _, ok := routePolicy[r]; !ok && !slices.Contains(notInTable, r) {
			t.Errorf("%s is not in routePolicy: decide who may use it", r)
		}
	}
	for r := range routePolicy {
		if !slices.Contains(routes, r) {
			t.Errorf("routePolicy has %s, which the router does not have", r)
		}
	}
}

// TestAdminRouteAccess tries every route under /admin as every role, on
// DFØ's objects and on another organisation's. Each role gets a fresh app:
// what an allowed request changes (a cancelled event, a checked-in person)
// stays within that role's run.
func TestAdminRouteAccess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo app per role")
	}
	for _, role := range allRoles {
		t.Run(role, func(t *testing.T) {
			w := newWorld(t)
			cl := w.client(t, role)
			routes := adminRoutes(w.app)
			// cancelling the event goes last, so the other changes are
			// tried on a published event
			slices.SortStableFunc(routes, func(x, y string) int {
				return strings.Compare(strconv.FormatBool(x == cancelRoute), strconv.FormatBool(y == cancelRoute))
			})
			for _, route := range routes {
				if slices.Contains(notInTable, route) {
					continue
				}
				a, ok := routePolicy[route]
				if !ok {
					t.Errorf("%s is not in routePolicy", route)
					continue
				}
				method, pattern, _ := strings.Cut(route, " ")
				orgs := []string{ownOrg}
				if strings.Contains(pattern, ":") {
					orgs = []string{ownOrg, otherOrg}
				}
				for _, org := range orgs {
					path := w.objs[org].path(pattern)
					var rec *httptest.ResponseRecorder
					if method == http.MethodGet {
						rec = cl.Get(path)
					} else {
						rec = cl.PostForm(path, url.Values{})
					}
					check(t, route, org, role, a, method, path, rec)
				}
			}
		})
	}
}

func check(t *testing.T, route, org, role string, a access, method, path string, rec *httptest.ResponseRecorder) {
	t.Helper()
	where := fmt.Sprintf("%s as %s on %s's (%s)", route, role, org, path)
	switch {
	case role == roleAnonymous && method == http.MethodGet:
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login?next=") {
			t.Errorf("%s: %d to %q, want 303 to the login page", where, rec.Code, loc)
		}
	case role == roleAnonymous:
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", where, rec.Code)
		}
	case !allowed(a, role, org):
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", where, rec.Code)
		}
	default:
		switch {
		case rec.Code >= 500:
			t.Errorf("%s: %d, a server error", where, rec.Code)
		case rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized:
			t.Errorf("%s: %d, want it allowed", where, rec.Code)
		case rec.Code == http.StatusNotFound && !mayBeMissing[route]:
			t.Errorf("%s: 404 for an object that exists", where)
		case rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/admin/login"):
			t.Errorf("%s: sent to the login page while logged in", where)
		}
	}
}

// tableRoutes lists "METHOD /path" of every route registered in routes.go,
// read from its source: a group's prefix is followed through the variable
// it is assigned to.
func tableRoutes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	prefix := map[string]string{"r": ""} // the engine, and each group by its variable
	// path is the prefix of call's receiver and its first argument, a string.
	path := func(call *ast.CallExpr) (string, bool) {
		sel := call.Fun.(*ast.SelectorExpr)
		recv, ok := sel.X.(*ast.Ident)
		if !ok || len(call.Args) == 0 {
			return "", false
		}
		pre, ok := prefix[recv.Name]
		lit, isLit := call.Args[0].(*ast.BasicLit)
		if !ok || !isLit || lit.Kind != token.STRING {
			return "", false
		}
		p, err := strconv.Unquote(lit.Value)
		return pre + p, err == nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if call, ok := n.Rhs[0].(*ast.CallExpr); ok && len(n.Lhs) == 1 {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Group" {
					p, ok := path(call)
					if !ok {
						t.Fatalf("routes.go: a group with no literal path on a known router")
					}
					prefix[n.Lhs[0].(*ast.Ident).Name] = p
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch name := sel.Sel.Name; {
			case methods[name]:
				if p, ok := path(n); ok {
					out = append(out, name+" "+p)
				}
			case name == "Handle" || name == "Any" || name == "Match":
				t.Errorf("routes.go: %s hides the method; name each one", name)
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

func TestEveryRouteIsInTheTable(t *testing.T) {
	a := apptest.New(t, apptest.Options{}) // no mail server: the mailbox is mounted too
	var routes []string
	for _, r := range a.Router.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	slices.Sort(routes)
	table := tableRoutes(t)
	if len(table) < 90 {
		t.Fatalf("read %d routes from routes.go: the reading is broken", len(table))
	}
	for _, r := range routes {
		if !slices.Contains(table, r) {
			t.Errorf("the router has %s, which routes.go does not register", r)
		}
	}
	for _, r := range table {
		if !slices.Contains(routes, r) {
			t.Errorf("routes.go has %s, which the router does not", r)
		}
	}
}

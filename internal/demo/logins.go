package demo

import (
	"context"
	"database/sql"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/organisers"
)

// Password is the demo logins' password (printed in the README). A demo
// database is for trying the product, never for real data.
const Password = "moteplass-demo-2026"

// Logins creates one organiser login per role: an admin, an organiser and a
// check-in volunteer at DFØ (which runs "Tid for ledelse" in Bergen).
func Logins(accounts *organisers.Store) func(ctx context.Context, tx *sql.Tx, now time.Time, w *World) error {
	// The password is public, so a slow hash protects nothing here; the
	// cheapest cost keeps test start-up fast.
	cheap := *accounts
	cheap.BcryptCost = bcrypt.MinCost
	return func(ctx context.Context, tx *sql.Tx, now time.Time, w *World) error {
		dfo := w.Organisers["dfo"].ID
		for _, u := range []organisers.User{
			{Email: "admin@moteplass.example.no", Name: "Ada Administrator", Role: organisers.RoleAdmin},
			{Email: "arrangor@dfo.example.no", Name: "Ola Arrangør", Role: organisers.RoleOrganiser, OrganiserID: dfo},
			{Email: "innsjekk@dfo.example.no", Name: "Kari Innsjekk", Role: organisers.RoleCheckIn, OrganiserID: dfo},
		} {
			u := u
			if err := cheap.CreateUser(ctx, tx, now, &u, Password); err != nil {
				return err
			}
		}
		return nil
	}
}

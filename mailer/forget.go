package mailer

// What the data rights (privacy/) need of the outbox: find the mail that
// holds a person's data, and delete it. The outbox is this package's table,
// so every write to it is here; callers pass their own transaction, since
// an erasure is one.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Querier is what reads rows: the read pool or a transaction.
type Querier interface {
	queryer
	RowQuerier
}

// Found is what a search of the outbox found: the rows up to and including
// UpTo that hold one of the strings searched for.
type Found struct {
	IDs  []int64
	UpTo int64
	// Searched is what was looked for, folded as Fold folds.
	Searched []string
}

// Fold is how a search compares text: lower-cased the way SQL's lower()
// lower-cases, which folds only ASCII letters, so that what is searched
// for and what is stored are folded alike (Ø stays Ø on both sides, so an
// address typed with capitals is found only as typed and as Key).
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Search finds the rows after row after that hold one of needles anywhere:
// recipient, name, subject, bodies, calendar. Searching every body is slow:
// run it on the read pool first and then, inside the transaction, only for
// what came after (after = the first search's UpTo).
func Search(ctx context.Context, q Querier, needles []string, after int64) (Found, error) {
	f := Found{UpTo: after}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM outbox`).Scan(&f.UpTo); err != nil {
		return f, fmt.Errorf("mailer: search: %w", err)
	}
	for _, n := range needles {
		n = Fold(n)
		f.Searched = append(f.Searched, n)
		rows, err := q.QueryContext(ctx, `SELECT id FROM outbox WHERE id > ? AND id <= ? AND (instr(lower(to_address), ?) > 0
			OR instr(lower(to_name), ?) > 0 OR instr(lower(subject), ?) > 0 OR instr(lower(text_body), ?) > 0
			OR instr(lower(html_body), ?) > 0 OR instr(lower(calendar), ?) > 0)`, after, f.UpTo, n, n, n, n, n, n)
		if err != nil {
			return f, fmt.Errorf("mailer: search: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return f, fmt.Errorf("mailer: search: %w", err)
			}
			f.IDs = append(f.IDs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return f, fmt.Errorf("mailer: search: %w", err)
		}
	}
	return f, nil
}

// ForgetTo deletes the mail to an address, sent or not: all of it when
// about is empty, else only the messages whose subject or bodies hold one
// of about (an organisation erasing its attendee deletes the mail that
// links to its events). A message being sent at this moment may still
// arrive. It returns how many went.
func ForgetTo(ctx context.Context, tx *sql.Tx, address string, about []string) (int64, error) {
	key := NormalizeAddress(address)
	if key == "" {
		return 0, nil
	}
	if len(about) == 0 {
		return exec(ctx, tx, `DELETE FROM outbox WHERE to_address_norm = ?`, key)
	}
	var total int64
	for _, a := range about {
		n, err := exec(ctx, tx, `DELETE FROM outbox WHERE to_address_norm = ? AND (instr(subject, ?) > 0
			OR instr(text_body, ?) > 0 OR instr(html_body, ?) > 0)`, key, a, a, a)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Forget deletes the messages ids (what Search found), or, when about is
// not empty, those of them whose subject or bodies hold one of about.
func Forget(ctx context.Context, tx *sql.Tx, ids []int64, about []string) (int64, error) {
	var total int64
	for _, id := range ids {
		if len(about) == 0 {
			n, err := exec(ctx, tx, `DELETE FROM outbox WHERE id = ?`, id)
			if err != nil {
				return total, err
			}
			total += n
			continue
		}
		for _, a := range about {
			n, err := exec(ctx, tx, `DELETE FROM outbox WHERE id = ? AND (instr(subject, ?) > 0
				OR instr(text_body, ?) > 0 OR instr(html_body, ?) > 0)`, id, a, a, a)
			if err != nil {
				return total, err
			}
			total += n
		}
	}
	return total, nil
}

func exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("mailer: forget: %w", err)
	}
	return res.RowsAffected()
}

package events

// The SQL the organiser pages need beyond the public store: an event read
// whole inside a write transaction, unique slugs, and network series.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Slugify makes the address part of a title: lower case, the Norwegian
// letters spelt out in ASCII (æ → ae, ø → o, å → a), every other run of
// characters that are not a-z or 0-9 a single '-'.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	put := func(r string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(r)
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			put(string(r))
		case r == 'æ':
			put("ae")
		case r == 'ø':
			put("o")
		case r == 'å':
			put("a")
		case unicode.IsLetter(r):
			if a, ok := asciiLetters[r]; ok {
				put(a)
			} else {
				dash = true
			}
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > maxSlug {
		out = strings.TrimRight(out[:maxSlug], "-")
	}
	return out
}

const maxSlug = 80

// asciiLetters spells out the accented letters Norwegian names and loan
// words use (Tromsø is handled above; these are Sámi and European ones).
var asciiLetters = map[rune]string{
	'á': "a", 'à': "a", 'â': "a", 'ä': "a", 'ã': "a", 'č': "c", 'ç': "c", 'đ': "d", 'é': "e", 'è': "e",
	'ê': "e", 'ë': "e", 'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ŋ': "n", 'ñ': "n", 'ó': "o", 'ò': "o",
	'ô': "o", 'ö': "o", 'õ': "o", 'š': "s", 'ŧ': "t", 'ú': "u", 'ù': "u", 'û': "u", 'ü': "u", 'ž': "z", 'ß': "ss",
}

// slugTaken reports whether another row of table (events, series or
// organisers) than
// exceptID already has slug.
func slugTaken(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, table, slug string, exceptID int64) (bool, error) {
	if table != "events" && table != "series" && table != "organisers" {
		return false, fmt.Errorf("events: slug of unknown table %q", table)
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE slug = ? AND id <> ?`, slug, exceptID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("events: slug %s: %w", slug, err)
	}
	return true, nil
}

// uniqueSlug is base, or base-2, base-3, ... whichever is free first.
func uniqueSlug(ctx context.Context, tx *sql.Tx, table, base string, exceptID int64) (string, error) {
	if base == "" {
		base = "arrangement"
	}
	for n := 1; n < 10000; n++ {
		slug := base
		if n > 1 {
			suffix := "-" + strconv.Itoa(n)
			slug = strings.TrimRight(base[:min(len(base), maxSlug-len(suffix))], "-") + suffix
		}
		taken, err := slugTaken(ctx, tx, table, slug, exceptID)
		if err != nil {
			return "", err
		}
		if !taken {
			return slug, nil
		}
	}
	return "", fmt.Errorf("events: no free slug for %q", base)
}

// FindSeries returns a network series by id.
func (s *Store) FindSeries(ctx context.Context, id int64) (Series, error) {
	var se Series
	err := s.DB.Read().QueryRowContext(ctx, `SELECT id, slug, title, description, organiser_id FROM series WHERE id = ?`, id).
		Scan(&se.ID, &se.Slug, &se.Title, &se.Description, &se.OrganiserID)
	if errors.Is(err, sql.ErrNoRows) {
		return se, ErrNotFound
	}
	if err != nil {
		return se, fmt.Errorf("events: series %d: %w", id, err)
	}
	return se, nil
}

// FindSeriesList returns the series of one organiser, or all (0), by title.
func (s *Store) FindSeriesList(ctx context.Context, organiserID int64) ([]Series, error) {
	q := `SELECT id, slug, title, description, organiser_id FROM series`
	var args []any
	if organiserID != 0 {
		q += ` WHERE organiser_id = ?`
		args = append(args, organiserID)
	}
	rows, err := s.DB.Read().QueryContext(ctx, q+` ORDER BY title, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("events: series: %w", err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		var se Series
		if err := rows.Scan(&se.ID, &se.Slug, &se.Title, &se.Description, &se.OrganiserID); err != nil {
			return nil, fmt.Errorf("events: series: %w", err)
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// updateSeries writes a series' title and description.
func updateSeries(ctx context.Context, tx *sql.Tx, se Series) error {
	if _, err := tx.ExecContext(ctx, `UPDATE series SET title = ?, description = ? WHERE id = ?`, se.Title, se.Description, se.ID); err != nil {
		return fmt.Errorf("events: update series %d: %w", se.ID, err)
	}
	return nil
}

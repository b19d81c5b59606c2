-- Registrations (påmeldinger). Status moves confirmed <-> waiting -> cancelled;
-- attendance is a separate timestamp so it never hides the status.
CREATE TABLE registrations (
	id               INTEGER PRIMARY KEY,
	event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	status           TEXT NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
	name             TEXT NOT NULL,
	email            TEXT NOT NULL,
	-- lower-cased, trimmed: the duplicate rule compares this
	email_norm       TEXT NOT NULL,
	organisation     TEXT NOT NULL,
	-- job title or function, free text (suggestions in the form)
	role             TEXT NOT NULL DEFAULT '',
	level            TEXT NOT NULL CHECK (level IN ('top', 'middle', 'first_line', 'other')),
	sector           TEXT NOT NULL CHECK (sector IN ('state', 'municipal', 'private', 'other')),
	-- where the person works
	region           TEXT NOT NULL DEFAULT '',
	phone            TEXT NOT NULL DEFAULT '',
	dietary          TEXT NOT NULL DEFAULT '',
	accessibility    TEXT NOT NULL DEFAULT '',
	-- what the person would like on the agenda
	topics           TEXT NOT NULL DEFAULT '',
	-- the page language at sign-up; emails follow it
	lang             TEXT NOT NULL DEFAULT 'nb' CHECK (lang IN ('nb', 'en')),
	-- the current answer; the history with wording is in consents
	intro_consent    INTEGER NOT NULL DEFAULT 0,
	created_at       TIMESTAMP NOT NULL,
	updated_at       TIMESTAMP NOT NULL,
	-- when the person last got a confirmed place or joined the waiting list;
	-- the waiting list is ordered by (queued_at, id) and a position is the
	-- count of waiting registrations before it + 1, so positions have no gaps
	queued_at        TIMESTAMP NOT NULL,
	cancelled_at     TIMESTAMP,
	checked_in_at    TIMESTAMP,
	-- set when retention or erasure removed the personal data
	anonymised_at    TIMESTAMP
);
-- One person, one live registration per event.
CREATE UNIQUE INDEX registrations_one_per_email ON registrations (event_id, email_norm) WHERE status <> 'cancelled';
CREATE INDEX registrations_event_status ON registrations (event_id, status, queued_at, id);
CREATE INDEX registrations_email ON registrations (email_norm);

-- Manage links (/r/{token}). Only the SHA-256 of a token is stored, so every
-- email that carries a link gets a token of its own: a registration has as
-- many valid tokens as messages sent about it. A token works until
-- expires_at (some weeks after the event ends); an expired one is kept for a
-- while so the page can say "expired" rather than "unknown".
CREATE TABLE manage_tokens (
	-- hex SHA-256 of the random token (at least 128 bits from crypto/rand)
	token_hash      TEXT PRIMARY KEY,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	created_at      TIMESTAMP NOT NULL,
	expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX manage_tokens_registration ON manage_tokens (registration_id, created_at);
CREATE INDEX manage_tokens_expires ON manage_tokens (expires_at);

-- Every consent given or withdrawn, with its time and the wording shown.
CREATE TABLE consents (
	id              INTEGER PRIMARY KEY,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL CHECK (kind IN ('introductions')),
	granted         INTEGER NOT NULL,
	-- the version of the wording (intro-v1, ...) and the text itself, in the
	-- language the person saw it in
	wording_version TEXT NOT NULL,
	wording         TEXT NOT NULL,
	lang            TEXT NOT NULL DEFAULT 'nb',
	recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX consents_registration ON consents (registration_id, recorded_at);

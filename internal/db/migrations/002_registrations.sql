-- Registrations (påmeldinger). Status moves confirmed <-> waiting -> cancelled;
-- attendance is a separate timestamp so it never hides the status.
CREATE TABLE registrations (
	id               INTEGER PRIMARY KEY,
	event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	-- SHA-256 of the manage-link token; the token itself is never stored
	token_hash       TEXT NOT NULL UNIQUE,
	status           TEXT NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
	name             TEXT NOT NULL,
	email            TEXT NOT NULL,
	-- lower-cased, trimmed: the duplicate rule compares this
	email_norm       TEXT NOT NULL,
	organisation     TEXT NOT NULL,
	role             TEXT NOT NULL DEFAULT '',
	level            TEXT NOT NULL CHECK (level IN ('top', 'middle', 'first_line', 'other')),
	sector           TEXT NOT NULL CHECK (sector IN ('state', 'municipal', 'private', 'other')),
	region           TEXT NOT NULL DEFAULT '',
	phone            TEXT NOT NULL DEFAULT '',
	dietary          TEXT NOT NULL DEFAULT '',
	accessibility    TEXT NOT NULL DEFAULT '',
	topics           TEXT NOT NULL DEFAULT '',
	-- the page language at sign-up; emails follow it
	lang             TEXT NOT NULL DEFAULT 'nb',
	intro_consent    INTEGER NOT NULL DEFAULT 0,
	created_at       TIMESTAMP NOT NULL,
	updated_at       TIMESTAMP NOT NULL,
	-- when the person last got a confirmed place or joined the waiting list;
	-- the waiting list is ordered by (queued_at, id)
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

-- Every consent given or withdrawn, with its time and the wording shown.
CREATE TABLE consents (
	id              INTEGER PRIMARY KEY,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL CHECK (kind IN ('introductions')),
	granted         INTEGER NOT NULL,
	wording_version TEXT NOT NULL,
	wording         TEXT NOT NULL,
	recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX consents_registration ON consents (registration_id);

-- Organiser accounts, their sessions, password resets and the audit log.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE, -- lower-cased
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	-- admin: everything; organiser: their organisation's events;
	-- checkin: only the check-in page of their organisation's events
	role          TEXT NOT NULL CHECK (role IN ('admin', 'organiser', 'checkin')),
	organiser_id  INTEGER REFERENCES organisers (id),
	created_at    TIMESTAMP NOT NULL,
	disabled_at   TIMESTAMP,
	CHECK (role = 'admin' OR organiser_id IS NOT NULL)
);

-- A login session; the cookie holds the token, the table its SHA-256.
CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE password_resets (
	token_hash TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	used_at    TIMESTAMP
);

-- Who changed what, when. detail never holds a participant's personal data:
-- registrations are named by id.
CREATE TABLE audit_log (
	id           INTEGER PRIMARY KEY,
	at           TIMESTAMP NOT NULL,
	user_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
	organiser_id INTEGER REFERENCES organisers (id),
	action       TEXT NOT NULL,
	object_type  TEXT NOT NULL,
	object_id    INTEGER,
	detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_organiser ON audit_log (organiser_id, at);

-- Regions, organisers, venues, network series, events and their agendas.
-- Times are UTC TIMESTAMPs; booleans are 0/1 INTEGERs; lists are join tables,
-- so that the same schema reads naturally in PostgreSQL.

CREATE TABLE regions (
	id         INTEGER PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE organisers (
	id            INTEGER PRIMARY KEY,
	slug          TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	-- provider kind from the research note: public, organisation, commercial
	kind          TEXT NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'organisation', 'commercial')),
	contact_email TEXT NOT NULL,
	website       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE venues (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	street        TEXT NOT NULL DEFAULT '',
	postcode      TEXT NOT NULL DEFAULT '',
	city          TEXT NOT NULL DEFAULT '',
	latitude      REAL,
	longitude     REAL,
	accessibility TEXT NOT NULL DEFAULT ''
);

-- A network (nettverk): a bounded peer group whose meetings are events.
CREATE TABLE series (
	id           INTEGER PRIMARY KEY,
	slug         TEXT NOT NULL UNIQUE,
	title        TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	organiser_id INTEGER NOT NULL REFERENCES organisers (id)
);

CREATE TABLE events (
	id                     INTEGER PRIMARY KEY,
	slug                   TEXT NOT NULL UNIQUE,
	title                  TEXT NOT NULL,
	summary                TEXT NOT NULL DEFAULT '',
	description            TEXT NOT NULL DEFAULT '',
	format                 TEXT NOT NULL CHECK (format IN ('meeting_place', 'network_meeting', 'conference', 'breakfast_seminar', 'digital_meeting')),
	mode                   TEXT NOT NULL DEFAULT 'physical' CHECK (mode IN ('physical', 'digital', 'hybrid')),
	starts_at              TIMESTAMP NOT NULL,
	ends_at                TIMESTAMP NOT NULL,
	region_id              INTEGER NOT NULL REFERENCES regions (id),
	venue_id               INTEGER REFERENCES venues (id),
	online_url             TEXT NOT NULL DEFAULT '',
	capacity               INTEGER NOT NULL CHECK (capacity >= 0),
	registration_opens_at  TIMESTAMP,
	registration_closes_at TIMESTAMP,
	price_nok              INTEGER NOT NULL DEFAULT 0 CHECK (price_nok >= 0),
	sector                 TEXT NOT NULL DEFAULT 'public' CHECK (sector IN ('public', 'mixed')),
	invitation_only        INTEGER NOT NULL DEFAULT 0,
	invite_code            TEXT NOT NULL DEFAULT '',
	facilitation           TEXT NOT NULL DEFAULT 'facilitated' CHECK (facilitation IN ('facilitated', 'self_run')),
	theme                  TEXT NOT NULL DEFAULT 'leadership' CHECK (theme IN ('leadership', 'subject', 'both')),
	language               TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
	status                 TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
	organiser_id           INTEGER NOT NULL REFERENCES organisers (id),
	series_id              INTEGER REFERENCES series (id),
	-- the member organisation hosting this meeting of a series (vertskap)
	host                   TEXT NOT NULL DEFAULT '',
	-- iCalendar SEQUENCE: raised on every change that matters to an attendee
	sequence               INTEGER NOT NULL DEFAULT 0,
	created_at             TIMESTAMP NOT NULL,
	updated_at             TIMESTAMP NOT NULL,
	CHECK (ends_at > starts_at)
);
CREATE INDEX events_starts_at ON events (status, starts_at);
CREATE INDEX events_region ON events (region_id, starts_at);
CREATE INDEX events_organiser ON events (organiser_id, starts_at);
CREATE INDEX events_series ON events (series_id, starts_at);

-- Target leader levels and roles; an event with none targets all.
CREATE TABLE event_levels (
	event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	level    TEXT NOT NULL CHECK (level IN ('top', 'middle', 'first_line')),
	PRIMARY KEY (event_id, level)
);
CREATE TABLE event_roles (
	event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	role     TEXT NOT NULL CHECK (role IN ('communication', 'administration', 'finance', 'hr', 'it', 'specialist')),
	PRIMARY KEY (event_id, role)
);

CREATE TABLE agenda_items (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	starts_at  TIMESTAMP,
	title      TEXT NOT NULL,
	introducer TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agenda_items_event ON agenda_items (event_id, position);

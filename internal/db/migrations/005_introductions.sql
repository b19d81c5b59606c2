-- Introductions after an event (introductions/): the organiser's proposal of
-- introduction groups and network seeds, what was sent, the links in those
-- emails and who said they met. Personal data stays in registrations: these
-- tables hold registration ids only, and removing a registration removes it
-- from every group (ON DELETE CASCADE).

-- One round per event: a draft the organiser edits, regenerates (a new seed)
-- and finally approves, which sends it.
CREATE TABLE intro_rounds (
	id          INTEGER PRIMARY KEY,
	event_id    INTEGER NOT NULL UNIQUE REFERENCES events (id) ON DELETE CASCADE,
	-- the seed given to the matching, so a proposal can be reproduced
	seed        INTEGER NOT NULL,
	status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent')),
	created_at  TIMESTAMP NOT NULL,
	updated_at  TIMESTAMP NOT NULL,
	sent_at     TIMESTAMP,
	-- when the "did you meet?" reminders were queued
	reminded_at TIMESTAMP
);
CREATE INDEX intro_rounds_sent ON intro_rounds (status, sent_at);

-- An introduction group (kind intro) or a proposed network seed (kind seed).
CREATE TABLE intro_groups (
	id               INTEGER PRIMARY KEY,
	round_id         INTEGER NOT NULL REFERENCES intro_rounds (id) ON DELETE CASCADE,
	kind             TEXT NOT NULL CHECK (kind IN ('intro', 'seed')),
	-- the number the organiser sees ("group 3"), per round and kind
	position         INTEGER NOT NULL,
	score            REAL NOT NULL DEFAULT 0,
	-- why these people, as the matching (or Describe, after an edit) put it
	reason_nb        TEXT NOT NULL DEFAULT '',
	reason_en        TEXT NOT NULL DEFAULT '',
	-- set when the organiser changed the members by hand
	edited           INTEGER NOT NULL DEFAULT 0,
	-- a seed turned into a network: the series and its first meeting
	series_id        INTEGER REFERENCES series (id) ON DELETE SET NULL,
	network_event_id INTEGER REFERENCES events (id) ON DELETE SET NULL,
	started_at       TIMESTAMP,
	-- when the seed's members were invited to the first meeting
	invited_at       TIMESTAMP,
	UNIQUE (round_id, kind, position),
	UNIQUE (id, round_id, kind)
);

-- Who is in a group. round_id and kind repeat the group's, so that the
-- database itself keeps a person in at most one group of each kind a round.
CREATE TABLE intro_members (
	id              INTEGER PRIMARY KEY,
	group_id        INTEGER NOT NULL,
	round_id        INTEGER NOT NULL,
	kind            TEXT NOT NULL,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	-- the answer to "did you meet?": NULL until answered, 1 yes, 0 not yet
	met             INTEGER,
	answered_at     TIMESTAMP,
	FOREIGN KEY (group_id, round_id, kind) REFERENCES intro_groups (id, round_id, kind) ON DELETE CASCADE,
	UNIQUE (round_id, kind, registration_id)
);
CREATE INDEX intro_members_group ON intro_members (group_id);
CREATE INDEX intro_members_registration ON intro_members (registration_id);

-- People who took part but are in no introduction group, and why: the
-- matching's reason (cause match), removed by the organiser (removed), or
-- left alone in a group when the round was sent (alone).
CREATE TABLE intro_left_out (
	round_id        INTEGER NOT NULL REFERENCES intro_rounds (id) ON DELETE CASCADE,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	cause           TEXT NOT NULL DEFAULT 'match' CHECK (cause IN ('match', 'removed', 'alone')),
	reason_nb       TEXT NOT NULL DEFAULT '',
	reason_en       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (round_id, registration_id)
);
CREATE INDEX intro_left_out_registration ON intro_left_out (registration_id);

-- The links in introduction emails: "stop future introductions" (stop) and
-- the "did you meet?" answers (met). Only the SHA-256 of a token is stored.
CREATE TABLE intro_tokens (
	token_hash      TEXT PRIMARY KEY,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	-- the membership a "did you meet?" answer is for; NULL for stop links
	member_id       INTEGER REFERENCES intro_members (id) ON DELETE CASCADE,
	purpose         TEXT NOT NULL CHECK (purpose IN ('stop', 'met')),
	created_at      TIMESTAMP NOT NULL,
	expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX intro_tokens_registration ON intro_tokens (registration_id);
CREATE INDEX intro_tokens_expires ON intro_tokens (expires_at);

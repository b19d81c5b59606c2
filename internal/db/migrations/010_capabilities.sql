-- What a manage link proves, and health data under its own consent.
--
-- A manage link is a capability for one registration. Two kinds exist:
--   mail: sent to the address in an email. Opening it proves that the holder
--         reads mail there, so it also opens what spans the person's
--         registrations: their data download, erasure, personal calendar feed.
--   page: handed to the browser that submitted the sign-up form. Typing an
--         address into a form proves nothing, so it opens that one
--         registration only, for a short time, and stops working once the
--         person has changed it through a mail link.
-- Every token made before this migration went out by email as well.
ALTER TABLE manage_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'mail' CHECK (scope IN ('mail', 'page'));

-- Dietary and accessibility needs are health data (GDPR art. 9): they are
-- kept only with an explicit consent of their own, recorded with its
-- wording in consents (kind 'health'), shown only to the organisers of the
-- event, and removed soon after it. health_consent is the current answer.
-- Needs given before this migration were given under the privacy notice of
-- the time; they keep it until the retention removes them.
ALTER TABLE registrations ADD COLUMN health_consent INTEGER NOT NULL DEFAULT 0;
UPDATE registrations SET health_consent = 1 WHERE dietary <> '' OR accessibility <> '';
-- when retention removed the needs (kept apart from anonymised_at: the rest
-- of the registration stays longer)
ALTER TABLE registrations ADD COLUMN needs_removed_at TIMESTAMP;

-- consents.kind gains 'health'. SQLite cannot change a CHECK constraint,
-- so the table is rebuilt (nothing references it).
CREATE TABLE consents_new (
	id              INTEGER PRIMARY KEY,
	registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL CHECK (kind IN ('introductions', 'health')),
	granted         INTEGER NOT NULL,
	wording_version TEXT NOT NULL,
	wording         TEXT NOT NULL,
	lang            TEXT NOT NULL DEFAULT 'nb',
	recorded_at     TIMESTAMP NOT NULL
);
INSERT INTO consents_new (id, registration_id, kind, granted, wording_version, wording, lang, recorded_at)
	SELECT id, registration_id, kind, granted, wording_version, wording, lang, recorded_at FROM consents;
DROP TABLE consents;
ALTER TABLE consents_new RENAME TO consents;
CREATE INDEX consents_registration ON consents (registration_id, recorded_at);

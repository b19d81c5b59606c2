-- Personal calendar feeds (/feeds/{token}.ics): one per address, across
-- events, listing the events the address has a confirmed place at.
--
-- Unlike the manage links, the token itself is stored, not its hash: the
-- manage page shows the feed's address every time it is opened, and there
-- is no email to carry a fresh one. The trade-off is acceptable because a
-- feed reveals only which events a person attends (no contact details),
-- and its owner can reset it (a new token; the old address answers 404).
CREATE TABLE personal_feeds (
	-- as registrations.email_norm: lower-cased, trimmed
	email_norm TEXT PRIMARY KEY,
	-- 256 random bits from crypto/rand, base64url (43 characters)
	token      TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL
);

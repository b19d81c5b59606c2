-- An event's counts of confirmed and waiting registrations, kept on the
-- event by triggers. Every sign-up decides "place or waiting list" and
-- tells a waiting person their place in line inside the single writer;
-- counting the registrations there each time (a scan of the event's part
-- of an index) made a sign-up's cost grow with the queue. The triggers
-- keep the counts right whatever changes a registration (sign-up, cancel,
-- promotion, removal, erasure, deleting the event), so no code path can
-- forget them. Pages still count the rows: they read a snapshot anyway.
--
-- PostgreSQL: the same three triggers as one plpgsql function.
ALTER TABLE events ADD COLUMN confirmed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN waitlist_count INTEGER NOT NULL DEFAULT 0;

UPDATE events SET
	confirmed_count = (SELECT COUNT(*) FROM registrations r WHERE r.event_id = events.id AND r.status = 'confirmed'),
	waitlist_count = (SELECT COUNT(*) FROM registrations r WHERE r.event_id = events.id AND r.status = 'waiting');

CREATE TRIGGER registrations_count_insert AFTER INSERT ON registrations
BEGIN
	UPDATE events SET
		confirmed_count = confirmed_count + (CASE WHEN NEW.status = 'confirmed' THEN 1 ELSE 0 END),
		waitlist_count = waitlist_count + (CASE WHEN NEW.status = 'waiting' THEN 1 ELSE 0 END)
	WHERE id = NEW.event_id;
END;

CREATE TRIGGER registrations_count_update AFTER UPDATE OF status, event_id ON registrations
WHEN OLD.status <> NEW.status OR OLD.event_id <> NEW.event_id
BEGIN
	UPDATE events SET
		confirmed_count = confirmed_count - (CASE WHEN OLD.status = 'confirmed' THEN 1 ELSE 0 END),
		waitlist_count = waitlist_count - (CASE WHEN OLD.status = 'waiting' THEN 1 ELSE 0 END)
	WHERE id = OLD.event_id;
	UPDATE events SET
		confirmed_count = confirmed_count + (CASE WHEN NEW.status = 'confirmed' THEN 1 ELSE 0 END),
		waitlist_count = waitlist_count + (CASE WHEN NEW.status = 'waiting' THEN 1 ELSE 0 END)
	WHERE id = NEW.event_id;
END;

CREATE TRIGGER registrations_count_delete AFTER DELETE ON registrations
BEGIN
	UPDATE events SET
		confirmed_count = confirmed_count - (CASE WHEN OLD.status = 'confirmed' THEN 1 ELSE 0 END),
		waitlist_count = waitlist_count - (CASE WHEN OLD.status = 'waiting' THEN 1 ELSE 0 END)
	WHERE id = OLD.event_id;
END;

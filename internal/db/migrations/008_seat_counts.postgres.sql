-- 008_seat_counts.sql for PostgreSQL: the same counts on the event, kept by
-- one trigger function instead of SQLite's three triggers (see there for
-- why the counts are kept). A trigger runs in the transaction of the
-- change, after the row lock the sign-up took on the event (FOR UPDATE),
-- so concurrent instances count right.
ALTER TABLE events ADD COLUMN confirmed_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN waitlist_count BIGINT NOT NULL DEFAULT 0;

UPDATE events SET
	confirmed_count = (SELECT COUNT(*) FROM registrations r WHERE r.event_id = events.id AND r.status = 'confirmed'),
	waitlist_count = (SELECT COUNT(*) FROM registrations r WHERE r.event_id = events.id AND r.status = 'waiting');

CREATE FUNCTION registrations_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE events SET
			confirmed_count = confirmed_count - (CASE WHEN OLD.status = 'confirmed' THEN 1 ELSE 0 END),
			waitlist_count = waitlist_count - (CASE WHEN OLD.status = 'waiting' THEN 1 ELSE 0 END)
		WHERE id = OLD.event_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE events SET
			confirmed_count = confirmed_count + (CASE WHEN NEW.status = 'confirmed' THEN 1 ELSE 0 END),
			waitlist_count = waitlist_count + (CASE WHEN NEW.status = 'waiting' THEN 1 ELSE 0 END)
		WHERE id = NEW.event_id;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER registrations_count_insert AFTER INSERT ON registrations
	FOR EACH ROW EXECUTE FUNCTION registrations_count();
CREATE TRIGGER registrations_count_update AFTER UPDATE OF status, event_id ON registrations
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.event_id IS DISTINCT FROM NEW.event_id)
	EXECUTE FUNCTION registrations_count();
CREATE TRIGGER registrations_count_delete AFTER DELETE ON registrations
	FOR EACH ROW EXECUTE FUNCTION registrations_count();

-- instr for PostgreSQL, as SQLite's (see 012_instr.sql).
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT strpos(haystack, needle) $$;

-- The names behind src/safe-functions.ts (SAFE_BUILTIN_FUNCTIONS): pg_catalog functions, aggregates
-- and window functions whose every overload is IMMUTABLE or STABLE (PostgreSQL marks anything with a
-- side effect VOLATILE), that SQL can call (not only internal or cstring arguments, no trigger or
-- handler results), minus the stable ones that run SQL named in a string or assign a transaction ID.
-- Regenerate with: psql -Atf services/postgres/scripts/safe-functions.sql
SELECT string_agg(proname, ' ' ORDER BY proname)
FROM (
  SELECT p.proname
  FROM pg_catalog.pg_proc p
  WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind IN ('f', 'a', 'w')
  GROUP BY p.proname
  HAVING bool_and(p.provolatile IN ('i', 's'))
     AND bool_or(
       NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]))
       AND NOT ('cstring'::regtype = ANY (p.proargtypes::regtype[]))
       AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype,
                                'language_handler'::regtype, 'fdw_handler'::regtype, 'index_am_handler'::regtype,
                                'table_am_handler'::regtype, 'tsm_handler'::regtype))
) safe
WHERE proname NOT IN ('txid_current', 'pg_current_xact_id')
  AND proname !~ '^(database|schema|table|query|cursor)_to_xml';

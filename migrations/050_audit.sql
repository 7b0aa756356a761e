-- 050: the audit of every sync operation (the seed's "log all sync
-- operations"; issue 15, item 6). Only additions. Kept for
-- CALSYNC_AUDIT_RETENTION_DAYS, pruned in batches by the scheduler's leader.

-- One row per job attempt that ended: what it was, how it ended, its counts.
-- The worker writes these in batches (at most a second late, at once on
-- drain), so that a sync that changed nothing writes nothing at its end.
-- No foreign keys: the record outlives the calendar it tells about.
CREATE TABLE sync_audit_jobs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id TEXT NOT NULL,
    job_type TEXT NOT NULL,
    calendar_id UUID,
    tenant_id UUID,
    status TEXT NOT NULL,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    worker TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    finished_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX sync_audit_jobs_calendar ON sync_audit_jobs (calendar_id, finished_at DESC);
CREATE INDEX sync_audit_jobs_finished ON sync_audit_jobs (finished_at);

-- One row per change of one event, written in the transaction of the change:
--   side 'hub'      the Family Hub copy changed: by a calsync job (job_id: a pull,
--                   a resolve, a disconnect) or in Family Hub itself (job_id NULL:
--                   the backend, a person in the app)
--   side 'provider' calsync wrote the provider's copy (a push, job_id set)
-- action: created, updated, deleted, restored; fields: the event's columns
-- that changed (for a push: the Hub changes it carried, as far as recorded).
CREATE TABLE sync_audit_changes (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id TEXT,
    calendar_id UUID,
    event_id UUID,
    external_event_id TEXT,
    side TEXT NOT NULL CHECK (side IN ('hub', 'provider')),
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'restored')),
    fields TEXT[] NOT NULL DEFAULT '{}',
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX sync_audit_changes_calendar ON sync_audit_changes (calendar_id, changed_at DESC);
CREATE INDEX sync_audit_changes_event ON sync_audit_changes (event_id, changed_at DESC);
CREATE INDEX sync_audit_changes_changed ON sync_audit_changes (changed_at);

-- The fields of an events row that differ between two versions of it.
CREATE FUNCTION calsync_event_fields(o events, n events) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(array_agg(f ORDER BY f), '{}') FROM (VALUES
        ('title', o.title IS DISTINCT FROM n.title),
        ('description', o.description IS DISTINCT FROM n.description),
        ('location', o.location IS DISTINCT FROM n.location),
        ('start_time', o.start_time IS DISTINCT FROM n.start_time),
        ('end_time', o.end_time IS DISTINCT FROM n.end_time),
        ('is_all_day', o.is_all_day IS DISTINCT FROM n.is_all_day),
        ('timezone', o.timezone IS DISTINCT FROM n.timezone),
        ('recurrence', o.recurrence IS DISTINCT FROM n.recurrence),
        ('attendees', o.attendees IS DISTINCT FROM n.attendees),
        ('status', o.status IS DISTINCT FROM n.status)
    ) AS d(f, changed) WHERE changed
$$;

-- Statement-level triggers (one INSERT per statement, however many rows). The
-- function runs with its owner's rights (SECURITY DEFINER, with the search path
-- of this migration), so that whoever writes events - the backend's role, a
-- worker's - needs no right on the audit table.
-- a worker's transactions carry their job (calsync.job_id, calsync.calendar_id,
-- set transaction-locally by cs_db_begin); untagged writes are Family Hub's own.
CREATE FUNCTION calsync_audit_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    job TEXT := NULLIF(current_setting('calsync.job_id', true), '');
    cal UUID := NULLIF(current_setting('calsync.calendar_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sync_audit_changes (job_id, calendar_id, event_id, side, action, fields)
        SELECT job, COALESCE(cal, n.source_calendar_id), n.id, 'hub',
               CASE WHEN n.deleted_at IS NULL THEN 'created' ELSE 'deleted' END,
               calsync_event_fields(NULL::events, n)
        FROM new_rows n;
    ELSE
        INSERT INTO sync_audit_changes (job_id, calendar_id, event_id, side, action, fields)
        SELECT job, COALESCE(cal, n.source_calendar_id), n.id, 'hub',
               CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'deleted'
                    WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'restored'
                    ELSE 'updated' END,
               calsync_event_fields(o, n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.deleted_at IS DISTINCT FROM n.deleted_at
           OR calsync_event_fields(o, n) <> '{}';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER calsync_audit_events_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calsync_audit_events();
CREATE TRIGGER calsync_audit_events_update AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calsync_audit_events();

-- 003: what calsync adds to the seed's tables for its own bookkeeping.
-- Only additions: no seed column is removed or renamed.

-- One state row per calendar (calsync creates it on first sync).
CREATE UNIQUE INDEX uq_calendar_sync_states_calendar
    ON calendar_sync_states(external_calendar_id);
-- Fencing token of the last job that committed on this calendar: a job
-- whose claim was taken over carries an older token and cannot commit.
ALTER TABLE calendar_sync_states ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calendar_sync_states ADD COLUMN last_full_sync_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE calendar_sync_states ADD COLUMN last_job_id TEXT;

-- Content fingerprints at the last sync, to tell "changed since" on
-- either side without trusting clocks (no echo, conflict detection).
ALTER TABLE calendar_event_mappings ADD COLUMN local_hash TEXT;
ALTER TABLE calendar_event_mappings ADD COLUMN remote_hash TEXT;


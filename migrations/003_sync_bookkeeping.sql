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
-- A pull interrupted between two pages resumes from page_token; a full
-- sync marks what it saw with its generation to find deletions at the end.
ALTER TABLE calendar_sync_states ADD COLUMN page_token TEXT;
ALTER TABLE calendar_sync_states ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calendar_sync_states ADD COLUMN full_sync_running BOOLEAN NOT NULL DEFAULT FALSE;

-- Content fingerprints at the last sync, to tell "changed since" on
-- either side without trusting clocks (no echo, conflict detection).
ALTER TABLE calendar_event_mappings ADD COLUMN local_hash TEXT;
ALTER TABLE calendar_event_mappings ADD COLUMN remote_hash TEXT;
-- Generation of the last full sync that saw the remote event.
ALTER TABLE calendar_event_mappings ADD COLUMN seen_generation BIGINT NOT NULL DEFAULT 0;
-- The remote said it is gone; applied (or held by the mass-deletion
-- guard) when the pull ends.
ALTER TABLE calendar_event_mappings ADD COLUMN pending_delete BOOLEAN NOT NULL DEFAULT FALSE;
-- An override's series on the remote side, to link it once the series is known.
ALTER TABLE calendar_event_mappings ADD COLUMN remote_series_id VARCHAR(1024);

CREATE INDEX idx_event_mappings_pending_delete
    ON calendar_event_mappings(external_calendar_id) WHERE pending_delete;
CREATE INDEX idx_calendar_conflicts_pending
    ON calendar_conflicts(event_id, external_calendar_id) WHERE status = 'pending';

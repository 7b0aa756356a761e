-- 008: what ignored deletions, reconnects and held mass deletions need
-- (contract 5.5, 5.8, 5.10 and `calsync deletions`). Only additions.

-- A delete_conflict resolved `ignore`: calsync writes neither side of this
-- pair (no tombstone, no remote delete, no re-create) until the side that
-- is gone comes back.
ALTER TABLE calendar_event_mappings ADD COLUMN left_alone BOOLEAN NOT NULL DEFAULT FALSE;

-- The mappings of a connection removed with its events kept (disconnect,
-- remove_events false), so that connecting the same provider calendar
-- again links the kept events to their remote copies with the state both
-- sides had: never a second copy of each.
CREATE TABLE calendar_detached_mappings (
    tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    provider VARCHAR(50) NOT NULL,
    provider_calendar_id VARCHAR(255) NOT NULL,
    external_event_id VARCHAR(255) NOT NULL,
    event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    source_calendar_id UUID NOT NULL,          -- the connection that was removed
    external_etag VARCHAR(255),
    sync_direction VARCHAR(20),
    local_hash TEXT,
    remote_hash TEXT,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    left_alone BOOLEAN NOT NULL DEFAULT FALSE,
    remote_series_id VARCHAR(1024),
    last_synced_at TIMESTAMP WITH TIME ZONE,
    detached_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (tenant_id, provider, provider_calendar_id, external_event_id)
);

-- A person's decision on deletions the mass-deletion guard held
-- (`calsync deletions --approve|--reject`): the remote ids it covers, and
-- when a sync of the calendar applied it (once).
CREATE TABLE calendar_deletion_reviews (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    external_calendar_id UUID NOT NULL REFERENCES external_calendars(id) ON DELETE CASCADE,
    decision VARCHAR(20) NOT NULL CHECK (decision IN ('approve', 'reject')),
    external_event_ids JSONB NOT NULL,
    decided_by UUID REFERENCES users(id) ON DELETE SET NULL,
    decided_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    applied_at TIMESTAMP WITH TIME ZONE,
    applied_count INTEGER
);

CREATE INDEX idx_deletion_reviews_open
    ON calendar_deletion_reviews(external_calendar_id) WHERE applied_at IS NULL;

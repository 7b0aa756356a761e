-- 002: the four tables of the seed design, exactly as the seed gives
-- them (every column, type, default, constraint and index), plus the
-- Apple ID of an iCloud app password (caldav_username) that the seed forgot.

CREATE TABLE external_calendars (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,

    -- Provider info
    provider VARCHAR(50) NOT NULL,  -- 'google', 'icloud', 'outlook'
    provider_calendar_id VARCHAR(255) NOT NULL,  -- Provider's calendar ID
    calendar_name VARCHAR(255),
    calendar_color VARCHAR(7),

    -- OAuth credentials (encrypted)
    access_token_encrypted TEXT,
    refresh_token_encrypted TEXT,
    token_expires_at TIMESTAMP WITH TIME ZONE,

    -- iCloud specific
    caldav_url TEXT,
    icloud_app_password_encrypted TEXT,
    caldav_username VARCHAR(255),

    -- Sync settings
    sync_direction VARCHAR(20) DEFAULT 'bidirectional',  -- 'bidirectional', 'pull_only', 'push_only'
    is_primary BOOLEAN DEFAULT FALSE,  -- Primary calendar for new events
    is_active BOOLEAN DEFAULT TRUE,

    -- Timestamps
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),

    UNIQUE(tenant_id, provider, provider_calendar_id)
);

CREATE INDEX idx_external_calendars_tenant ON external_calendars(tenant_id);
CREATE INDEX idx_external_calendars_user ON external_calendars(user_id);

CREATE TABLE calendar_sync_states (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    external_calendar_id UUID NOT NULL REFERENCES external_calendars(id) ON DELETE CASCADE,

    -- Sync tracking
    last_sync_at TIMESTAMP WITH TIME ZONE,
    last_sync_status VARCHAR(50),  -- 'success', 'failed', 'partial', 'auth_required'
    last_sync_error TEXT,

    -- Incremental sync tokens
    sync_token TEXT,  -- Google sync token
    ctag TEXT,        -- CalDAV ctag

    -- Stats
    events_synced INTEGER DEFAULT 0,
    events_created INTEGER DEFAULT 0,
    events_updated INTEGER DEFAULT 0,
    events_deleted INTEGER DEFAULT 0,

    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE calendar_event_mappings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),

    -- Family Hub event
    event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,

    -- External event
    external_calendar_id UUID NOT NULL REFERENCES external_calendars(id) ON DELETE CASCADE,
    external_event_id VARCHAR(255) NOT NULL,
    external_etag VARCHAR(255),  -- For change detection

    -- Sync metadata
    last_synced_at TIMESTAMP WITH TIME ZONE,
    sync_direction VARCHAR(20),  -- 'from_external', 'to_external'
    is_deleted BOOLEAN DEFAULT FALSE,

    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),

    UNIQUE(event_id, external_calendar_id),
    UNIQUE(external_calendar_id, external_event_id)
);

CREATE INDEX idx_event_mappings_event ON calendar_event_mappings(event_id);
CREATE INDEX idx_event_mappings_external ON calendar_event_mappings(external_calendar_id);

CREATE TABLE calendar_conflicts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,

    -- Conflicting events
    event_id UUID REFERENCES events(id) ON DELETE SET NULL,
    external_calendar_id UUID REFERENCES external_calendars(id) ON DELETE CASCADE,
    external_event_id VARCHAR(255),

    -- Conflict details
    conflict_type VARCHAR(50) NOT NULL,  -- 'time_overlap', 'update_conflict', 'delete_conflict'
    local_data JSONB,       -- Family Hub event data at conflict time
    external_data JSONB,    -- External event data at conflict time

    -- Resolution
    status VARCHAR(50) DEFAULT 'pending',  -- 'pending', 'resolved_local', 'resolved_external', 'ignored'
    resolved_at TIMESTAMP WITH TIME ZONE,
    resolved_by UUID REFERENCES users(id),
    resolution_notes TEXT,

    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX idx_calendar_conflicts_tenant ON calendar_conflicts(tenant_id, status);

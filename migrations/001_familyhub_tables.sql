-- 001: the Family Hub tables calsync references.
-- A real Family Hub database already has them: then only the columns
-- calsync needs and that are missing are added; nothing else is touched.

CREATE TABLE IF NOT EXISTS tenants (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    timezone VARCHAR(64) NOT NULL DEFAULT 'UTC'
);
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS name VARCHAR(255);
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS timezone VARCHAR(64) DEFAULT 'UTC';

CREATE TABLE IF NOT EXISTS users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    display_name VARCHAR(255)
);
ALTER TABLE users ADD COLUMN IF NOT EXISTS tenant_id UUID;
ALTER TABLE users ADD COLUMN IF NOT EXISTS email VARCHAR(255);
ALTER TABLE users ADD COLUMN IF NOT EXISTS display_name VARCHAR(255);

CREATE TABLE IF NOT EXISTS events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    title VARCHAR(500) NOT NULL DEFAULT '',
    description TEXT,
    location TEXT,
    start_time TIMESTAMP WITH TIME ZONE NOT NULL,
    end_time TIMESTAMP WITH TIME ZONE NOT NULL,
    is_all_day BOOLEAN NOT NULL DEFAULT FALSE,
    timezone VARCHAR(64),
    recurrence TEXT,
    recurring_event_id UUID REFERENCES events(id) ON DELETE CASCADE,
    original_start_time TIMESTAMP WITH TIME ZONE,
    attendees TEXT[] NOT NULL DEFAULT '{}',
    status VARCHAR(20) NOT NULL DEFAULT 'confirmed',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMP WITH TIME ZONE
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS tenant_id UUID;
ALTER TABLE events ADD COLUMN IF NOT EXISTS created_by UUID;
ALTER TABLE events ADD COLUMN IF NOT EXISTS title VARCHAR(500) DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS description TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS location TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS start_time TIMESTAMP WITH TIME ZONE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS end_time TIMESTAMP WITH TIME ZONE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS is_all_day BOOLEAN DEFAULT FALSE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS timezone VARCHAR(64);
ALTER TABLE events ADD COLUMN IF NOT EXISTS recurrence TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS recurring_event_id UUID;
ALTER TABLE events ADD COLUMN IF NOT EXISTS original_start_time TIMESTAMP WITH TIME ZONE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS attendees TEXT[] DEFAULT '{}';
ALTER TABLE events ADD COLUMN IF NOT EXISTS status VARCHAR(20) DEFAULT 'confirmed';
ALTER TABLE events ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW();
ALTER TABLE events ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMP WITH TIME ZONE;

-- calsync's own: the external calendar an event was pulled from (NULL: a
-- Family Hub event). No foreign key: a disconnected calendar's events stay.
ALTER TABLE events ADD COLUMN IF NOT EXISTS source_calendar_id UUID;

CREATE INDEX IF NOT EXISTS idx_events_tenant_updated ON events(tenant_id, updated_at);
-- The Hub-created events of a person, for time_overlap checks.
CREATE INDEX IF NOT EXISTS idx_events_hub_created ON events(tenant_id, created_by, start_time)
    WHERE source_calendar_id IS NULL AND deleted_at IS NULL;

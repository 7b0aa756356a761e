-- 040_watch_channels.sql - provider push channels (issue 14): a Google
-- channel (events.watch) or a Graph subscription per calendar, so that a
-- remote change is pulled within seconds; polling stays as the safety net.
--
-- One row per calendar: the channel in force. channel_id is calsync's id of
-- a Google channel or Graph's id of a subscription; resource_id is Google's
-- resourceId (NULL for Graph). The per-channel secret (Google's channel
-- token, Graph's clientState) is never stored: only its BLAKE2b hash
-- (libsodium crypto_generichash, hex), which calsync-hooks compares with
-- the hash of what a notification carries.
--
-- state: live (notifications expected until expires_at), failed (it could
-- not be made: the calendar is polled at the short interval, last_error
-- says why), removed (the provider dropped it: recreate, do not renew).
CREATE TABLE IF NOT EXISTS calendar_watch_channels (
    external_calendar_id UUID PRIMARY KEY REFERENCES external_calendars(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    channel_id TEXT,
    resource_id TEXT,
    token_hash TEXT,
    address TEXT,
    expires_at TIMESTAMPTZ,
    state TEXT NOT NULL CHECK (state IN ('live', 'failed', 'removed')),
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CHECK (state <> 'live' OR (channel_id IS NOT NULL AND token_hash IS NOT NULL
                               AND expires_at IS NOT NULL))
);

CREATE UNIQUE INDEX IF NOT EXISTS calendar_watch_channels_channel
    ON calendar_watch_channels (provider, channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS calendar_watch_channels_expiry
    ON calendar_watch_channels (expires_at) WHERE state = 'live';

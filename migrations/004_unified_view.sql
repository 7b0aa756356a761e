-- 004: the unified calendar of the seed design - each live event with its
-- provider badge ('google', 'icloud', 'outlook' or 'hub'), calendar name
-- and colour. An event that came from an external calendar carries that
-- calendar's badge; a Hub-created event carries 'hub'.

CREATE VIEW unified_calendar_events AS
SELECT e.id,
       e.tenant_id,
       e.title,
       e.description,
       e.location,
       e.start_time,
       e.end_time,
       e.is_all_day,
       e.timezone,
       e.recurrence,
       e.recurring_event_id,
       e.original_start_time,
       e.status,
       COALESCE(src.provider, 'hub') AS provider,
       COALESCE(src.calendar_name, 'Family Hub') AS calendar_name,
       src.calendar_color,
       src.id AS external_calendar_id
FROM events e
LEFT JOIN LATERAL (
    SELECT ec.id, ec.provider, ec.calendar_name, ec.calendar_color
    FROM calendar_event_mappings m
    JOIN external_calendars ec ON ec.id = m.external_calendar_id
    WHERE m.event_id = e.id AND m.sync_direction = 'from_external'
    LIMIT 1
) src ON TRUE
WHERE e.deleted_at IS NULL AND e.status <> 'cancelled';

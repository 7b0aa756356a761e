-- 004: the unified calendar of the seed design - each live event with its
-- provider badge ('google', 'icloud', 'outlook' or 'hub'), calendar name
-- and colour. An event that came from an external calendar carries that
-- calendar's badge (events.source_calendar_id); a Hub-created event
-- carries 'hub'.

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
LEFT JOIN external_calendars src ON src.id = e.source_calendar_id
WHERE e.deleted_at IS NULL AND e.status <> 'cancelled';

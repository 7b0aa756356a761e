-- 005: when a conflict was announced on calsync:conflicts. A conflict is
-- stored by the job that found it and announced when a job of its
-- calendar ends; one whose announcement was lost (a worker died between
-- the commit and the end of its job) still has announced_at NULL and is
-- announced by the calendar's next job. Conflicts stored before this
-- column existed count as announced.

ALTER TABLE calendar_conflicts ADD COLUMN announced_at TIMESTAMP WITH TIME ZONE;
UPDATE calendar_conflicts SET announced_at = COALESCE(created_at, NOW());
CREATE INDEX idx_calendar_conflicts_unannounced ON calendar_conflicts (external_calendar_id)
    WHERE announced_at IS NULL;

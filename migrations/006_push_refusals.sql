-- 006: pushes the provider refused (contract 5.11). A Hub event that a
-- calendar's provider refuses (a 400 for a bad attendee address, a rule
-- the provider does not take) is isolated like a bad pulled item: the
-- rest of the calendar syncs, and the event is not pushed to that
-- calendar again until it changes - until its updated_at passes the one
-- recorded here. Rows go with their event or calendar.

CREATE TABLE calendar_push_refusals (
    event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    external_calendar_id UUID NOT NULL REFERENCES external_calendars(id) ON DELETE CASCADE,
    event_updated_at TIMESTAMP WITH TIME ZONE NOT NULL,  -- the version refused
    error TEXT NOT NULL,
    refused_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (event_id, external_calendar_id)
);
CREATE INDEX idx_calendar_push_refusals_calendar ON calendar_push_refusals (external_calendar_id);

-- 009: a provider's own representation of a remote item, kept with its
-- mapping (cs_event.raw, providers/provider.h). Opaque to the engine: the
-- provider fills it on fetch, get, create and update, and is handed it
-- back on update, so that a provider that rewrites the whole item (a
-- CalDAV PUT of the iCalendar resource) merges into it and loses nothing
-- calsync does not model. NULL: the provider keeps none (Google, whose
-- PATCH merges on the server). Only additions.

ALTER TABLE calendar_event_mappings ADD COLUMN remote_raw TEXT;
ALTER TABLE calendar_detached_mappings ADD COLUMN remote_raw TEXT;

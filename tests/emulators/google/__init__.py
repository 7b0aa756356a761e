"""Google Calendar API v3 + OAuth emulator for calsync's integration tests.

Entry point: tests/emulators/google_emu.py.  Modules:
  util     - clock, ids, opaque tokens, the ApiError exception
  events   - validation, normalisation and rendering of event resources
  store    - accounts, OAuth tokens, calendars, events and their change log
  listing  - events.list / calendarList.list paging and sync tokens
  faults   - injected faults and request statistics
  server   - the HTTP handler: routing, API, OAuth and /_emu control endpoints
"""

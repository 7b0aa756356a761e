/*
 * test_caldav.c - the pure parts of the CalDAV provider: addresses no
 * user-given host may have, multistatus answers, and iCalendar resources
 * into cs_events and back (a phone's properties kept, SEQUENCE raised, an
 * override written into its series, a removed occurrence as an EXDATE).
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "caldav_dav.h"
#include "caldav_xml.h"
#include "http.h"
#include "ical.h"

static bool v4(const char *a)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	inet_pton(AF_INET, a, &sa.sin_addr);
	return cs_http_addr_private(&sa);
}

static bool v6(const char *a)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};

	inet_pton(AF_INET6, a, &sa.sin6_addr);
	return cs_http_addr_private(&sa);
}

TEST(caldav_private_addresses_are_refused)
{
	CHECK(v4("127.0.0.1") && v4("10.1.2.3") && v4("172.16.0.1") && v4("192.168.1.10"));
	CHECK(v4("169.254.169.254") && v4("0.0.0.0") && v4("100.64.0.1") && v4("224.0.0.1"));
	CHECK(!v4("17.253.144.10") && !v4("172.32.0.1") && !v4("8.8.8.8"));
	CHECK(v6("::1") && v6("::") && v6("fe80::1") && v6("fd00::1") && v6("::ffff:127.0.0.1"));
	CHECK(!v6("2a01:b740::1") && !v6("::ffff:17.253.144.10"));
}

static const char SYNC[] =
	"<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
	"<d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag>"
	"<c:calendar-data>BEGIN:VCALENDAR</c:calendar-data></d:prop>"
	"<d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
	"<d:propstat><d:prop><d:displayname>no</d:displayname></d:prop>"
	"<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"
	"<d:response><d:href>/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
	"<d:sync-token>tok-2</d:sync-token></d:multistatus>";

TEST(caldav_multistatus_keeps_only_found_properties)
{
	cs_dav_multistatus ms;
	cs_err err;

	CHECK(cs_dav_parse(SYNC, strlen(SYNC), &ms, &err) == 0);
	CHECK(ms.n == 2);
	CHECK_STR(ms.sync_token, "tok-2");
	CHECK_STR(ms.items[0].etag, "\"1\"");
	CHECK_STR(ms.items[0].calendar_data, "BEGIN:VCALENDAR");
	CHECK(ms.items[0].displayname == NULL && ms.items[0].status == 0);
	CHECK(ms.items[1].status == 404);
	cs_dav_multistatus_release(&ms);
	CHECK(cs_dav_parse("<x/>", 4, &ms, &err) == -1 && err.code == CS_EPROTO);
	cs_dav_multistatus_release(&ms);
}

#define PHONE                                                                     \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:phone\r\nBEGIN:VEVENT\r\nUID:u1\r\n"  \
	"DTSTAMP:20261101T000000Z\r\nSEQUENCE:3\r\nDTSTART;TZID=Europe/London:20261202T190000\r\n" \
	"DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Yoga\r\nCATEGORIES:Health\r\n"  \
	"X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"       \
	"TRIGGER:-PT30M\r\nATTENDEE:mailto:alarm@example.com\r\nEND:VALARM\r\nEND:VEVENT\r\n" \
	"BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:not an event\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"

TEST(caldav_a_phone_resource_reads_as_one_event)
{
	cs_page page = {0};
	cs_err err;

	CHECK(cs_ical_to_events(PHONE, "https://h/cal/u1.ics", "\"e\"", &page, &err) == 0);
	CHECK(page.n == 1 && page.items[0].bad == NULL);
	CHECK_STR(page.items[0].start, "2026-12-02T19:00:00Z");
	CHECK_STR(page.items[0].end, "2026-12-02T20:00:00Z");
	CHECK_STR(page.items[0].timezone, "Europe/London");
	CHECK_STR(page.items[0].recurrence, "RRULE:FREQ=WEEKLY;COUNT=4");
	CHECK(page.items[0].nattendees == 0);   /* the alarm's attendee is not the event's */
	cs_page_release(&page);
}

TEST(caldav_a_merge_keeps_the_phone_properties_and_writes_an_override)
{
	cs_page page = {0};
	cs_event ev = {.title = "Yoga (late)", .start = "2026-12-09T20:00:00Z",
		       .end = "2026-12-09T21:00:00Z", .timezone = "Europe/London",
		       .series_id = "https://h/cal/u1.ics", .original_start = "2026-12-09T19:00:00Z",
		       .written = "fp"};
	char *out = NULL, *cancelled = NULL;
	cs_err err;

	CHECK(cs_ical_merge(PHONE, NULL, &ev, "hub-1", &out, &err) == 0);
	CHECK(strstr(out, "CATEGORIES:Health") && strstr(out, "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR"));
	CHECK(strstr(out, "TRIGGER:-PT30M") && strstr(out, "BEGIN:VTODO"));
	CHECK(strstr(out, "RECURRENCE-ID;TZID=Europe/London:20261209T190000"));
	CHECK(strstr(out, "BEGIN:VTIMEZONE") && strstr(out, "X-FAMILYHUB-WRITTEN:fp"));
	CHECK(cs_ical_to_events(out, "https://h/cal/u1.ics", NULL, &page, &err) == 0);
	CHECK(page.n == 2);
	CHECK_STR(page.items[1].id, "https://h/cal/u1.ics#2026-12-09T19:00:00Z");
	CHECK_STR(page.items[1].title, "Yoga (late)");
	CHECK_STR(page.items[1].hub_id, "hub-1");
	cs_page_release(&page);
	CHECK(cs_ical_cancel(out, "2026-12-09T19:00:00Z", &cancelled, &err) == 0);
	CHECK(strstr(cancelled, "EXDATE;TZID=Europe/London:20261209T190000"));
	CHECK(!strstr(cancelled, "RECURRENCE-ID") && strstr(cancelled, "SEQUENCE:4"));
	free(out);
	free(cancelled);
}

TEST(caldav_an_entry_point_with_a_password_in_it_is_refused)
{
	cs_config cfg = {0};
	cs_creds creds = {.username = "u", .password = "p"};
	cs_provider *p = NULL;
	cs_err err;

	CHECK(cs_dav_open(&p, &cfg, &creds, NULL, "https://u:s3cret@dav.example.com/", &err) == -1);
	CHECK(err.code == CS_EINVAL && !strstr(err.msg, "s3cret") && p == NULL);
	creds.password = NULL;
	CHECK(cs_dav_open(&p, &cfg, &creds, NULL, "https://dav.example.com/", &err) == -1);
	CHECK(err.code == CS_EAUTH);
}

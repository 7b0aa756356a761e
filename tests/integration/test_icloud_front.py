"""test_icloud_front.py - the iCloud-like entry point in front of Radicale
(tests/emulators/icloud_front.py) does what its README says: the entry host
redirects to the partition host, hrefs name a numeric principal and home,
request hrefs are mapped back, and the switch hides sync-collection."""

import http.client
import urllib.parse

import pytest

from caldav_helpers import Dav, Front, vevent

PROPFIND_PRINCIPAL = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                      '<D:current-user-principal/></D:prop></D:propfind>')
PROPFIND_HOME = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                 '<D:prop><C:calendar-home-set/></D:prop></D:propfind>')
SYNC = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/>'
        '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>')


@pytest.fixture
def front(services):
    f = Front(services)
    yield f
    f.stop()


def test_the_entry_host_redirects_to_the_partition_host(front):
    u = urllib.parse.urlsplit(front.entry)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("PROPFIND", "/.well-known/caldav", body=PROPFIND_PRINCIPAL, headers={"Depth": "0"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 301
    assert resp.getheader("Location") == front.partition.rstrip("/") + "/.well-known/caldav"


def test_the_principal_and_home_are_under_a_numeric_id(front):
    dav = front.dav
    status, _, text = dav.request("PROPFIND", "/.well-known/caldav", PROPFIND_PRINCIPAL, {"Depth": "0"})
    assert status == 207 and "/123456789/principal/" in text and f"/{dav.user}/" not in text
    status, _, text = dav.request("PROPFIND", "/123456789/principal/", PROPFIND_HOME, {"Depth": "0"})
    assert status == 207 and "/123456789/calendars/" in text
    assert dav.request("GET", f"/{dav.user}/")[0] == 404     # Radicale's own paths are not served


def test_multiget_hrefs_are_mapped_to_radicale_and_back(front, services):
    radicale = Dav.of(services)
    cal = radicale.new_calendar()
    radicale.put(cal + "a.ics", vevent("a", "Judo", "20261217T170000Z", "20261217T180000Z"))
    url = front.calendar_url(cal)
    body = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><D:getetag/><C:calendar-data/></D:prop>'
            f'<D:href>{urllib.parse.urlsplit(url).path}a.ics</D:href></C:calendar-multiget>')
    status, _, text = front.dav.request("REPORT", url, body, {"Depth": "1"})
    assert status == 207 and "SUMMARY:Judo" in text and "/123456789/calendars/" in text


def test_the_switch_hides_sync_collection(front, services):
    cal = front.calendar_url(Dav.of(services).new_calendar())
    assert front.dav.request("REPORT", cal, SYNC, {"Depth": "0"})[0] == 207
    front.sync_collection(False)
    status, _, text = front.dav.request("REPORT", cal, SYNC, {"Depth": "0"})
    assert status == 403 and "supported-report" in text
    front.sync_collection(True)
    assert front.stats()["requests"]["REPORT"] == 2

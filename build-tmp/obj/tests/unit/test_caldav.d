build-tmp/obj/tests/unit/test_caldav.o: tests/unit/test_caldav.c \
 tests/unit/unit.h providers/caldav_dav.h providers/caldav_xml.h \
 common/dynbuf.h common/err.h common/err.h providers/provider.h \
 common/config.h common/http.h common/dynbuf.h providers/caldav_xml.h \
 providers/ical.h
tests/unit/unit.h:
providers/caldav_dav.h:
providers/caldav_xml.h:
common/dynbuf.h:
common/err.h:
common/err.h:
providers/provider.h:
common/config.h:
common/http.h:
common/dynbuf.h:
providers/caldav_xml.h:
providers/ical.h:

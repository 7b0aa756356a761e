build-tmp/obj/providers/caldav_dav.o: providers/caldav_dav.c \
 providers/caldav_dav.h providers/caldav_xml.h common/dynbuf.h \
 common/err.h common/err.h providers/provider.h common/config.h \
 common/http.h common/dynbuf.h common/banned.h
providers/caldav_dav.h:
providers/caldav_xml.h:
common/dynbuf.h:
common/err.h:
common/err.h:
providers/provider.h:
common/config.h:
common/http.h:
common/dynbuf.h:
common/banned.h:

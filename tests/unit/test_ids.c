/* test_ids.c - UUID generation and syntax checks. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"

TEST(uuid_v4_is_well_formed_and_random)
{
	char a[CS_UUID_LEN + 1], b[CS_UUID_LEN + 1];

	cs_uuid_v4(a);
	cs_uuid_v4(b);
	CHECK(cs_is_uuid(a) && cs_is_uuid(b));
	CHECK(a[14] == '4');
	CHECK(strcmp(a, b) != 0);
}

TEST(uuid_v7_starts_with_the_time_and_sorts_in_order_of_making)
{
	char a[CS_UUID_LEN + 1], b[CS_UUID_LEN + 1], ms[13];
	struct timespec now;
	long long before, stamp;

	clock_gettime(CLOCK_REALTIME, &now);
	before = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	cs_uuid_v7(a);
	cs_uuid_v7(b);
	CHECK(cs_is_uuid(a) && cs_is_uuid(b));
	CHECK(a[14] == '7' && strchr("89ab", a[19]) != NULL);
	snprintf(ms, sizeof(ms), "%.8s%.4s", a, a + 9);
	stamp = strtoll(ms, NULL, 16);
	CHECK(stamp >= before && stamp < before + 5000);
	CHECK(strncmp(a, b, 13) <= 0);     /* the time part never goes back */
	CHECK(strcmp(a, b) != 0);
}

TEST(is_uuid_rejects_near_misses)
{
	CHECK(cs_is_uuid("0B6F3F0E-6A55-4D6E-9A43-3D3F1B2A0C11"));
	CHECK(!cs_is_uuid(NULL));
	CHECK(!cs_is_uuid(""));
	CHECK(!cs_is_uuid("0b6f3f0e6a554d6e9a433d3f1b2a0c11"));
	CHECK(!cs_is_uuid("0b6f3f0e-6a55-4d6e-9a43-3d3f1b2a0c1g"));
	CHECK(!cs_is_uuid("0b6f3f0e-6a55-4d6e-9a43-3d3f1b2a0c11 "));
	CHECK(!cs_is_uuid("'; DROP TABLE events; --------------"));
}

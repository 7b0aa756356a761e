/* test_ids.c - UUID generation and syntax checks. */
#include "unit.h"

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

/* test_dynbuf.c - the capped buffer refuses to grow past its cap. */
#include "unit.h"

#include "dynbuf.h"

TEST(dynbuf_appends_and_terminates)
{
	cs_dynbuf b;
	cs_err err;

	cs_dynbuf_init(&b, 64);
	CHECK(cs_dynbuf_addstr(&b, "abc", &err) == 0);
	CHECK(cs_dynbuf_printf(&b, &err, "-%d", 42) == 0);
	CHECK_STR(cs_dynbuf_str(&b), "abc-42");
	CHECK(b.len == 6);
	cs_dynbuf_release(&b);
}

TEST(dynbuf_refuses_past_cap)
{
	cs_dynbuf b;
	cs_err err;
	char big[100];

	memset(big, 'x', sizeof(big));
	cs_dynbuf_init(&b, 64);
	CHECK(cs_dynbuf_add(&b, big, 64, &err) == 0);
	CHECK(cs_dynbuf_add(&b, "y", 1, &err) == -1);
	CHECK(err.code == CS_ENOMEM);
	CHECK(b.len == 64);
	cs_dynbuf_release(&b);
}

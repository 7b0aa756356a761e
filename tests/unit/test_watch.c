/*
 * test_watch.c - push-channel secrets (common/watch.h) and the parsing of
 * notifications (hooks/notice.h): a new secret is random and matches only
 * its own hash; Google's headers and Graph's bodies are accepted or
 * refused with a reason that names what was wrong and never the secret;
 * the registry knows which providers push.
 */
#include "unit.h"

#include "notice.h"
#include "provider.h"
#include "watch.h"

TEST(watch_secrets_are_random_and_match_only_their_hash)
{
	char t1[CS_WATCH_TOKEN_LEN + 1], h1[CS_WATCH_HASH_LEN + 1];
	char t2[CS_WATCH_TOKEN_LEN + 1], h2[CS_WATCH_HASH_LEN + 1], again[CS_WATCH_HASH_LEN + 1];

	CHECK(cs_watch_secret_new(t1, h1, NULL) == 0);
	CHECK(cs_watch_secret_new(t2, h2, NULL) == 0);
	CHECK(strlen(t1) == CS_WATCH_TOKEN_LEN && strlen(h1) == CS_WATCH_HASH_LEN);
	CHECK(strcmp(t1, t2) != 0 && strcmp(h1, h2) != 0);
	CHECK(strstr(h1, t1) == NULL);
	cs_watch_secret_hash(t1, strlen(t1), again);
	CHECK_STR(again, h1);
	CHECK(cs_watch_secret_matches(t1, h1));
	CHECK(!cs_watch_secret_matches(t2, h1));
	CHECK(!cs_watch_secret_matches("", h1));
	CHECK(!cs_watch_secret_matches(NULL, h1));
	CHECK(!cs_watch_secret_matches(t1, NULL));
	CHECK(!cs_watch_secret_matches(t1, "abc"));
}

TEST(watch_hash_is_blake2b_256)
{
	char h[CS_WATCH_HASH_LEN + 1];

	/* BLAKE2b-256("abc"), the value Python's hashlib.blake2b(digest_size=32) gives */
	cs_watch_secret_hash("abc", 3, h);
	CHECK_STR(h, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static int google(const char *id, const char *tok, const char *res, const char *state,
		  const char *num, cs_google_notice *n, cs_err *err)
{
	*n = (cs_google_notice){.channel_id = id, .token = tok, .resource_id = res,
				.state_text = state, .number_text = num};
	return cs_google_notice_check(n, err);
}

TEST(google_notice_headers_are_checked)
{
	cs_google_notice n;
	cs_err err;
	char long_id[80];

	CHECK(google("calsync-1", "tok", "res", "exists", "12", &n, &err) == 0);
	CHECK(n.state == CS_GOOGLE_EXISTS && n.number == 12);
	CHECK(google("calsync-1", "tok", "res", "sync", "1", &n, &err) == 0 && n.state == CS_GOOGLE_SYNC);
	CHECK(google("calsync-1", "tok", "res", "not_exists", "3", &n, &err) == 0);
	CHECK(google(NULL, "tok", "res", "exists", "2", &n, &err) < 0);
	CHECK(strstr(err.msg, "X-Goog-Channel-ID") != NULL);
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	CHECK(google(long_id, "tok", "res", "exists", "2", &n, &err) < 0);
	CHECK(google("calsync-1", "secret-token", "res", "changed", "2", &n, &err) < 0);
	CHECK(strstr(err.msg, "X-Goog-Resource-State") != NULL && !strstr(err.msg, "secret-token"));
	CHECK(google("calsync-1", "tok", "res", "exists", "-4", &n, &err) < 0);
	CHECK(google("calsync-1", "tok", "res", "exists", "0", &n, &err) < 0);
	CHECK(google("calsync-1", "tok", "res", "exists", "12x", &n, &err) < 0);
	CHECK(google("calsync-1", "to k", "res", "exists", "1", &n, &err) < 0);
	CHECK(strstr(err.msg, "X-Goog-Channel-Token") != NULL);
	CHECK(google("calsync-1", "tok", NULL, "exists", "1", &n, &err) < 0);
}

static int parse(const char *body, cs_graph_notices *notes, cs_err *err)
{
	return cs_graph_notices_parse(body, strlen(body), notes, err);
}

TEST(graph_notices_are_parsed_or_refused_by_name)
{
	static const char change[] =
		"{\"value\":[{\"subscriptionId\":\"s1\",\"clientState\":\"cs\",\"changeType\":\"updated\"},"
		"{\"subscriptionId\":\"s2\",\"lifecycleEvent\":\"missed\"}]}";
	cs_graph_notices notes;
	cs_err err;

	CHECK(parse(change, &notes, &err) == 0);
	CHECK(notes.n == 2);
	CHECK_STR(notes.items[0].subscription_id, "s1");
	CHECK_STR(notes.items[0].client_state, "cs");
	CHECK(notes.items[0].lifecycle == NULL);
	CHECK(notes.items[1].client_state == NULL);
	CHECK_STR(notes.items[1].lifecycle, "missed");
	cs_graph_notices_release(&notes);
	CHECK(notes.n == 0 && notes.items == NULL);

	CHECK(parse("nope", &notes, &err) < 0 && strstr(err.msg, "not JSON"));
	CHECK(parse("{\"value\":[]}", &notes, &err) < 0);
	CHECK(strstr(err.msg, "value") != NULL);
	CHECK(parse("{\"value\":[1]}", &notes, &err) < 0);
	CHECK(parse("{\"value\":[{\"clientState\":\"hidden\"}]}", &notes, &err) < 0);
	CHECK(strstr(err.msg, "subscriptionId") != NULL && !strstr(err.msg, "hidden"));
	CHECK(parse("{\"value\":[{\"subscriptionId\":7}]}", &notes, &err) < 0);
}

TEST(push_provider_names_are_an_array_literal_of_those_with_watch)
{
	char names[128];

	cs_provider_push_names(names, sizeof(names));
	CHECK(names[0] == '{' && names[strlen(names) - 1] == '}');
	CHECK(strstr(names, "google") != NULL);
	CHECK(cs_provider_find("google")->watch && cs_provider_find("google")->unwatch);
	CHECK_STR(cs_provider_find("google")->hook_path, CS_HOOK_GOOGLE);
}

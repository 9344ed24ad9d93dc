/*  auth: parsing "Authorization: Bearer <token>" (the tenant lookup is
    exercised end to end by the reporting and reminders API tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"

static void accepted(const char *header, const char *expect)
{
    char token[AUTH_TOKEN_MAX + 1];
    const char *code = "unset";
    const char *why = auth_bearer_token(header, token, &code);
    if (why)
        fail_msg("'%s' refused: %s", header, why);
    assert_null(code);
    assert_string_equal(token, expect);
}

static void refused(const char *header, const char *expect_code)
{
    char token[AUTH_TOKEN_MAX + 1];
    const char *code = NULL;
    const char *why = auth_bearer_token(header, token, &code);
    if (!why)
        fail_msg("'%s' accepted", header ? header : "(null)");
    assert_true(strlen(why) > 0);
    assert_string_equal(code, expect_code);
}

static void test_bearer_accepted(void **state)
{
    accepted("Bearer abc123", "abc123");
    accepted("bearer abc123", "abc123");
    accepted("BEARER  tok-en._~+/==", "tok-en._~+/==");
    accepted("Bearer abc123  ", "abc123");
    accepted("Bearer\tabc", "abc");
}

static void test_bearer_refused(void **state)
{
    refused(NULL, "missing");
    refused("", "missing");
    refused("Basic dXNlcjpwYXNz", "malformed");
    refused("Bearer", "malformed");
    refused("Bearerabc", "malformed");
    refused("Bearer    ", "malformed");
    refused("Bearer abc def", "malformed");
    refused("Bearer caf\xc3\xa9", "malformed");
    refused("Token abc", "malformed");
}

static void test_bearer_length(void **state)
{
    char header[AUTH_TOKEN_MAX + 16];
    strcpy(header, "Bearer ");
    size_t n = strlen(header);
    memset(header + n, 'a', AUTH_TOKEN_MAX);
    header[n + AUTH_TOKEN_MAX] = '\0';
    char token[AUTH_TOKEN_MAX + 1];
    const char *code;
    assert_null(auth_bearer_token(header, token, &code));
    assert_int_equal(strlen(token), AUTH_TOKEN_MAX);
    header[n + AUTH_TOKEN_MAX] = 'a';
    header[n + AUTH_TOKEN_MAX + 1] = '\0';
    refused(header, "malformed");
}

static void test_bearer_whitespace_and_scheme(void **state)
{
    char t[AUTH_TOKEN_MAX + 1];
    const char *code;
    assert_null(auth_bearer_token("Bearer abc.DEF_1", t, &code));
    assert_string_equal(t, "abc.DEF_1");
    assert_null(auth_bearer_token("bearer   tok  ", t, &code));
    assert_string_equal(t, "tok");
    assert_non_null(auth_bearer_token(NULL, t, &code));
    assert_non_null(auth_bearer_token("Basic abc", t, &code));
    assert_non_null(auth_bearer_token("Bearer ", t, &code));
    assert_non_null(auth_bearer_token("Bearer a b", t, &code));
    assert_non_null(auth_bearer_token("Bearerabc", t, &code));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_accepted),
        cmocka_unit_test(test_bearer_refused),
        cmocka_unit_test(test_bearer_length),
        cmocka_unit_test(test_bearer_whitespace_and_scheme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

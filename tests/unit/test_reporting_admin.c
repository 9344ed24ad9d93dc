/*  Unit tests: the pure parts of reporting's operator API (the operator
    token check, new tokens, names) and of debtor search (the pattern, the
    text accepted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "../../services/reporting/admin.h"
#include "../../services/reporting/search.h"

static void hex_sha256(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_check_operator_token(void **state)
{
    char hex[65], upper[65];
    hex_sha256("cop_secret", hex);
    for (int i = 0; i < 65; i++)
        upper[i] = (char) (hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    const char *reason, *code;

    assert_int_equal(rpt_admin_check(hex, "Bearer cop_secret", &reason, &code), 0);
    assert_null(code);
    /* Upper-case hex is the same digest. */
    assert_int_equal(rpt_admin_check(upper, "bearer   cop_secret ", &reason, &code), 0);

    assert_int_equal(rpt_admin_check(hex, "Bearer cop_secreT", &reason, &code), 401);
    assert_string_equal(code, "wrong_token");
    assert_string_equal(reason, "not the operator token");
    assert_int_equal(rpt_admin_check(hex, NULL, &reason, &code), 401);
    assert_string_equal(code, "missing");
    assert_int_equal(rpt_admin_check(hex, "Basic abc", &reason, &code), 401);
    assert_string_equal(code, "malformed");
}

static void test_check_configuration(void **state)
{
    const char *reason, *code;
    /* Not configured: disabled, whatever the request carries. */
    assert_int_equal(rpt_admin_check("", "Bearer x", &reason, &code), 403);
    assert_string_equal(code, "disabled");
    assert_non_null(strstr(reason, "CREANCE_ADMIN_TOKEN_SHA256"));
    assert_int_equal(rpt_admin_check(NULL, NULL, &reason, &code), 403);
    /* A token given where its digest was expected, or a short digest. */
    assert_int_equal(rpt_admin_check("cop_secret", "Bearer cop_secret", &reason, &code), 403);
    assert_string_equal(code, "misconfigured");
    char bad[65];
    memset(bad, 'a', 64);
    bad[64] = '\0';
    bad[10] = 'g';
    assert_int_equal(rpt_admin_check(bad, "Bearer x", &reason, &code), 403);
    assert_string_equal(code, "misconfigured");
}

static void test_new_token(void **state)
{
    char a[48], pa[12], b[48], pb[12];
    assert_int_equal(rpt_admin_new_token(a, pa), 0);
    assert_int_equal(rpt_admin_new_token(b, pb), 0);
    assert_int_equal(strlen(a), 46);
    assert_memory_equal(a, "ct_", 3);
    assert_int_equal(strlen(pa), 11);
    assert_memory_equal(a, pa, 11);
    assert_string_not_equal(a, b);
    for (size_t i = 3; i < 46; i++) {
        char c = a[i];
        assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_');
    }
}

static void test_names(void **state)
{
    assert_null(rpt_admin_name_invalid("Acme Recouvrement", 200));
    assert_null(rpt_admin_name_invalid("Démo SARL", 200));
    assert_string_equal(rpt_admin_name_invalid("", 200), "empty");
    assert_string_equal(rpt_admin_name_invalid(NULL, 200), "empty");
    assert_string_equal(rpt_admin_name_invalid("   ", 200), "only spaces");
    assert_string_equal(rpt_admin_name_invalid("a\tb", 200), "has control characters");
    char long_name[202];
    memset(long_name, 'x', 201);
    long_name[201] = '\0';
    assert_string_equal(rpt_admin_name_invalid(long_name, 200), "longer than 200 bytes");
}

static void test_search_pattern(void **state)
{
    char out[64];
    assert_true(rpt_search_pattern("dup", 3, out, sizeof out));
    assert_string_equal(out, "%dup%");
    /* LIKE's own characters match themselves only. */
    assert_true(rpt_search_pattern("50%_a\\b", 7, out, sizeof out));
    assert_string_equal(out, "%50\\%\\_a\\\\b%");
    /* Too small a buffer: refused, not cut. */
    assert_false(rpt_search_pattern("abcdef", 6, out, 7));
    assert_true(rpt_search_pattern("abcdef", 6, out, 9));
    assert_string_equal(out, "%abcdef%");
}

static void test_search_text(void **state)
{
    assert_null(rpt_search_invalid("Dupont", 6));
    assert_null(rpt_search_invalid("Établissements", strlen("Établissements")));
    assert_string_equal(rpt_search_invalid("", 0), "empty; expected 1 to 100 characters");
    char big[101];
    memset(big, 'a', sizeof big);
    assert_string_equal(rpt_search_invalid(big, 101), "longer than 100 characters");
    assert_string_equal(rpt_search_invalid("a\tb", 3), "has control characters");
    assert_string_equal(rpt_search_invalid("\xc3\x28", 2), "not UTF-8");
    assert_string_equal(rpt_search_invalid("\xc3", 1), "not UTF-8");
    assert_string_equal(rpt_search_invalid("\xed\xa0\x80", 3), "not UTF-8");   /* surrogate */
    assert_string_equal(rpt_search_invalid("\xc0\xaf", 2), "not UTF-8");       /* overlong */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_operator_token),
        cmocka_unit_test(test_check_configuration),
        cmocka_unit_test(test_new_token),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_search_pattern),
        cmocka_unit_test(test_search_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

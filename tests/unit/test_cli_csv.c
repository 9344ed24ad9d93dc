/*  Unit tests for services/cli/csv: RFC 4180 reading, separators, line and
    column numbers, limits and recovery after a bad record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/cli/csv.h"

/*  Reads every record of `text` into a compact dump:
    "a|b\n" per record, "!L:C:reason\n" per error. */
static char *
s_dump(const char *text, size_t len, char sep, size_t max_field, size_t max_line)
{
    csv_t r;
    csv_init(&r, text, len, sep);
    if (max_field)
        r.max_field = max_field;
    if (max_line)
        r.max_line = max_line;
    size_t cap = 4096, n = 0;
    char *out = calloc(1, cap);
    csv_error_t err;
    int rc;
    while ((rc = csv_next(&r, &err)) != 0) {
        if (rc < 0) {
            n += (size_t) snprintf(out + n, cap - n, "!%zu:%zu:%s\n", err.line, err.column,
                                   err.fatal ? "fatal" : "bad");
            if (err.fatal)
                break;
            continue;
        }
        for (size_t i = 0; i < r.nfields; i++)
            n += (size_t) snprintf(out + n, cap - n, "%s%s", i ? "|" : "", r.fields[i].value);
        n += (size_t) snprintf(out + n, cap - n, "\n");
    }
    csv_free(&r);
    return out;
}

#define DUMP(text) s_dump(text, strlen(text), 0, 0, 0)

static void
check(const char *text, const char *want)
{
    char *got = DUMP(text);
    assert_string_equal(got, want);
    free(got);
}

static void test_simple_lf(void **state)
{
    check("a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n");
}

static void test_crlf_and_no_final_newline(void **state)
{
    check("a,b\r\n1,2\r\n3,4", "a|b\n1|2\n3|4\n");
}

static void test_lone_cr_line_ends(void **state)
{
    check("a,b\r1,2\r", "a|b\n1|2\n");
}

static void test_quoted_fields(void **state)
{
    check("name,note\n\"Dupont, SARL\",\"he said \"\"hi\"\"\"\n",
          "name|note\nDupont, SARL|he said \"hi\"\n");
}

static void test_embedded_newline_keeps_line_numbers(void **state)
{
    const char *text = "a,b\n\"x\ny\",2\n3,4\n";
    csv_t r;
    csv_init(&r, text, strlen(text), 0);
    csv_error_t err;
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(r.record_line, 1);
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(r.record_line, 2);
    assert_string_equal(r.fields[0].value, "x\ny");
    assert_true(r.fields[0].quoted);
    assert_int_equal(r.fields[0].line, 2);
    assert_int_equal(r.fields[1].line, 3);      /* after the embedded newline */
    assert_int_equal(r.fields[1].column, 2);
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(r.record_line, 4);
    assert_string_equal(r.fields[0].value, "3");
    assert_int_equal(csv_next(&r, &err), 0);
    csv_free(&r);
}

static void test_empty_fields_and_trailing_separator(void **state)
{
    check("a,b,c\n,,\n1,,\n", "a|b|c\n||\n1||\n");
    char *got = DUMP("a,b\n\"\",x\n");
    assert_string_equal(got, "a|b\n|x\n");
    free(got);
}

static void test_blank_lines_skipped_but_counted(void **state)
{
    const char *text = "a\n\n\r\n1\n";
    csv_t r;
    csv_init(&r, text, strlen(text), 0);
    csv_error_t err;
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(r.record_line, 4);
    assert_int_equal(r.fields[0].line, 4);
    assert_int_equal(csv_next(&r, &err), 0);
    assert_int_equal(csv_next(&r, &err), 0);    /* stays at the end */
    csv_free(&r);
}

static void test_bom_skipped(void **state)
{
    const char *text = "\xEF\xBB\xBF" "external_id;amount\nA;1,5\n";
    csv_t r;
    csv_init(&r, text, strlen(text), 0);
    assert_true(r.bom);
    assert_int_equal(r.sep, ';');
    csv_error_t err;
    assert_int_equal(csv_next(&r, &err), 1);
    assert_string_equal(r.fields[0].value, "external_id");
    assert_int_equal(csv_next(&r, &err), 1);
    assert_string_equal(r.fields[1].value, "1,5");
    csv_free(&r);
}

static void test_separator_detection(void **state)
{
    assert_int_equal(csv_detect_separator("a;b;c\n1,2;3", 11), ';');
    assert_int_equal(csv_detect_separator("a,b;c\n", 6), ',');
    assert_int_equal(csv_detect_separator("a,b\n;;;;;", 9), ',');      /* header only */
    assert_int_equal(csv_detect_separator("\"a,b,c\";d;e\n", 12), ';'); /* quoted commas */
    assert_int_equal(csv_detect_separator("single\n", 7), ',');
    check("a;b\n\"x;y\";2\n", "a|b\nx;y|2\n");
}

static void test_forced_separator(void **state)
{
    char *got = s_dump("a;b,c\n", 6, ',', 0, 0);
    assert_string_equal(got, "a;b|c\n");
    free(got);
}

static void test_unicode_passes_through(void **state)
{
    check("nom\nSociété Générale\n", "nom\nSociété Générale\n");
}

static void test_quote_in_unquoted_field(void **state)
{
    /* The bad record is reported at its line and column, the next is read. */
    check("a,b\n1,x\"y\n2,3\n", "a|b\n!2:2:bad\n2|3\n");
}

static void test_text_after_closing_quote(void **state)
{
    check("a,b\n\"x\"y,1\n2,3\n", "a|b\n!2:1:bad\n2|3\n");
}

static void test_unterminated_quote_is_fatal(void **state)
{
    check("a,b\n1,\"never\n2,3\n", "a|b\n!2:2:fatal\n");
}

static void test_nul_byte(void **state)
{
    char text[] = "a,b\n1,x\0y\n2,3\n";
    char *got = s_dump(text, sizeof text - 1, 0, 0, 0);
    assert_string_equal(got, "a|b\n!2:2:bad\n2|3\n");
    free(got);
}

static void test_field_limit(void **state)
{
    char *got = s_dump("a,b\n12345,x\n1234,y\n", 19, 0, 4, 0);
    assert_string_equal(got, "a|b\n!2:1:bad\n1234|y\n");
    free(got);
    /* In a quoted field with a newline: the skip follows the quotes. */
    got = s_dump("a,b\n\"12\n345\",x\n1,y\n", 19, 0, 4, 0);
    assert_string_equal(got, "a|b\n!2:1:bad\n1|y\n");
    free(got);
}

static void test_line_limit(void **state)
{
    char *got = s_dump("a,b\n1234,5678\n1,2\n", 18, 0, 0, 6);
    assert_string_equal(got, "a|b\n!2:2:bad\n1|2\n");
    free(got);
}

static void test_file_limit(void **state)
{
    csv_t r;
    csv_init(&r, "a,b\n1,2\n", 8, 0);
    r.max_file = 4;
    csv_error_t err;
    assert_int_equal(csv_next(&r, &err), -1);
    assert_true(err.fatal);
    assert_non_null(strstr(err.reason, "limit"));
    assert_int_equal(csv_next(&r, &err), 0);
    csv_free(&r);
}

static void test_default_limits(void **state)
{
    csv_t r;
    csv_init(&r, "", 0, 0);
    assert_int_equal(r.max_field, 4096);
    assert_int_equal(r.max_line, 65536);
    assert_int_equal(r.max_file, 256u * 1024 * 1024);
    csv_error_t err;
    assert_int_equal(csv_next(&r, &err), 0);
    csv_free(&r);
    /* A 5000-byte field is refused with the defaults. */
    size_t n = 5000;
    char *big = malloc(n + 16);
    memcpy(big, "a\n", 2);
    memset(big + 2, 'x', n);
    memcpy(big + 2 + n, "\nok\n", 4);
    char *got = s_dump(big, n + 6, 0, 0, 0);
    assert_string_equal(got, "a\n!2:1:bad\nok\n");
    free(got);
    free(big);
}

static void test_columns_numbered(void **state)
{
    const char *text = "a,b,c\n1,\"2\",3\n";
    csv_t r;
    csv_init(&r, text, strlen(text), 0);
    csv_error_t err;
    csv_next(&r, &err);
    assert_int_equal(csv_next(&r, &err), 1);
    assert_int_equal(r.nfields, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.fields[i].column, i + 1);
        assert_int_equal(r.fields[i].line, 2);
    }
    assert_int_equal(r.fields[1].len, 1);
    csv_free(&r);
}

static void test_utf8(void **state)
{
    size_t at = 99;
    assert_true(csv_utf8_valid("abc", 3, NULL));
    assert_true(csv_utf8_valid("é€𝄞", strlen("é€𝄞"), NULL));
    assert_false(csv_utf8_valid("caf\xe9", 4, &at));         /* Latin-1 é */
    assert_int_equal(at, 3);
    assert_false(csv_utf8_valid("\xc0\xaf", 2, NULL));       /* overlong */
    assert_false(csv_utf8_valid("\xed\xa0\x80", 3, NULL));   /* surrogate */
    assert_false(csv_utf8_valid("\xe2\x82", 2, NULL));       /* truncated */
    assert_false(csv_utf8_valid("\xf4\x90\x80\x80", 4, NULL)); /* > U+10FFFF */
}

/*  Every prefix of a tricky file: the reader never crashes, never reads
    past the buffer (ASan builds check), always ends. */
static void test_all_prefixes_terminate(void **state)
{
    const char *text = "\xEF\xBB\xBF" "a;\"b\"\"c\";d\r\n\"x\r\ny\";;\"\"\n\"bad\"z;1\n\"open";
    size_t len = strlen(text);
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, text, n);
        csv_t r;
        csv_init(&r, copy, n, 0);
        csv_error_t err;
        int rc, guard = 0;
        while ((rc = csv_next(&r, &err)) != 0 && guard++ < 100)
            if (rc < 0 && err.fatal)
                break;
        assert_true(guard < 100);
        csv_free(&r);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_lf),
        cmocka_unit_test(test_crlf_and_no_final_newline),
        cmocka_unit_test(test_lone_cr_line_ends),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_embedded_newline_keeps_line_numbers),
        cmocka_unit_test(test_empty_fields_and_trailing_separator),
        cmocka_unit_test(test_blank_lines_skipped_but_counted),
        cmocka_unit_test(test_bom_skipped),
        cmocka_unit_test(test_separator_detection),
        cmocka_unit_test(test_forced_separator),
        cmocka_unit_test(test_unicode_passes_through),
        cmocka_unit_test(test_quote_in_unquoted_field),
        cmocka_unit_test(test_text_after_closing_quote),
        cmocka_unit_test(test_unterminated_quote_is_fatal),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_field_limit),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_file_limit),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_columns_numbered),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_all_prefixes_terminate),
    };
    return cmocka_run_group_tests_name("cli_csv", tests, NULL, NULL);
}

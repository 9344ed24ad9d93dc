/*  config: defaults, environment overrides, masking of secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const config_entry_t s_table[] = {
    { "CREANCE_TEST_PORT", "8081", false, "a port" },
    { "CREANCE_TEST_SECRET", "", true, "a secret" },
    { NULL, NULL, false, NULL }
};

static void
test_defaults_and_overrides(void **state)
{
    unsetenv("CREANCE_TEST_PORT");
    unsetenv("CREANCE_DB_URL");
    config_t *cfg = config_new("test", s_table);
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "8081");
    assert_string_equal(config_get(cfg, "CREANCE_DB_URL"),
                        "postgresql://creance@127.0.0.1:55432/creance");
    assert_int_equal(config_get_int(cfg, "CREANCE_TEST_PORT", 1), 8081);

    setenv("CREANCE_TEST_PORT", "9090", 1);
    config_reload(cfg);
    assert_int_equal(config_get_int(cfg, "CREANCE_TEST_PORT", 1), 9090);

    setenv("CREANCE_TEST_PORT", "90x", 1);
    config_reload(cfg);
    assert_int_equal(config_get_int(cfg, "CREANCE_TEST_PORT", 1), 1);   /* fallback */
    unsetenv("CREANCE_TEST_PORT");
    config_destroy(&cfg);
    assert_null(cfg);
}

static void
test_masking(void **state)
{
    char out[256];
    config_mask("hunter2", true, out, sizeof out);
    assert_string_equal(out, "****");
    config_mask("postgresql://creance:s3cret@db:5432/creance", false, out, sizeof out);
    assert_string_equal(out, "postgresql://creance:****@db:5432/creance");
    assert_null(strstr(out, "s3cret"));
    config_mask("host=db user=creance password=s3cret dbname=creance", false, out, sizeof out);
    assert_string_equal(out, "host=db user=creance password=**** dbname=creance");
    config_mask("postgresql://creance@127.0.0.1:55432/creance", false, out, sizeof out);
    assert_string_equal(out, "postgresql://creance@127.0.0.1:55432/creance");
    config_mask("redis://127.0.0.1:56379", false, out, sizeof out);
    assert_string_equal(out, "redis://127.0.0.1:56379");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_overrides),
        cmocka_unit_test(test_masking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

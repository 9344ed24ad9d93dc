/*  config: defaults, environment overrides, masking of secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static void
s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/*  CREANCE_CONFIG_FILE: what SIGHUP can actually change (a process's
    environment cannot be edited from outside). */
static void
test_config_file_and_reload(void **state)
{
    char path[] = "/tmp/creance-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    s_write(path, "# comment\n; another\n\n  CREANCE_TEST_PORT=7070\n"
                  "export CREANCE_LOG_LEVEL=\"warn\"\nCREANCE_UNKNOWN=1\nNOT_AN_ASSIGNMENT\n");
    setenv("CREANCE_CONFIG_FILE", path, 1);
    setenv("CREANCE_TEST_PORT", "9090", 1);
    setenv("CREANCE_TEST_SECRET", "from-env", 1);
    config_t *cfg = config_new("test", s_table);
    /* The file wins over the environment; the environment fills the rest. */
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "7070");
    assert_string_equal(config_get(cfg, "CREANCE_LOG_LEVEL"), "warn");
    assert_string_equal(config_get(cfg, "CREANCE_TEST_SECRET"), "from-env");
    const char *secret = config_get(cfg, "CREANCE_TEST_SECRET");
    const char *port = config_get(cfg, "CREANCE_TEST_PORT");

    /* An edit: two values change; the last assignment of a name wins. */
    s_write(path, "CREANCE_TEST_PORT=7071\nCREANCE_LOG_LEVEL='debug'\nCREANCE_LOG_LEVEL=error\n");
    assert_int_equal(config_reload(cfg), 2);
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "7071");
    assert_string_equal(config_get(cfg, "CREANCE_LOG_LEVEL"), "error");
    /* An unchanged value keeps its pointer; a replaced one stays readable
       (services keep pointers from start). */
    assert_ptr_equal(config_get(cfg, "CREANCE_TEST_SECRET"), secret);
    assert_string_equal(port, "7070");
    assert_int_equal(config_reload(cfg), 0);

    /* Several files, ':' between them: the later one wins, as with
       several systemd EnvironmentFile= lines (an instance's own file). */
    char second[] = "/tmp/creance-test-config-XXXXXX";
    fd = mkstemp(second);
    assert_true(fd >= 0);
    close(fd);
    s_write(second, "CREANCE_TEST_PORT=7072\n");
    char both[sizeof path + sizeof second + 2];
    snprintf(both, sizeof both, "%s:%s", path, second);
    setenv("CREANCE_CONFIG_FILE", both, 1);
    assert_int_equal(config_reload(cfg), 2);            /* the port, and the file list itself */
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "7072");
    assert_string_equal(config_get(cfg, "CREANCE_LOG_LEVEL"), "error");
    unlink(second);
    assert_int_equal(config_reload(cfg), -1);           /* one of them gone */
    setenv("CREANCE_CONFIG_FILE", path, 1);

    /* Unreadable: -1 and the running values stay. */
    assert_int_equal(config_reload(cfg), 2);            /* back to path's 7071 */
    unlink(path);
    assert_int_equal(config_reload(cfg), -1);
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "7071");
    config_destroy(&cfg);

    /* Unreadable at start: the environment alone. */
    cfg = config_new("test", s_table);
    assert_string_equal(config_get(cfg, "CREANCE_TEST_PORT"), "9090");
    config_destroy(&cfg);
    unsetenv("CREANCE_CONFIG_FILE");
    unsetenv("CREANCE_TEST_PORT");
    unsetenv("CREANCE_TEST_SECRET");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_overrides),
        cmocka_unit_test(test_masking),
        cmocka_unit_test(test_config_file_and_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

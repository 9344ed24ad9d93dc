/*  `creance admin keys generate`: the two files, their modes, loadable by
    CZMQ, never overwritten without --force, names that cannot leave DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../services/cli/cli.h"

static const cli_command_t s_cmd = { "admin", "keys", cmd_admin_keys, "admin keys ...", "" };

static int
s_run(const char *dir, const char *name, bool force)
{
    cli_t cli = { .timeout_s = 1 };
    char *argv[] = { "keys", "generate", (char *) name, "--dir", (char *) dir,
                     force ? "--force" : NULL, NULL };
    return cmd_admin_keys(&cli, &s_cmd, force ? 6 : 5, argv);
}

static void
test_generate_writes_a_private_pair(void **state)
{
    char dir[] = "/tmp/creance-test-keys-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[128], pub[192], sec[200];
    snprintf(sub, sizeof sub, "%s/new", dir);           /* created on the way */
    snprintf(pub, sizeof pub, "%s/intake.key", sub);
    snprintf(sec, sizeof sec, "%s_secret", pub);

    assert_int_equal(s_run(sub, "intake", false), CLI_OK);
    struct stat st;
    assert_int_equal(stat(sec, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    zcert_t *cert = zcert_load(pub);
    assert_non_null(cert);
    assert_string_equal(zcert_meta(cert, "name"), "intake");
    assert_string_not_equal(zcert_secret_txt(cert), "0000000000000000000000000000000000000000");
    char first[41];
    snprintf(first, sizeof first, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    /* The public file holds no secret. */
    FILE *f = fopen(pub, "r");
    char text[2048];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    assert_null(strstr(text, "secret-key"));

    /* Never overwritten silently; --force replaces the pair. */
    assert_int_equal(s_run(sub, "intake", false), CLI_FAILED);
    cert = zcert_load(pub);
    assert_string_equal(zcert_public_txt(cert), first);
    zcert_destroy(&cert);
    assert_int_equal(s_run(sub, "intake", true), CLI_OK);
    cert = zcert_load(pub);
    assert_string_not_equal(zcert_public_txt(cert), first);
    zcert_destroy(&cert);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_bad_names_and_arguments(void **state)
{
    assert_int_equal(s_run("/tmp", "../escape", false), CLI_USAGE);
    assert_int_equal(s_run("/tmp", ".hidden", false), CLI_USAGE);
    assert_int_equal(s_run("/tmp", "a/b", false), CLI_USAGE);
    assert_int_equal(s_run("", "ok", false), CLI_USAGE);
    cli_t cli = { .timeout_s = 1 };
    char *argv[] = { "keys", "destroy", "x", NULL };
    assert_int_equal(cmd_admin_keys(&cli, &s_cmd, 3, argv), CLI_USAGE);
    assert_int_equal(s_run("/dev/null", "ok", false), CLI_FAILED);   /* not a folder */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_writes_a_private_pair),
        cmocka_unit_test(test_bad_names_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

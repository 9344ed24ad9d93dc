/*  cmd_keys: `creance admin keys generate NAME --dir DIR`, a CURVE key pair
    for a service or a client, as CZMQ certificate files:
        DIR/NAME.key         public half: give it to the servers (their
                             CREANCE_CURVE_DIR/authorized/ folder)
        DIR/NAME.key_secret  secret half, mode 0600: stays with NAME
    Nothing secret is printed. An existing pair is never overwritten
    unless --force: a replaced key locks out whoever still uses the old one. */
#include "cli.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum { O_DIR = 1, O_FORCE };

static const cli_option_t s_options[] = {
    { "dir", true, O_DIR },
    { "force", false, O_FORCE },
    { NULL, false, 0 }
};

typedef struct {
    const char *dir;
    bool force;
} keys_opts_t;

static int
s_on_option(void *arg, int code, const char *value)
{
    keys_opts_t *o = arg;
    if (code == O_DIR)
        o->dir = value;
    else if (code == O_FORCE)
        o->force = true;
    return CLI_OK;
}

/*  A file name and a metadata value: letters, digits, '-', '_', '.', not
    starting with '.', so NAME can never climb out of DIR. */
static bool
s_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool
s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int
s_generate(cli_t *cli, const cli_command_t *cmd, const char *name, const keys_opts_t *o)
{
    if (!s_name_valid(name))
        return cli_usage_error(cli, cmd, "NAME '%s': 1 to 64 of letters, digits, '-', '_', '.' "
                               "(not starting with '.')", name);
    if (!o->dir || !*o->dir)
        return cli_usage_error(cli, cmd, "--dir DIR is required (where the two files go)");
    struct stat st;
    if (stat(o->dir, &st) != 0) {
        if (errno != ENOENT || mkdir(o->dir, 0700) != 0)
            return cli_fail(cli, "--dir %s: cannot create it: %s", o->dir, strerror(errno));
    }
    else if (!S_ISDIR(st.st_mode))
        return cli_fail(cli, "--dir %s: not a folder", o->dir);

    char pub[1024], sec[1040];
    snprintf(pub, sizeof pub, "%s/%s.key", o->dir, name);
    snprintf(sec, sizeof sec, "%s_secret", pub);
    if (!o->force && (s_exists(pub) || s_exists(sec)))
        return cli_fail(cli, "%s already exists: keep it, or replace it with --force (clients "
                        "or servers using the old key are then refused)", s_exists(pub) ? pub : sec);

    zcert_t *cert = zcert_new();
    if (!cert)
        return cli_fail(cli, "cannot generate a key pair");
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "created-by", "creance admin keys generate");
    /* The secret file is born private: no moment where others could read it. */
    mode_t old = umask(077);
    unlink(sec);
    int rc = zcert_save(cert, pub);
    umask(old);
    if (rc != 0 || chmod(sec, 0600) != 0 || chmod(pub, 0644) != 0) {
        zcert_destroy(&cert);
        unlink(sec);
        return cli_fail(cli, "cannot write %s and %s: %s", pub, sec, strerror(errno));
    }
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "public_key",
                              zcert_public_txt(cert), "public_file", pub, "secret_file", sec);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(j);
    }
    else
        printf("key pair %s: public key %s\n"
               "  %s         public: copy it into the servers' authorized/ folder\n"
               "  %s  secret (mode 0600): stays with %s (CREANCE_CURVE_CERT=%s)\n",
               name, zcert_public_txt(cert), pub, sec, name, pub);
    zcert_destroy(&cert);
    return CLI_OK;
}

int
cmd_admin_keys(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    keys_opts_t o = { 0 };
    char *pos[3];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &o, pos, 3, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos < 1)
        return cli_usage_error(cli, cmd, "an action is required: generate");
    if (strcmp(pos[0], "generate") != 0)
        return cli_usage_error(cli, cmd, "'%s' is not an action (expected generate)", pos[0]);
    if (npos != 2)
        return cli_usage_error(cli, cmd, "generate takes one NAME");
    return s_generate(cli, cmd, pos[1], &o);
}

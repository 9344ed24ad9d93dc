/*  Unit tests: reminders' delivery helpers that need no peer: the SMTP
    message, the retry backoff, the letter outbox (temp file + rename) and
    the plain-text PDF; and the API's bearer token parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../services/reminders/api.h"
#include "../../services/reminders/channels.h"
#include "../../services/reminders/delivery.h"

static void test_smtp_message(void **state)
{
    char *m = rem_smtp_message("relances@creance.local", "compta@client.fr", "Relance : facture F-1 €",
                               "Bonjour,\n.une ligne qui commence par un point\nFin", "<r42.email@acme.creance>",
                               0);
    assert_non_null(m);
    assert_non_null(strstr(m, "Message-ID: <r42.email@acme.creance>\r\n"));
    assert_non_null(strstr(m, "To: <compta@client.fr>\r\n"));
    assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(strstr(m, "charset=UTF-8"));
    /*  Body: CRLF line ends, a leading dot doubled. */
    assert_non_null(strstr(m, "\r\n\r\nBonjour,\r\n..une ligne"));
    assert_non_null(strstr(m, "\r\nFin\r\n"));
    assert_null(strstr(m, "point\nFin"));
    free(m);
}

static void test_backoff(void **state)
{
    assert_int_equal(rem_delivery_backoff(1, 30, 3600), 30);
    assert_int_equal(rem_delivery_backoff(2, 30, 3600), 60);
    assert_int_equal(rem_delivery_backoff(3, 30, 3600), 120);
    assert_int_equal(rem_delivery_backoff(8, 30, 3600), 3600);
    assert_int_equal(rem_delivery_backoff(60, 30, 3600), 3600);
    assert_int_equal(rem_delivery_backoff(0, 30, 3600), 30);
}

static void test_outbox_write_replaces_whole_files(void **state)
{
    char dir[] = "/tmp/creance-outbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[256];
    assert_int_equal(rem_outbox_write(dir, "acme-r1-letter.pdf", (const unsigned char *) "first", 5,
                                      err, sizeof err), 0);
    /*  A retry writes the same name again: one file, the new content. */
    assert_int_equal(rem_outbox_write(dir, "acme-r1-letter.pdf", (const unsigned char *) "second!", 7,
                                      err, sizeof err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/acme-r1-letter.pdf", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[16] = "";
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "second!", 7);
    int files = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            files++;
            assert_null(strstr(e->d_name, ".tmp"));
        }
    closedir(d);
    assert_int_equal(files, 1);
    unlink(path);
    rmdir(dir);
    /*  An outbox that cannot be written is an error, with the reason. */
    assert_int_equal(rem_outbox_write("/proc/creance-no", "x.pdf", (const unsigned char *) "x", 1,
                                      err, sizeof err), -1);
    assert_non_null(strstr(err, "/proc/creance-no"));
}

static void test_pdf_text(void **state)
{
    unsigned char *pdf = NULL;
    size_t len = 0;
    assert_int_equal(rem_pdf_text("Relance", "Bonjour,\nFacture F-1 : 1 200,00 €\n", &pdf, &len), 0);
    assert_true(len > 500);
    assert_memory_equal(pdf, "%PDF-", 5);
    free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smtp_message),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_outbox_write_replaces_whole_files),
        cmocka_unit_test(test_pdf_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

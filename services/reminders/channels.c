/*  channels: SMTP, SMS gateway, letter outbox (see channels.h). */
#include "channels.h"

#include <cairo.h>
#include <cairo-pdf.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void curl_once(void)
{
    static bool done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
    }
}

/* ------------------------------------------------------------ e-mail */

static char *b64(const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned) s[i] << 16 | (i + 1 < n ? (unsigned) s[i + 1] << 8 : 0)
                   | (i + 2 < n ? s[i + 2] : 0);
        o[j++] = t[v >> 18 & 63];
        o[j++] = t[v >> 12 & 63];
        o[j++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        o[j++] = i + 2 < n ? t[v & 63] : '=';
    }
    o[j] = '\0';
    return o;
}

char *rem_smtp_message(const char *from, const char *to, const char *subject, const char *body,
                       const char *message_id, long long date_s)
{
    char *subj = b64((const unsigned char *) subject, strlen(subject));
    if (!subj)
        return NULL;
    time_t t = (time_t) date_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t cap = strlen(body) * 2 + strlen(subj) + strlen(from) + strlen(to) + strlen(message_id) + 512;
    char *m = malloc(cap);
    if (!m) {
        free(subj);
        return NULL;
    }
    size_t p = (size_t) snprintf(m, cap,
        "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nMessage-ID: %s\r\nSubject: =?UTF-8?B?%s?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
        date, from, to, message_id, subj);
    free(subj);
    /*  Body with CRLF line ends and dot-stuffing (RFC 5321 4.5.2). */
    bool bol = true;
    for (const char *s = body; *s && p + 4 < cap; s++) {
        if (bol && *s == '.')
            m[p++] = '.';
        if (*s == '\n') {
            if (s == body || s[-1] != '\r')
                m[p++] = '\r';
            m[p++] = '\n';
            bol = true;
            continue;
        }
        m[p++] = *s;
        bol = false;
    }
    if (!bol) {
        m[p++] = '\r';
        m[p++] = '\n';
    }
    m[p] = '\0';
    return m;
}

typedef struct {
    const char *data;
    size_t len, off;
} upload_t;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    upload_t *u = arg;
    size_t room = size * nitems, left = u->len - u->off;
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

void rem_smtp_send(const rem_smtp_t *cfg, const char *to, const char *subject, const char *body,
                   const char *message_id, rem_send_result_t *res)
{
    memset(res, 0, sizeof *res);
    curl_once();
    char *msg = rem_smtp_message(cfg->from, to, subject, body, message_id, (long long) time(NULL));
    CURL *c = curl_easy_init();
    if (!msg || !c) {
        res->status = REM_SEND_RETRY;
        snprintf(res->error, sizeof res->error, "out of memory");
        free(msg);
        if (c)
            curl_easy_cleanup(c);
        return;
    }
    char from[300], rcpt_s[300];
    snprintf(from, sizeof from, "<%s>", cfg->from);
    snprintf(rcpt_s, sizeof rcpt_s, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_s);
    upload_t up = { msg, strlen(msg), 0 };
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->timeout_ms < 3000 ? cfg->timeout_ms : 3000);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (cfg->user && *cfg->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        res->status = REM_SEND_OK;
        snprintf(res->provider_id, sizeof res->provider_id, "%s", message_id);
    } else {
        /*  5xx on RCPT (unknown mailbox, refused): permanent; the rest is
            retried (connection, timeouts, 4xx). */
        res->status = (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || code < 500 || code > 599)
                      ? REM_SEND_RETRY : REM_SEND_PERMANENT;
        if (rc == CURLE_LOGIN_DENIED)
            res->status = REM_SEND_RETRY;
        snprintf(res->error, sizeof res->error, "smtp: %s (%ld) %s", curl_easy_strerror(rc), code, errbuf);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
}

/* ------------------------------------------------------------ SMS */

typedef struct {
    char buf[4096];
    size_t len;
} sink_t;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    sink_t *s = arg;
    size_t n = size * nmemb;
    size_t room = sizeof s->buf - 1 - s->len;
    size_t k = n < room ? n : room;
    memcpy(s->buf + s->len, ptr, k);
    s->len += k;
    s->buf[s->len] = '\0';
    return n;
}

void rem_sms_send(const rem_sms_t *cfg, const char *to, const char *text, const char *key,
                  rem_send_result_t *res)
{
    memset(res, 0, sizeof *res);
    curl_once();
    json_t *o = json_pack("{s:s, s:s, s:s}", "to", to, "text", text, "reference", key);
    char *payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    CURL *c = curl_easy_init();
    if (!payload || !c) {
        res->status = REM_SEND_RETRY;
        snprintf(res->error, sizeof res->error, "out of memory");
        free(payload);
        if (c)
            curl_easy_cleanup(c);
        return;
    }
    char h1[300], h2[1100];
    snprintf(h1, sizeof h1, "Idempotency-Key: %s", key);
    snprintf(h2, sizeof h2, "Authorization: Bearer %s", cfg->token ? cfg->token : "");
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, h1);
    hs = curl_slist_append(hs, h2);
    sink_t sink = { .len = 0 };
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && code >= 200 && code < 300) {
        res->status = REM_SEND_OK;
        json_t *j = json_loads(sink.buf, 0, NULL);
        const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
        snprintf(res->provider_id, sizeof res->provider_id, "%s", id ? id : key);
        json_decref(j);
    } else if (rc == CURLE_OK && code >= 400 && code < 500 && code != 408 && code != 429) {
        res->status = REM_SEND_PERMANENT;
        snprintf(res->error, sizeof res->error, "sms gateway refused: HTTP %ld %.150s", code, sink.buf);
    } else {
        res->status = REM_SEND_RETRY;
        if (rc != CURLE_OK)
            snprintf(res->error, sizeof res->error, "sms gateway: %s %s", curl_easy_strerror(rc), errbuf);
        else
            snprintf(res->error, sizeof res->error, "sms gateway: HTTP %ld", code);
    }
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    free(payload);
}

/* ------------------------------------------------------------ letters */

int rem_outbox_write(const char *dir, const char *name, const unsigned char *data, size_t len,
                     char *err, size_t errlen)
{
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    mkdir(dir, 0750);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t) w;
    }
    /*  fsync before the rename: after a crash the name holds the whole
        file or nothing. */
    if (fsync(fd) || close(fd)) {
        snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct {
    unsigned char *buf;
    size_t len, cap;
} membuf_t;

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int length)
{
    membuf_t *m = closure;
    if (m->len + length > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 65536);
        while (cap < m->len + length)
            cap *= 2;
        unsigned char *b = realloc(m->buf, cap);
        if (!b)
            return CAIRO_STATUS_NO_MEMORY;
        m->buf = b;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, data, length);
    m->len += length;
    return CAIRO_STATUS_SUCCESS;
}

int rem_pdf_text(const char *title, const char *text, unsigned char **pdf, size_t *len)
{
    membuf_t m = { 0 };
    const double W = 595.28, H = 841.89, margin = 56, size = 10.5, lead = 14;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(mem_write, &m, W, H);
    cairo_t *cr = cairo_create(s);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 14);
    double y = margin + 14;
    cairo_move_to(cr, margin, y);
    cairo_show_text(cr, title);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    y += 2 * lead;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t) (e - p) : strlen(p);
        char line[512];
        /*  Long lines are cut at 95 bytes (the messages wrap themselves). */
        size_t k = n < 95 ? n : 95;
        memcpy(line, p, k);
        line[k] = '\0';
        if (y > H - margin) {
            cairo_show_page(cr);
            y = margin + size;
        }
        cairo_move_to(cr, margin, y);
        cairo_show_text(cr, line);
        y += lead;
        p += n;
        if (*p == '\n')
            p++;
    }
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(m.buf);
        return -1;
    }
    *pdf = m.buf;
    *len = m.len;
    return 0;
}

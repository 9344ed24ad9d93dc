/*  log: one line per event on stderr. A single write(2) per line keeps
    lines whole when several processes share a log file. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_service[32] = "creance";
static log_level_t s_level = LOGL_INFO;
static const char *s_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void
log_init(const char *service)
{
    snprintf(s_service, sizeof s_service, "%s", service);
}

int
log_set_level(const char *name)
{
    static const char *levels[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++)
        if (name && strcasecmp(name, levels[i]) == 0) {
            s_level = (log_level_t) i;
            return 0;
        }
    return -1;
}

void
log_write(log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    char line[4096];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int) strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t) n, ".%03dZ %s %s ",
                  (int) (tv.tv_usec / 1000), s_service, s_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t) n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int) sizeof line - 2)
        n = (int) sizeof line - 2;    /* truncated: still one line */
    /* Newlines inside a message would split an event over two lines. */
    for (char *p = line; p < line + n; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    line[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, (size_t) n);
    (void) rc;
}

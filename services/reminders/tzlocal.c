/*  tzlocal: UTC -> local time in an IANA zone (see tzlocal.h). */
#include "tzlocal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dates.h"

bool rem_tz_known(const char *zone)
{
    if (!zone || !*zone || strlen(zone) > 64 || zone[0] == '/' || strstr(zone, ".."))
        return false;
    for (const char *p = zone; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

#define CACHE 64
static struct {
    char zone[65];
    int64_t at;
    rem_local_t local;
    bool used;
} s_cache[CACHE];
static int s_next;

static void fill_from_tm(const struct tm *tm, rem_local_t *out)
{
    out->date = date_to_days(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
    out->minute = tm->tm_hour * 60 + tm->tm_min;
    out->weekday = tm->tm_wday;
}

int rem_tz_local(const char *zone, int64_t utc_seconds, rem_local_t *out)
{
    for (int i = 0; i < CACHE; i++)
        if (s_cache[i].used && s_cache[i].at == utc_seconds && strcmp(s_cache[i].zone, zone ? zone : "") == 0) {
            *out = s_cache[i].local;
            return out->zone_known ? 0 : -1;
        }
    time_t t = (time_t) utc_seconds;
    struct tm tm;
    out->zone_known = rem_tz_known(zone);
    if (out->zone_known) {
        char *old = getenv("TZ");
        char *saved = old ? strdup(old) : NULL;
        setenv("TZ", zone, 1);
        tzset();
        localtime_r(&t, &tm);
        if (saved) {
            setenv("TZ", saved, 1);
            free(saved);
        } else {
            unsetenv("TZ");
        }
        tzset();
    } else {
        gmtime_r(&t, &tm);
    }
    fill_from_tm(&tm, out);
    int slot = s_next;
    s_next = (s_next + 1) % CACHE;
    snprintf(s_cache[slot].zone, sizeof s_cache[slot].zone, "%s", zone ? zone : "");
    s_cache[slot].at = utc_seconds;
    s_cache[slot].local = *out;
    s_cache[slot].used = true;
    return out->zone_known ? 0 : -1;
}

bool rem_parse_instant(const char *s, int64_t *seconds)
{
    int y, mo, d, h, mi, se;
    char z;
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &se, &z, &n) != 7
        || z != 'Z' || s[n] != '\0' || strlen(s) != 20)
        return false;
    if (!date_valid(y, mo, d) || h > 23 || mi > 59 || se > 59 || h < 0 || mi < 0 || se < 0)
        return false;
    *seconds = (int64_t) date_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

int64_t rem_now_seconds(void)
{
    int64_t s;
    if (rem_parse_instant(getenv("CREANCE_NOW_UTC"), &s))
        return s;
    const char *today = getenv("CREANCE_TODAY");
    int32_t days;
    if (today && date_parse(today, &days))
        return (int64_t) days * 86400 + 10 * 3600;
    return now_us() / 1000000;
}

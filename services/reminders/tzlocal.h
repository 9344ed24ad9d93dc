/*  tzlocal: a UTC instant -> local date, minute and weekday in an IANA time
    zone, from the system's TZ database (/usr/share/zoneinfo, or $TZDIR).

    glibc only converts to the zone named by TZ: we set TZ, tzset(),
    localtime_r() and put TZ back. That costs reading the zone file, so
    results are cached per (zone, instant): a dunning pass uses one instant
    and a few zones, and pays for each zone once. Single-threaded, like the
    service. An unknown or malformed zone is not guessed: UTC is used and
    zone_known is false (the preview says so). */
#ifndef CREANCE_REMINDERS_TZLOCAL_H
#define CREANCE_REMINDERS_TZLOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include "policy.h"

/*  True for a well-formed zone name whose file exists. */
bool rem_tz_known(const char *zone);
/*  0 when converted in `zone`, -1 when UTC was used instead. */
int  rem_tz_local(const char *zone, int64_t utc_seconds, rem_local_t *out);
/*  The instant the pass runs at: CREANCE_NOW_UTC ("YYYY-MM-DDTHH:MM:SSZ")
    when set; else, when CREANCE_TODAY is set, that day at 10:00 UTC (so a
    test that moves the calendar gets a working-hours instant in Europe);
    else the clock. */
int64_t rem_now_seconds(void);
/*  Parses "YYYY-MM-DDTHH:MM:SSZ"; false on anything else. */
bool rem_parse_instant(const char *s, int64_t *seconds);

#endif

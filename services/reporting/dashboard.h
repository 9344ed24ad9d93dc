/*  dashboard: reporting's web page (GET /), a KPI view over the JSON API. */
#ifndef CREANCE_REPORTING_DASHBOARD_H
#define CREANCE_REPORTING_DASHBOARD_H

#include "http.h"

extern const char rpt_dashboard_html[];

/*  http_handler_fn for "/" (and "/index.html"); 404 for any other path the
    prefix route would catch. */
void rpt_dashboard_page(const http_request_t *req, http_response_t *res, void *arg);

#endif

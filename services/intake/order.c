/*  order: the order in which intake records a request's items (order.h). */
#include "order.h"

#include <czmq.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    size_t level;
    order_group_t group;
} last_t;

typedef struct {
    size_t level;
    order_group_t group;
    size_t index;
} rank_t;

static int
s_rank_cmp(const void *a, const void *b)
{
    const rank_t *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void
s_free_last(void **item)
{
    free(*item);
    *item = NULL;
}

int
intake_order(size_t n, const char *const *keys, const order_group_t *groups, size_t *ord)
{
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    if (n < 2)
        return 0;
    rank_t *rank = calloc(n, sizeof *rank);
    zhashx_t *last = zhashx_new();
    if (!rank || !last) {
        free(rank);
        zhashx_destroy(&last);
        return -1;
    }
    zhashx_set_destructor(last, s_free_last);
    size_t base = 0, top = 0;       /* first level after the last barrier; highest level */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t level;
        if (!keys[i]) {
            /* A barrier: after everything so far, before everything after. */
            level = top + 1;
            base = level + 1;
            zhashx_purge(last);
        }
        else {
            last_t *l = zhashx_lookup(last, keys[i]);
            if (!l)
                level = base;
            else if (groups[i] == ORDER_ALONE || l->group != groups[i])
                level = l->level + 1;
            else
                level = l->level;
            if (level < base)
                level = base;
            if (!l) {
                if (!(l = calloc(1, sizeof *l)) || zhashx_insert(last, keys[i], l) != 0) {
                    free(l);
                    rc = -1;
                    break;
                }
            }
            l->level = level;
            l->group = groups[i];
        }
        if (level > top)
            top = level;
        rank[i] = (rank_t) { level, keys[i] ? groups[i] : ORDER_ALONE, i };
    }
    if (rc == 0) {
        qsort(rank, n, sizeof *rank, s_rank_cmp);
        for (size_t i = 0; i < n; i++)
            ord[i] = rank[i].index;
    }
    free(rank);
    zhashx_destroy(&last);
    return rc;
}

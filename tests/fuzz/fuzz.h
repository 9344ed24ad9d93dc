/*  What the fuzz targets share: CHECK(cond) for properties beyond what the
    sanitizers see. A failed property is reported through the sanitizer
    runtime too, so that it shows even when run.sh closes the target's
    stderr (-close_fd_mask=2, to keep the services' logs out of the way),
    then aborts: libFuzzer saves the input as a crash artifact. */
#ifndef CREANCE_FUZZ_H
#define CREANCE_FUZZ_H

#include <sanitizer/common_interface_defs.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            char what_[512];                                                     \
            snprintf(what_, sizeof what_, "property failed: %s (%s:%d)", #cond,  \
                     __FILE__, __LINE__);                                        \
            fprintf(stderr, "%s\n", what_);                                      \
            __sanitizer_report_error_summary(what_);                             \
            abort();                                                             \
        }                                                                        \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

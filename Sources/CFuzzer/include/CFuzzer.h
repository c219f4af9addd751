#ifndef GATEHOUSE_CFUZZER_H
#define GATEHOUSE_CFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (from the runtime `-sanitize=fuzzer` links): runs `callback` on generated inputs as its own
/// `main` would, taking libFuzzer's command-line flags from argc/argv.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

// Declarations only (include/CFuzzer.h); the definitions come from libFuzzer's runtime.
#include "CFuzzer.h"

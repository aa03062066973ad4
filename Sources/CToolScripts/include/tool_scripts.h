#ifndef TOOL_SCRIPTS_H
#define TOOL_SCRIPTS_H
#include <stddef.h>

// The compiled-in script called `name` (its bytes, not NUL-terminated), or NULL.
const char *esr_tool_script(const char *name, size_t *length);

#endif

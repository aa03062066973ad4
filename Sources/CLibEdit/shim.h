// Non-variadic wrappers over libedit's el_set/el_get/history, which Swift cannot call directly.
#include <stdio.h>
#include <histedit.h>

typedef char *(*esr_el_prompt_fn)(EditLine *);
typedef unsigned char (*esr_el_fn)(EditLine *, int);

static inline int esr_el_set_prompt(EditLine *el, esr_el_prompt_fn fn) { return el_set(el, EL_PROMPT, fn); }
static inline int esr_el_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
static inline int esr_el_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
static inline int esr_el_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
static inline void *esr_el_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}
static inline int esr_el_add_function(EditLine *el, const char *name, const char *help, esr_el_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}
static inline int esr_el_bind(EditLine *el, const char *key, const char *function) {
    return el_set(el, EL_BIND, key, function, (const char *)NULL);
}
// Changes a terminal flag of edit mode only ("-isig": Ctrl-C reaches the editor as a key).
static inline int esr_el_edit_tty(EditLine *el, const char *flag) {
    return el_set(el, EL_SETTY, "-d", flag, (const char *)NULL);
}
static inline int esr_history_set_size(History *h, int n) { HistEvent ev; return history(h, &ev, H_SETSIZE, n); }
static inline int esr_history_set_unique(History *h, int on) { HistEvent ev; return history(h, &ev, H_SETUNIQUE, on); }
static inline int esr_history_enter(History *h, const char *line) { HistEvent ev; return history(h, &ev, H_ENTER, line); }
static inline int esr_history_load(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_LOAD, path); }
static inline int esr_history_save(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_SAVE, path); }

// The process's stdio streams (Swift 6 refuses the global `stdout` as shared mutable state).
static inline EditLine *esr_el_open(const char *program) { return el_init(program, stdin, stdout, stderr); }
// Writes to stdout through stdio and flushes, so text interleaves with what Lua's print wrote.
static inline void esr_stdout_write(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

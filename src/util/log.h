/* log — one line per event to stderr with a level tag. Thread-safe (stdio locks). */
#ifndef RECITE_LOG_H
#define RECITE_LOG_H
void log_set_level(int level);   /* 0 error, 1 warn, 2 info, 3 debug */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(0, __VA_ARGS__)
#define log_warn(...)  log_msg(1, __VA_ARGS__)
#define log_info(...)  log_msg(2, __VA_ARGS__)
#define log_debug(...) log_msg(3, __VA_ARGS__)
#endif

// CSQLite: the SQLite C API, plus shims for what Swift cannot express directly.
#ifndef CSQLITE_H
#define CSQLITE_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is the pointer value -1 cast to a destructor type; Swift
// cannot import that macro, so the bind calls that need it live here.
static inline int csqlite_bind_text_transient(sqlite3_stmt *stmt, int index, const char *text, int bytes) {
    return sqlite3_bind_text(stmt, index, text, bytes, SQLITE_TRANSIENT);
}
static inline int csqlite_bind_blob_transient(sqlite3_stmt *stmt, int index, const void *data, int bytes) {
    return sqlite3_bind_blob(stmt, index, data, bytes, SQLITE_TRANSIENT);
}

// sqlite3_config is variadic, which Swift cannot call. Memory statistics take a global mutex
// on every allocation (a twentieth of the engine's catch-up time); the daemon does not read
// them, so they are turned off before SQLite initialises. Returns SQLITE_MISUSE once
// SQLite is initialised (harmless: statistics then stay on).
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif

// The few libmongoc calls LuaESMongo makes, wrapped so Swift never holds a bson_t: they are
// 128-byte aligned structs (BSON_ALIGNED_BEGIN(128)), kept on the C stack here. Swift passes
// and receives BSON as plain bytes (LuaESMongo encodes and decodes them itself).
#include <mongoc/mongoc.h>
#include <stdlib.h>
#include <string.h>

/// Parses `url` and makes a client pool with error API 2 (server errors carry the server's
/// code in the MONGOC_ERROR_SERVER domain). `selection_timeout_ms` applies unless the URL
/// sets serverSelectionTimeoutMS. Copies the URL's database name (or "") into `database`.
static inline mongoc_client_pool_t *esm_pool_new(const char *url, int32_t selection_timeout_ms,
                                                 char *database, size_t database_size, bson_error_t *error) {
    mongoc_uri_t *uri = mongoc_uri_new_with_error(url, error);
    if (!uri) return NULL;
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, selection_timeout_ms);
    }
    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, selection_timeout_ms);
    }
    if (!mongoc_uri_get_appname(uri)) mongoc_uri_set_appname(uri, "esrun");
    const char *name = mongoc_uri_get_database(uri);
    snprintf(database, database_size, "%s", name ? name : "");
    mongoc_client_pool_t *pool = mongoc_client_pool_new_with_error(uri, error);
    mongoc_uri_destroy(uri);
    if (pool) mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
    return pool;
}

/// Only checks that `url` parses, and copies its database name and user name.
static inline bool esm_uri_check(const char *url, char *database, size_t database_size,
                                 char *user, size_t user_size, bson_error_t *error) {
    mongoc_uri_t *uri = mongoc_uri_new_with_error(url, error);
    if (!uri) return false;
    const char *name = mongoc_uri_get_database(uri);
    snprintf(database, database_size, "%s", name ? name : "");
    const char *username = mongoc_uri_get_username(uri);
    snprintf(user, user_size, "%s", username ? username : "");
    mongoc_uri_destroy(uri);
    return true;
}

enum { ESM_READ = 0, ESM_WRITE = 1, ESM_READ_WRITE = 2 };

/// Runs one command (BSON bytes) on a client popped from the pool (a client is not thread
/// safe; the pool is) and pushes it back. The reply's bytes are malloc'd into `*reply`
/// (free them with `free`), on failure too: mongoc always initializes the reply.
/// The *_command_with_opts functions apply the URL's read and write concerns and are not
/// retried by mongoc ("This function is not considered a retryable write operation").
static inline bool esm_command(mongoc_client_pool_t *pool, const char *db, int kind,
                               const uint8_t *command_data, size_t command_length,
                               uint8_t **reply_data, uint32_t *reply_length, bson_error_t *error) {
    bson_t command;
    *reply_data = NULL;
    *reply_length = 0;
    if (!bson_init_static(&command, command_data, command_length)) {
        bson_set_error(error, MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, "the command is not a BSON document");
        return false;
    }
    mongoc_client_t *client = mongoc_client_pool_pop(pool);
    bson_t reply;
    bool ok;
    switch (kind) {
    case ESM_WRITE: ok = mongoc_client_write_command_with_opts(client, db, &command, NULL, &reply, error); break;
    case ESM_READ_WRITE: ok = mongoc_client_read_write_command_with_opts(client, db, &command, NULL, NULL, &reply, error); break;
    default: ok = mongoc_client_read_command_with_opts(client, db, &command, NULL, NULL, &reply, error); break;
    }
    mongoc_client_pool_push(pool, client);
    *reply_length = reply.len;
    *reply_data = (uint8_t *)malloc(reply.len);
    if (*reply_data) memcpy(*reply_data, bson_get_data(&reply), reply.len);
    bson_destroy(&reply);
    return ok;
}

/// libmongoc's default handler prints every level, its server monitor's DEBUG lines included:
/// only warnings and worse reach stderr.
static inline void esm_log(mongoc_log_level_t level, const char *domain, const char *message, void *data) {
    if (level <= MONGOC_LOG_LEVEL_WARNING) mongoc_log_default_handler(level, domain, message, data);
}

static inline void esm_init(void) {
    mongoc_init();
    mongoc_log_set_handler(esm_log, NULL);
}

/*
 * sync.c — IMAP sync state: for each (account, mailbox), the mailbox's
 * UIDVALIDITY (RFC 3501 §2.3.1.1) and the highest UID whose message is
 * stored.  `mxdigest fetch` writes it in the transaction that stores the
 * batch's reports, so the state never runs ahead of the data: after a crash
 * the next run starts right after the last committed batch.
 */
#include <string.h>

#include "store/store_p.h"

static int
prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct mxd_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "IMAP sync state");
	return 0;
}

int
store_sync_get(struct store *s, const char *account, const char *mailbox,
	       uint32_t *uidvalidity, uint32_t *last_uid, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	*uidvalidity = *last_uid = 0;
	if (prepare(s, "SELECT uidvalidity, last_uid FROM imap_state"
		    " WHERE account = ?1 AND mailbox = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		store_db_error(s, err, "reading the IMAP sync state");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return found;
}

int
store_sync_put(struct store *s, const char *account, const char *mailbox,
	       uint32_t uidvalidity, uint32_t last_uid, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	/*
	 * Within one UIDVALIDITY the highest UID done only grows (a rescan of
	 * older UIDs, as after a failed move, must not lower it); a new
	 * UIDVALIDITY replaces the old state (RFC 3501 §2.3.1.1: the old UIDs
	 * mean nothing any more).
	 */
	if (prepare(s, "INSERT INTO imap_state (account, mailbox, uidvalidity,"
		    " last_uid) VALUES (?1, ?2, ?3, ?4)"
		    " ON CONFLICT (account, mailbox) DO UPDATE SET"
		    " last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
		    " THEN max(last_uid, excluded.last_uid)"
		    " ELSE excluded.last_uid END,"
		    " uidvalidity = excluded.uidvalidity", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, uidvalidity);
	sqlite3_bind_int64(st, 4, last_uid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "writing the IMAP sync state");
	return 0;
}

int
store_sync_seen(struct store *s, const char *account, const char *mailbox,
		uint32_t uidvalidity, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc, changes = 0;

	if (prepare(s, "INSERT INTO imap_state (account, mailbox, uidvalidity,"
		    " last_uid, uv_changes) VALUES (?1, ?2, ?3, 0, 0)"
		    " ON CONFLICT (account, mailbox) DO UPDATE SET"
		    " uv_changes = CASE WHEN uidvalidity = excluded.uidvalidity"
		    " THEN 0 ELSE uv_changes + 1 END,"
		    " last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
		    " THEN last_uid ELSE 0 END,"
		    " uidvalidity = excluded.uidvalidity"
		    " RETURNING uv_changes", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, uidvalidity);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		changes = sqlite3_column_int(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "writing the IMAP sync state");
	return changes;
}

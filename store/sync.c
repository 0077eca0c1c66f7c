/*
 * sync.c — IMAP sync state: for each (account, mailbox), the mailbox's
 * UIDVALIDITY (RFC 3501 §2.3.1.1) and the highest UID whose message is
 * stored.  `mxdigest fetch` writes it in the transaction that stores the
 * batch's reports, so the state never runs ahead of the data: after a crash
 * the next run starts right after the last committed batch.
 */
#include <string.h>

#include "store/store_p.h"

int
store_sync_get(struct store *s, const char *account, const char *mailbox,
	       uint32_t *uidvalidity, uint32_t *last_uid, struct mxd_err *err)
{
	struct dbq *st;
	int rc, found = 0;

	*uidvalidity = *last_uid = 0;
	if (!(st = db_get(s, DB_SYNC_GET, err)))
		return -1;
	db_bind_text(st, 1, account);
	db_bind_text(st, 2, mailbox);
	rc = db_step(st);
	if (rc == 1) {
		*uidvalidity = (uint32_t)db_col_int(st, 0);
		*last_uid = (uint32_t)db_col_int(st, 1);
		found = 1;
	} else if (rc != 0) {
		db_reset(st);
		return store_db_error(s, err, "reading the IMAP sync state");
	}
	db_reset(st);
	return found;
}

int
store_sync_put(struct store *s, const char *account, const char *mailbox,
	       uint32_t uidvalidity, uint32_t last_uid, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	/*
	 * Within one UIDVALIDITY the highest UID done only grows (a rescan of
	 * older UIDs, as after a failed move, must not lower it); a new
	 * UIDVALIDITY replaces the old state (RFC 3501 §2.3.1.1: the old UIDs
	 * mean nothing any more).
	 */
	if (!(st = db_get(s, DB_SYNC_PUT, err)))
		return -1;
	db_bind_text(st, 1, account);
	db_bind_text(st, 2, mailbox);
	db_bind_int(st, 3, uidvalidity);
	db_bind_int(st, 4, last_uid);
	rc = db_step(st);
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "writing the IMAP sync state");
	return 0;
}

int
store_sync_seen(struct store *s, const char *account, const char *mailbox,
		uint32_t uidvalidity, struct mxd_err *err)
{
	struct dbq *st;
	int rc, changes = 0;

	if (!(st = db_get(s, DB_SYNC_SEEN, err)))
		return -1;
	db_bind_text(st, 1, account);
	db_bind_text(st, 2, mailbox);
	db_bind_int(st, 3, uidvalidity);
	rc = db_step(st);
	if (rc == 1) {
		changes = db_col_int(st, 0);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "writing the IMAP sync state");
	return changes;
}

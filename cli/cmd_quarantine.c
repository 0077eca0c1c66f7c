/*
 * cmd_quarantine.c — `mxdigest quarantine list|show ID`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"

static const char quarantine_help[] =
	"usage: mxdigest quarantine list\n"
	"       mxdigest quarantine show [--raw] ID\n"
	"       mxdigest quarantine retry\n"
	"\n"
	"Messages that looked like TLS-RPT reports but could not be read are\n"
	"kept, with their raw bytes and the reason, in the quarantine.\n"
	"\n"
	"  list         one line per entry: id, date, size, source, reason\n"
	"  show ID      the entry and the message (control characters shown\n"
	"               as U+FFFD)\n"
	"  show --raw ID  the exact raw bytes, for saving to a file\n"
	"  retry        read the quarantined messages again with this version\n"
	"               (mxdigest reparse --quarantine-only)\n";

static void
put(const char *s)
{
	cli_put_clean(stdout, s, strlen(s));
}

static int
list_one(const struct store_qitem *q, void *ctx)
{
	char date[32], size[32];

	(*(unsigned *)ctx)++;
	time_format_iso(q->created, date);
	date[10] = '\0';
	printf("%-5lld %s %9s  ", (long long)q->id, date,
	       str_thousands((uint64_t)q->size, size));
	put(q->source);
	if (q->part || (q->name && *q->name)) {
		printf(" [part %u%s", q->part, q->name ? ": " : "");
		put(q->name ? q->name : "");
		putchar(']');
	}
	fputs("\n      ", stdout);
	put(q->reason);
	putchar('\n');
	return 0;
}

static int
show(struct store *s, const char *arg, int raw)
{
	struct store_qitem q;
	struct mxd_err err;
	struct buf msg;
	char *end, *source = NULL, date[32];
	long long id;
	int64_t msg_id;
	int rc;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno || *end || id <= 0)
		return cli_usage("quarantine", "show needs an entry number, not "
				 "\"%s\"", arg);
	if (raw && isatty(STDOUT_FILENO)) {
		cli_error(NULL, "--raw writes the exact bytes, which may hold "
			  "terminal escapes: redirect it to a file");
		return EXIT_USAGE;
	}
	mxd_err_clear(&err);
	rc = store_quarantine_get(s, id, &q, &err);
	if (rc < 0)
		return cli_fail(&err);
	if (rc > 0) {
		cli_error(NULL, "no quarantine entry %lld (see mxdigest quarantine "
			  "list)", id);
		return EXIT_NOINPUT;
	}
	msg_id = q.message_id;
	if (!raw) {
		time_format_iso(q.created, date);
		printf("Entry:    %lld\nSource:   ", id);
		put(q.source);
		printf("\nPart:     %u%s", q.part, q.name ? " " : "");
		put(q.name ? q.name : "");
		printf("\nAdded:    %s\nSize:     %lld bytes\nReason:   ", date,
		       (long long)q.size);
		put(q.reason);
		fputs("\n\n", stdout);
	}
	buf_init(&msg, BUF_NOCAP);
	if (store_message_get(s, msg_id, &msg, &source, NULL, &err) < 0) {
		rc = cli_fail(&err);
	} else if (raw) {
		rc = fwrite(msg.data ? (void *)msg.data : "", 1, msg.len, stdout) ==
			msg.len ? EXIT_OK : EXIT_IOERR;
	} else {
		/* line by line: the message's own line ends, the rest cleaned */
		size_t i = 0;

		while (i < msg.len) {
			const unsigned char *nl = memchr(msg.data + i, '\n', msg.len - i);
			size_t ll = nl ? (size_t)(nl - (msg.data + i)) : msg.len - i;

			if (ll && msg.data[i + ll - 1] == '\r')
				ll--;
			cli_put_clean(stdout, msg.data + i, ll);
			fputc('\n', stdout);
			i += (nl ? (size_t)(nl - (msg.data + i)) + 1 : msg.len - i);
		}
		rc = EXIT_OK;
	}
	free(source);
	buf_release(&msg);
	return rc;
}

static const struct option quarantine_opts[] = {
	{"raw", no_argument, NULL, 'r'},
	{NULL, 0, NULL, 0},
};

/* The one command that opens the store itself: list and show read it,
 * retry writes it. */
static int
cmd_quarantine(struct cli *c, int argc, char **argv)
{
	struct store *s = NULL;
	struct mxd_err err;
	const char *sub;
	unsigned n = 0;
	int ch, raw = 0, rc;

	while ((ch = cli_getopt(c, argc, argv)) >= 0)
		if (ch == 'r')
			raw = 1;
	if (ch != -1)
		return cli_opt_exit(ch);
	sub = optind < argc ? argv[optind] : "list";
	if (strcmp(sub, "list") == 0) {
		if (optind + 1 < argc)
			return cli_usage("quarantine", "list takes no argument");
		if ((rc = cli_open_store(c, STORE_READ, &s)))
			return rc;
		mxd_err_clear(&err);
		if (store_quarantine_list(s, list_one, &n, &err) < 0)
			rc = cli_fail(&err);
		else if (n == 0 && !c->quiet)
			printf("The quarantine is empty.\n");
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "show") == 0) {
		if (optind + 2 != argc)
			return cli_usage("quarantine", "show takes one entry number");
		if ((rc = cli_open_store(c, STORE_READ, &s)))
			return rc;
		rc = show(s, argv[optind + 1], raw);
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "retry") == 0) {
		if (optind + 1 < argc)
			return cli_usage("quarantine", "retry takes no argument");
		if ((rc = cli_open_store(c, STORE_WRITE, &s)))
			return rc;
		rc = reparse_run(c, s, 1);
		store_close(s);
		return rc;
	}
	return cli_usage("quarantine", "unknown subcommand \"%s\" (list, show, "
			 "retry)", sub);
}

const struct cli_command cli_quarantine = {
	.name = "quarantine",
	.fn = cmd_quarantine,
	.needs = NEEDS_NOTHING,
	.summary = "list or show messages that could not be read",
	.help = quarantine_help,
	.shortopts = "r",
	.opts = quarantine_opts,
	.permute = 1,
};

/*
 * view.c — the digest's content for every format (view.h): the columns of
 * every table, the rows built from the digest, --top and the "others" row,
 * the changes against the previous window, and the summary in words.
 *
 * A column that shows a number of its row names it (`src`): the builders
 * give each row its numbers (struct nums) and fill() derives counts, rates,
 * shares and changes from them, for the rows of the digest and, from the
 * sums of the rows --top leaves out, for the "others" row alike.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"
#include "report/report_p.h"
#include "report/view.h"
#include "util/count.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define SUMMARY_ITEMS 3		/* worst MX hosts and new pairs in the summary */
#define DAILY_TABLE_DAYS 31	/* longer windows: no daily table for people */
#define SPARK_CELLS 7		/* cells of the per-organization sparkline */
#define BAR_CELLS 20		/* the widest bar of the daily table */
#define SAME_POINTS 0.05	/* a rate change people read as "=" */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum src {
	SRC_OWN,		/* set by the table's builder */
	SRC_REPORTS, SRC_SESSIONS, SRC_SUCCESSFUL, SRC_FAILED, SRC_RATE,
	SRC_PREV_REPORTS, SRC_PREV_SUCCESSFUL, SRC_PREV_FAILED, SRC_PREV_RATE,
	SRC_SHARE,		/* failed of the table's failures */
	SRC_FAILED_CHANGE,	/* failed - previous failed */
	SRC_RATE_CHANGE,	/* rate - previous rate, in points */
};

/* The numbers of a row. */
struct nums {
	uint64_t reports, successful, failed;
	uint64_t prev_reports, prev_successful, prev_failed;
	uint64_t whole;		/* the failures a share is of (not summed) */
};

enum col_id {
	C_REPORTS, C_RESULT_REPORTS, C_SESSIONS, C_SUCCESSFUL, C_DATA_SUCCESSFUL,
	C_FAILED, C_RATE, C_PREV_REPORTS, C_PREV_SUCCESSFUL, C_PREV_FAILED,
	C_PREV_RATE, C_FAILED_CHANGE, C_RATE_CHANGE, C_TOP_RESULT, C_ORGS,
	C_ORG_NAMES, C_MX, C_MX_TOP_FAILED, C_MX_NEW, C_MX_RESULTS, C_ORG,
	C_ORG_NEW, C_ORG_DAILY, C_SPARK, C_RESULT, C_SHARE, C_DOMAIN, C_TYPES,
	C_PTYPE, C_IP, C_DAY, C_BAR, C_IS_NEW, C_LAST_START, C_Q_ID, C_Q_TIME,
	C_Q_SOURCE, C_Q_NAME, C_Q_SIZE, C_Q_REASON, C_WORST_MX, C_WORST_FAILED,
	C_WORST_TOP, C_FROM, C_TO, C_PREV_FROM, C_PREV_TO, C_HIST_FROM,
	C_HIST_TO, C_T_REPORTS, C_T_ORGS, C_T_SUCCESSFUL, C_T_FAILED, C_T_RATE,
	C_T_QUARANTINED, C_T_CHANGE, C_P_REPORTS, C_P_ORGS, C_P_SUCCESSFUL,
	C_P_FAILED, C_P_RATE, C_F_DOMAIN, C_F_ORG, C_F_MX,
	/* the failure details: in this order, which is the table's */
	C_D_ID, C_D_ORG, C_D_START, C_D_END, C_D_DOMAIN, C_D_TYPE, C_D_IP,
	C_D_MX, C_D_HELO, C_D_RIP, C_D_RESULT, C_D_COUNT, C_D_REASON, C_D_INFO,
	C_D_DKIM, C_D_DKIM_DOMAIN,
	/* DKIM and conflicts, per organization and in the totals */
	C_DKIM_SHORT, C_DKIM_VERIFIED, C_DKIM_UNVERIFIED, C_DKIM_IGNORED,
	C_CONFLICTS, C_T_DKIM_POLICY,
	/* the reports of the window */
	C_R_ORG, C_R_ID, C_R_DAY, C_R_START, C_R_END, C_R_DKIM, C_R_DOMAIN,
	C_R_DETAIL, C_R_COUNTED, C_R_CONTENTS, C_R_STATUS,
	/* the configuration: findings of the latest check per domain */
	C_K_DOMAIN, C_K_CHECKED, C_K_LEVEL, C_K_CODE, C_K_SUBJECT, C_K_TEXT,
	C_K_DNSSEC, C_K_SINCE, C_K_CHANGE,
};

/* Column shapes: a number of the row (src), or a value the builder sets. */
#define NUM(name, key, f, src) {name, key, VIEW_COUNT, f, 0, NULL, src}
#define PCT(name, key, f, src) {name, key, VIEW_RATE, f, 0, NULL, src}
#define CHG(name, key, f, src) {name, key, VIEW_CHANGE, f, 0, NULL, src}
#define OWN(name, key, type, f, w) {name, key, type, f, w, NULL, SRC_OWN}
#define TXT(name, key, f, w) OWN(name, key, VIEW_TEXT, f, w)
#define TIME(name, key) OWN(name, key, VIEW_TIME, DATA, 0)

#define ALL VIEW_ALL
#define DATA VIEW_DATA
#define P VIEW_PEOPLE
#define S VIEW_SHEET
#define PS (VIEW_PEOPLE | VIEW_SHEET)

/*
 * Every column of every table.  A table's columns are in the order of
 * every format that shows them: the text digest's, the JSON members' of
 * docs/JSON.md (new ones only ever at the end), CSV's and the workbook's.
 */
static const struct view_col cols[] = {
	[C_REPORTS] = NUM("Reports", "reports", ALL, SRC_REPORTS),
	[C_RESULT_REPORTS] = NUM("Reports", "reports", ALL | VIEW_NOSUM,
				 SRC_REPORTS),
	[C_SESSIONS] = NUM("Sessions", NULL, P, SRC_SESSIONS),
	[C_SUCCESSFUL] = NUM("Successful", "successful_sessions", ALL,
			     SRC_SUCCESSFUL),
	[C_DATA_SUCCESSFUL] = NUM("Successful", "successful_sessions", DATA,
				  SRC_SUCCESSFUL),
	[C_FAILED] = NUM("Failed", "failed_sessions", ALL, SRC_FAILED),
	[C_RATE] = PCT("Rate", "failure_rate", ALL, SRC_RATE),
	[C_PREV_REPORTS] = NUM("Previous reports", "previous_reports", DATA,
			       SRC_PREV_REPORTS),
	[C_PREV_SUCCESSFUL] = NUM("Previous successful",
				  "previous_successful_sessions", DATA,
				  SRC_PREV_SUCCESSFUL),
	[C_PREV_FAILED] = NUM("Previous failed", "previous_failed_sessions",
			      DATA, SRC_PREV_FAILED),
	[C_PREV_RATE] = PCT("Previous rate", "previous_failure_rate", S,
			    SRC_PREV_RATE),
	[C_FAILED_CHANGE] = CHG("Change", "failed_sessions_change", PS,
				SRC_FAILED_CHANGE),
	[C_RATE_CHANGE] = CHG("Change", "failure_rate_change",
			      PS | VIEW_POINTS, SRC_RATE_CHANGE),
	[C_TOP_RESULT] = TXT("Top result type", "top_result_type", ALL, 26),
	[C_ORGS] = OWN("Orgs", NULL, VIEW_COUNT, P | VIEW_NOSUM, 0),
	[C_ORG_NAMES] = OWN("Organizations", "organizations", VIEW_NAMES,
			    DATA, 40),
	[C_MX] = OWN("MX host", "mx_host", VIEW_ADDRESS, ALL, 40),
	[C_MX_TOP_FAILED] = OWN("Top result type failed",
				"top_result_type_failed", VIEW_COUNT, S, 0),
	[C_MX_NEW] = OWN("New result types", "new_result_types", VIEW_NAMES,
			 S, 30),
	[C_MX_RESULTS] = OWN("Result types", "result_types", VIEW_ROWS,
			     VIEW_JSON, 0),
	[C_ORG] = TXT("Organization", "organization", ALL, 34),
	[C_ORG_NEW] = OWN("New failures", "new_failures", VIEW_FLAG, DATA, 0),
	[C_ORG_DAILY] = OWN("Daily failed sessions", "daily_failed_sessions",
			    VIEW_ROWS, VIEW_JSON, 0),
	[C_SPARK] = TXT("Daily", NULL, P, 0),
	[C_RESULT] = TXT("Result type", "result_type", ALL, 40),
	[C_SHARE] = PCT("Share", NULL, P, SRC_SHARE),
	[C_DOMAIN] = TXT("Policy domain", "policy_domain", ALL, 34),
	[C_TYPES] = TXT("Policy", "policy_types", ALL, 22),
	[C_PTYPE] = TXT("Policy type", "policy_type", ALL, 30),
	[C_IP] = OWN("Sending IP", "sending_ip", VIEW_ADDRESS, ALL, 39),
	[C_DAY] = OWN("Day", "day", VIEW_DAY, ALL, 0),
	[C_BAR] = TXT("Failed sessions", NULL, P, 0),
	[C_IS_NEW] = OWN("New", "new", VIEW_FLAG, VIEW_JSON, 0),
	[C_LAST_START] = TIME("Last report start", "last_report_start"),
	[C_Q_ID] = OWN("ID", "id", VIEW_COUNT, PS | VIEW_PLAIN, 0),
	[C_Q_TIME] = OWN("Quarantined (UTC)", "quarantined", VIEW_TIME, S, 0),
	[C_Q_SOURCE] = TXT("Source", "source", S, 50),
	[C_Q_NAME] = TXT("Part", "name", DATA, 24),
	[C_Q_SIZE] = OWN("Size (bytes)", "size", VIEW_COUNT, DATA, 0),
	[C_Q_REASON] = TXT("Reason", "reason", ALL, 72),
	[C_WORST_MX] = OWN("MX host", "mx_host", VIEW_ADDRESS, PS, 32),
	[C_WORST_FAILED] = {"Failed sessions", "failed_sessions", VIEW_COUNT,
			    PS, 0, " failed", SRC_FAILED},
	[C_WORST_TOP] = TXT("Top result type", "top_result_type", PS, 28),
	[C_FROM] = TIME("Window start (UTC)", "from"),
	[C_TO] = TIME("Window end (UTC, excluded)", "to"),
	[C_PREV_FROM] = TIME("Previous window start (UTC)", "from"),
	[C_PREV_TO] = TIME("Previous window end (UTC, excluded)", "to"),
	[C_HIST_FROM] = TIME("New compared with, start (UTC)", "from"),
	[C_HIST_TO] = TIME("New compared with, end (UTC, excluded)", "to"),
	[C_T_REPORTS] = NUM("Reports", "reports", DATA, SRC_REPORTS),
	[C_T_ORGS] = OWN("Organizations", "organizations", VIEW_COUNT, DATA, 0),
	[C_T_SUCCESSFUL] = NUM("Successful sessions", "successful_sessions",
			       DATA, SRC_SUCCESSFUL),
	[C_T_FAILED] = NUM("Failed sessions", "failed_sessions", DATA,
			   SRC_FAILED),
	[C_T_RATE] = PCT("Failure rate", "failure_rate", DATA, SRC_RATE),
	[C_T_QUARANTINED] = OWN("Quarantined messages", "quarantined",
				VIEW_COUNT, DATA, 0),
	[C_T_CHANGE] = CHG("Failure rate change (points)", "failure_rate_change",
			   DATA | VIEW_POINTS, SRC_RATE_CHANGE),
	[C_P_REPORTS] = NUM("Previous reports", "reports", DATA, SRC_REPORTS),
	[C_P_ORGS] = OWN("Previous organizations", "organizations", VIEW_COUNT,
			 DATA, 0),
	[C_P_SUCCESSFUL] = NUM("Previous successful sessions",
			       "successful_sessions", DATA, SRC_SUCCESSFUL),
	[C_P_FAILED] = NUM("Previous failed sessions", "failed_sessions", DATA,
			   SRC_FAILED),
	[C_P_RATE] = PCT("Previous failure rate", "failure_rate", DATA,
			 SRC_RATE),
	[C_F_DOMAIN] = TXT("Only policy domain", "domain", DATA, 0),
	[C_F_ORG] = TXT("Only organization", "organization", DATA, 0),
	[C_F_MX] = TXT("Only MX host", "mx_host", DATA, 0),
	/* the failure details as sent, in the order of mxdigest(1) */
	[C_D_ID] = TXT("Report ID", "report_id", DATA, 34),
	[C_D_ORG] = TXT("Organization", "organization", DATA, 26),
	[C_D_START] = OWN("Start (UTC)", "start", VIEW_TIME, DATA, 0),
	[C_D_END] = OWN("End (UTC)", "end", VIEW_TIME, DATA, 0),
	[C_D_DOMAIN] = TXT("Policy domain", "policy_domain", DATA, 24),
	[C_D_TYPE] = TXT("Policy type", "policy_type", DATA, 12),
	[C_D_IP] = TXT("Sending IP", "sending_ip", DATA, 22),
	[C_D_MX] = TXT("Receiving MX host", "receiving_mx_hostname", DATA, 26),
	[C_D_HELO] = TXT("Receiving MX HELO", "receiving_mx_helo", DATA, 22),
	[C_D_RIP] = TXT("Receiving IP", "receiving_ip", DATA, 22),
	[C_D_RESULT] = TXT("Result type", "result_type", DATA, 26),
	[C_D_COUNT] = OWN("Failed sessions", "failed_sessions", VIEW_COUNT, DATA,
			  10),
	[C_D_REASON] = TXT("Reason code", "failure_reason_code", DATA, 22),
	[C_D_INFO] = TXT("Additional information", "additional_information",
			 DATA, 40),
	[C_D_DKIM] = TXT("DKIM", "dkim", DATA, 10),
	[C_D_DKIM_DOMAIN] = TXT("Signing domain", "dkim_domain", DATA, 24),
	/* "18/18": verified of the reports, ", 1 conflict" */
	[C_DKIM_SHORT] = TXT("DKIM", NULL, P, 0),
	[C_DKIM_VERIFIED] = OWN("Reports verified (DKIM)", "dkim_verified",
				VIEW_COUNT, DATA, 0),
	[C_DKIM_UNVERIFIED] = OWN("Reports not verified", "dkim_unverified",
				  VIEW_COUNT, DATA, 0),
	[C_DKIM_IGNORED] = OWN("Reports ignored (dkim = require)",
			       "dkim_ignored", VIEW_COUNT, DATA, 0),
	[C_CONFLICTS] = OWN("Reports in conflict", "conflicts", VIEW_COUNT,
			    DATA, 0),
	[C_T_DKIM_POLICY] = TXT("DKIM policy", "dkim_policy", DATA, 0),
	[C_R_ORG] = TXT("Organization", "organization", ALL, 26),
	[C_R_ID] = TXT("Report ID", "report_id", DATA, 34),
	[C_R_DAY] = OWN("Day", NULL, VIEW_DAY, P, 0),
	[C_R_START] = OWN("Start (UTC)", "start", VIEW_TIME, DATA, 0),
	[C_R_END] = OWN("End (UTC)", "end", VIEW_TIME, DATA, 0),
	[C_R_DKIM] = TXT("DKIM", "dkim", ALL, 10),
	[C_R_DOMAIN] = TXT("Signing domain", "dkim_domain", DATA, 24),
	[C_R_DETAIL] = TXT("DKIM detail", "dkim_detail", ALL, 60),
	[C_R_COUNTED] = OWN("Counted", "counted", VIEW_FLAG, DATA, 0),
	[C_R_CONTENTS] = OWN("Contents stored", "contents", VIEW_COUNT, DATA, 0),
	[C_R_STATUS] = TXT("Status", NULL, P, 0),
	[C_K_DOMAIN] = TXT("Domain", "domain", ALL, 30),
	[C_K_CHECKED] = OWN("Checked (UTC)", "checked", VIEW_TIME, DATA, 0),
	[C_K_LEVEL] = TXT("Level", "level", ALL, 7),
	[C_K_CODE] = TXT("Code", "code", ALL, 26),
	[C_K_SUBJECT] = TXT("About", "subject", ALL, 32),
	[C_K_TEXT] = TXT("Finding", "text", DATA, 0),
	[C_K_DNSSEC] = TXT("DNSSEC", "dnssec", DATA, 9),
	[C_K_SINCE] = OWN("Since", "since", VIEW_DAY, ALL, 0),
	[C_K_CHANGE] = TXT("Change", "change", ALL, 8),
};

#undef NUM
#undef PCT
#undef CHG
#undef OWN
#undef TXT
#undef TIME
#undef ALL
#undef DATA
#undef P
#undef S
#undef PS

/* A table's shape: its columns, and how people see it. */
#define T_PEOPLE 0x1		/* in the text and HTML digests */
#define T_TOP 0x2		/* --top applies */
#define T_OTHERS 0x4		/* the rows left out are summed in a row */

struct spec {
	const char *title;
	const char *key;
	const unsigned char *ids;
	size_t n;
	unsigned flags;
	const char *empty;
};

static const unsigned char mx_ids[] = {C_MX, C_FAILED, C_FAILED_CHANGE,
	C_TOP_RESULT, C_ORGS, C_ORG_NAMES, C_PREV_FAILED, C_MX_RESULTS,
	C_MX_TOP_FAILED, C_MX_NEW};
static const unsigned char org_ids[] = {C_ORG, C_REPORTS, C_DKIM_SHORT,
	C_SESSIONS, C_DATA_SUCCESSFUL, C_FAILED, C_RATE, C_PREV_REPORTS,
	C_PREV_SUCCESSFUL, C_PREV_FAILED, C_PREV_RATE, C_ORG_NEW, C_ORG_DAILY,
	C_RATE_CHANGE, C_SPARK, C_DKIM_VERIFIED, C_DKIM_UNVERIFIED,
	C_DKIM_IGNORED, C_CONFLICTS};
static const unsigned char result_ids[] = {C_RESULT, C_FAILED,
	C_FAILED_CHANGE, C_SHARE, C_RESULT_REPORTS, C_PREV_FAILED};
static const unsigned char domain_ids[] = {C_DOMAIN, C_TYPES, C_SUCCESSFUL,
	C_FAILED, C_RATE, C_PREV_SUCCESSFUL, C_PREV_FAILED, C_RATE_CHANGE};
static const unsigned char ptype_ids[] = {C_PTYPE, C_REPORTS, C_SUCCESSFUL,
	C_FAILED, C_RATE, C_PREV_FAILED, C_FAILED_CHANGE};
static const unsigned char ip_ids[] = {C_IP, C_FAILED, C_FAILED_CHANGE,
	C_PREV_FAILED, C_TOP_RESULT, C_ORGS, C_ORG_NAMES};
static const unsigned char day_ids[] = {C_DAY, C_REPORTS, C_SUCCESSFUL,
	C_FAILED, C_RATE, C_BAR};
static const unsigned char new_ids[] = {C_MX, C_RESULT, C_FAILED};
static const unsigned char quarantine_ids[] = {C_Q_ID, C_Q_TIME, C_Q_SOURCE,
	C_Q_NAME, C_Q_SIZE, C_Q_REASON};
static const unsigned char policy_ids[] = {C_DOMAIN, C_PTYPE, C_REPORTS,
	C_SUCCESSFUL, C_FAILED};
static const unsigned char new_org_ids[] = {C_ORG, C_FAILED};
static const unsigned char silent_ids[] = {C_ORG, C_PREV_REPORTS, C_LAST_START};
static const unsigned char worst_ids[] = {C_WORST_MX, C_WORST_FAILED,
	C_WORST_TOP};
static const unsigned char detail_ids[] = {C_D_ID, C_D_ORG, C_D_START,
	C_D_END, C_D_DOMAIN, C_D_TYPE, C_D_IP, C_D_MX, C_D_HELO, C_D_RIP,
	C_D_RESULT, C_D_COUNT, C_D_REASON, C_D_INFO, C_D_DKIM, C_D_DKIM_DOMAIN};
static const unsigned char window_ids[] = {C_FROM, C_TO};
static const unsigned char totals_ids[] = {C_T_REPORTS, C_T_ORGS,
	C_T_SUCCESSFUL, C_T_FAILED, C_T_RATE, C_T_QUARANTINED, C_T_CHANGE,
	C_DKIM_VERIFIED, C_DKIM_UNVERIFIED, C_DKIM_IGNORED, C_CONFLICTS,
	C_T_DKIM_POLICY};
static const unsigned char report_ids[] = {C_R_ORG, C_R_ID, C_R_DAY,
	C_R_START, C_R_END, C_R_DKIM, C_R_DOMAIN, C_R_DETAIL, C_R_COUNTED, C_R_CONTENTS,
	C_R_STATUS};
static const unsigned char config_people_ids[] = {C_K_DOMAIN, C_K_LEVEL,
	C_K_CODE, C_K_SUBJECT, C_K_SINCE, C_K_CHANGE};
static const unsigned char config_ids[] = {C_K_DOMAIN, C_K_CHECKED,
	C_K_LEVEL, C_K_CODE, C_K_SUBJECT, C_K_TEXT, C_K_DNSSEC, C_K_SINCE,
	C_K_CHANGE};
static const unsigned char prev_window_ids[] = {C_PREV_FROM, C_PREV_TO};
static const unsigned char prev_totals_ids[] = {C_P_REPORTS, C_P_ORGS,
	C_P_SUCCESSFUL, C_P_FAILED, C_P_RATE};
static const unsigned char compared_ids[] = {C_HIST_FROM, C_HIST_TO};
static const unsigned char filter_ids[] = {C_F_DOMAIN, C_F_ORG, C_F_MX};
/* nested in rows, for JSON */
static const unsigned char mx_result_ids[] = {C_RESULT, C_FAILED, C_IS_NEW};
static const unsigned char org_day_ids[] = {C_DAY, C_FAILED};

#define IDS(a) a, NELEM(a)
#define LISTED (T_PEOPLE | T_TOP | T_OTHERS)

static const struct spec specs[VIEW_T_COUNT] = {
	[VIEW_T_MX] = {"Failures by MX host", "by_mx_host", IDS(mx_ids), LISTED,
		       "No failure details reported."},
	[VIEW_T_ORG] = {"By sending organization", "by_organization", IDS(org_ids),
			LISTED, "No reports in this window."},
	[VIEW_T_RESULT] = {"Failures by result type", "by_result_type",
			   IDS(result_ids), LISTED, "No failure details reported."},
	[VIEW_T_DOMAIN] = {"By policy domain and policy type", "by_policy_domain",
			   IDS(domain_ids), LISTED, "No policies reported."},
	[VIEW_T_PTYPE] = {"By policy type (as sent)", "by_policy_type",
			  IDS(ptype_ids), LISTED, NULL},
	[VIEW_T_IP] = {"Failures by sending IP", "by_sending_ip", IDS(ip_ids),
		       LISTED, NULL},
	[VIEW_T_DAILY] = {"Daily", "daily", IDS(day_ids), T_PEOPLE, NULL},
	[VIEW_T_NEW] = {"New this window", "mx_result_types", IDS(new_ids), T_TOP,
			NULL},
	[VIEW_T_CONFIG] = {"Configuration (mxdigest check): what to fix", NULL,
			   IDS(config_people_ids), T_PEOPLE, NULL},
	[VIEW_T_CONFIG_DATA] = {"Configuration", "configuration", IDS(config_ids),
				0, NULL},
	[VIEW_T_FLAGGED] = {"Reports ignored or in conflict", NULL,
			    IDS(report_ids), T_PEOPLE | T_TOP, NULL},
	[VIEW_T_REPORTS] = {"Reports", "reports", IDS(report_ids), 0, NULL},
	[VIEW_T_QUARANTINE] = {"Quarantine (mxdigest quarantine show ID)",
			       "quarantine", IDS(quarantine_ids),
			       T_PEOPLE | T_TOP, NULL},
	[VIEW_T_POLICY] = {"Per policy, as sent (an sts and a tlsa policy of one "
			   "domain describe the same sessions)", "by_policy",
			   IDS(policy_ids), 0, NULL},
	[VIEW_T_NEW_ORGS] = {"New failures by organization", "organizations",
			     IDS(new_org_ids), 0, NULL},
	[VIEW_T_SILENT] = {"Silent reporters (reported in the previous window "
			   "only)", "silent_reporters", IDS(silent_ids), 0, "none"},
	[VIEW_T_WORST] = {"Worst MX hosts", NULL, IDS(worst_ids), 0,
			  "none: no failure details reported"},
	[VIEW_T_DETAILS] = {"Failure details", NULL, IDS(detail_ids), 0, NULL},
	[VIEW_T_WINDOW] = {"Window", "window", IDS(window_ids), 0, NULL},
	[VIEW_T_TOTALS] = {"This window", "totals", IDS(totals_ids), 0, NULL},
	[VIEW_T_PREV_WINDOW] = {"Previous window", "previous_window",
				IDS(prev_window_ids), 0, NULL},
	[VIEW_T_PREV_TOTALS] = {"Previous window", "previous_totals",
				IDS(prev_totals_ids), 0, NULL},
	[VIEW_T_COMPARED] = {"New compared with", "compared_with",
			     IDS(compared_ids), 0, NULL},
	[VIEW_T_FILTERS] = {"Filters", "filters", IDS(filter_ids), 0, NULL},
};

static const struct spec mx_result_spec = {NULL, "result_types",
	IDS(mx_result_ids), 0, NULL};
static const struct spec org_day_spec = {NULL, "daily_failed_sessions",
	IDS(org_day_ids), 0, NULL};

/* A table being filled: --top and the sums of what it leaves out. */
struct build {
	struct view *v;
	struct view_table *t;
	const struct spec *spec;
	size_t listed;		/* rows so far, breakdowns not counted */
	struct nums rest;
};

static const char *
mx_label(const char *mx)
{
	return mx && *mx ? mx : "(not given)";
}

static void
set_text(struct view_cell *x, const char *s)
{
	x->v.s = s;
	x->null = !s;
	x->blank = 0;
}

static int
has_col(const struct view_table *t, enum col_id id)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i] == &cols[id])
			return 1;
	return 0;
}

static size_t
col_index(const struct view_table *t, enum col_id id)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i] == &cols[id])
			return i;
	abort();	/* the column lists above are wrong */
}

static int
at_has(const struct build *b, enum col_id id)
{
	return has_col(b->t, id);
}

/* The cell of column `id` in a row of b's table. */
static struct view_cell *
at(const struct build *b, struct view_cell *row, enum col_id id)
{
	return &row[col_index(b->t, id)];
}

static void
rate(struct view_cell *x, uint64_t ok, uint64_t bad)
{
	x->v.r = agg_fail_rate(ok, bad);
	x->null = !ok && !bad;
}

/* Count changes need a previous window with reports: against nothing, a
 * host's 17 failures are no rise. */
static void
count_change(const struct view *v, struct view_cell *x, uint64_t now,
	     uint64_t before)
{
	x->null = !v->d->prev.reports;
	x->v.r = x->null ? 0 : (double)now - (double)before;
	x->tone = x->v.r > 0 ? 1 : x->v.r < 0 ? -1 : 0;
}

/* A rate change needs sessions in both windows: the whole current rate is
 * no change when there was nothing before. */
static void
rate_change(struct view_cell *x, const struct nums *n)
{
	x->null = (!n->successful && !n->failed) ||
		  (!n->prev_successful && !n->prev_failed);
	x->v.r = x->null ? 0 : agg_fail_rate(n->successful, n->failed) -
			   agg_fail_rate(n->prev_successful, n->prev_failed);
	x->tone = fabs(x->v.r) < SAME_POINTS ? 0 : x->v.r > 0 ? 1 : -1;
}

static void
fill(const struct build *b, struct view_cell *c, const struct nums *n)
{
	size_t i;

	for (i = 0; i < b->t->ncols; i++) {
		struct view_cell *x = &c[i];

		switch ((enum src)b->t->cols[i]->src) {
		case SRC_OWN: break;
		case SRC_REPORTS: x->v.n = n->reports; break;
		case SRC_SESSIONS: x->v.n = n->successful + n->failed; break;
		case SRC_SUCCESSFUL: x->v.n = n->successful; break;
		case SRC_FAILED: x->v.n = n->failed; break;
		case SRC_RATE: rate(x, n->successful, n->failed); break;
		case SRC_PREV_REPORTS: x->v.n = n->prev_reports; break;
		case SRC_PREV_SUCCESSFUL: x->v.n = n->prev_successful; break;
		case SRC_PREV_FAILED: x->v.n = n->prev_failed; break;
		case SRC_PREV_RATE:
			rate(x, n->prev_successful, n->prev_failed);
			break;
		case SRC_SHARE:
			x->v.r = n->whole ? 100.0 * (double)n->failed /
					    (double)n->whole : 0.0;
			break;
		case SRC_FAILED_CHANGE:
			count_change(b->v, x, n->failed, n->prev_failed);
			break;
		case SRC_RATE_CHANGE: rate_change(x, n); break;
		}
	}
}

static void
begin(struct build *b, struct view *v, struct view_table *t,
      const struct spec *s)
{
	const struct view_col **c = arena_array(&v->arena, s->n, sizeof(*c));
	size_t i;

	for (i = 0; i < s->n; i++)
		c[i] = &cols[s->ids[i]];
	memset(b, 0, sizeof(*b));
	b->v = v;
	b->t = t;
	b->spec = s;
	t->title = s->title;
	t->key = s->key;
	t->cols = c;
	t->ncols = s->n;
	t->people = (s->flags & T_PEOPLE) != 0;
	t->empty = s->empty;
}

/* A new row with the cells that come from its numbers filled; a breakdown
 * (`part`) shows its numbers and the rest only where the builder sets it. */
static struct view_cell *
row_add(struct build *b, struct nums n, int part)
{
	struct view_table *t = b->t;
	struct view_row *r;
	size_t i;

	if (t->nrows == t->cap) {
		struct view_row *rows;

		t->cap = t->cap ? 2 * t->cap : 8;
		rows = arena_array(&b->v->arena, t->cap, sizeof(*rows));
		if (t->nrows)
			memcpy(rows, t->rows, t->nrows * sizeof(*rows));
		t->rows = rows;
	}
	r = &t->rows[t->nrows++];
	r->cells = arena_array(&b->v->arena, t->ncols, sizeof(*r->cells));
	r->part = part;
	fill(b, r->cells, &n);
	if (part)
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i]->src == SRC_OWN ||
			    t->cols[i]->type == VIEW_CHANGE)
				r->cells[i].blank = 1;
	if (!part && (b->spec->flags & T_TOP) && b->v->top &&
	    b->listed++ >= b->v->top) {
		t->more++;
		b->rest.reports += n.reports;
		b->rest.successful = count_add(b->rest.successful, n.successful);
		b->rest.failed = count_add(b->rest.failed, n.failed);
		b->rest.prev_reports += n.prev_reports;
		b->rest.prev_successful = count_add(b->rest.prev_successful,
						    n.prev_successful);
		b->rest.prev_failed = count_add(b->rest.prev_failed, n.prev_failed);
		b->rest.whole = n.whole;
	}
	if (!t->more)
		t->shown = t->nrows;
	return r->cells;
}

/* Adds a line under the table, after the others or (`first`) before. */
static void
note_at(struct view *v, struct view_table *t, const char *text, int first)
{
	const char **n = arena_array(&v->arena, t->nnotes + 1, sizeof(*n));

	if (t->nnotes)
		memcpy(n + (first != 0), t->notes, t->nnotes * sizeof(*n));
	n[first ? 0 : t->nnotes] = text;
	t->nnotes++;
	t->notes = n;
}

static void
note(struct view *v, struct view_table *t, const char *text)
{
	note_at(v, t, text, 0);
}

/* The "others" row: the sums of the rows left out, under a label; and the
 * line that says how many were.  Every table ends here. */
static void
finish(struct build *b)
{
	struct view_table *t = b->t;
	struct view_row *r;
	char num[32];
	size_t i;

	if (t->more)
		/* the wording is the foundation's; scripts and tests look for it */
		note_at(b->v, t, arena_printf(&b->v->arena, "... and %zu more "
					      "(use --top 0 to see all)", t->more), 1);
	if (!t->more || !(b->spec->flags & T_OTHERS))
		return;
	r = arena_alloc(&b->v->arena, sizeof(*r));
	r->cells = arena_array(&b->v->arena, t->ncols, sizeof(*r->cells));
	fill(b, r->cells, &b->rest);
	for (i = 1; i < t->ncols; i++)
		if (t->cols[i]->src == SRC_OWN || (t->cols[i]->flags & VIEW_NOSUM))
			r->cells[i].blank = 1;
	set_text(&r->cells[0], arena_printf(&b->v->arena, "(%s other%s)",
					     str_thousands(t->more, num),
					     t->more == 1 ? "" : "s"));
	t->others = r;
}

/* ---- the rows of each table ------------------------------------------- */

static void
set_names(struct view_cell *x, const char *const *v, size_t n)
{
	x->v.names.v = v;
	x->v.names.n = n;
}

/* The shared part of the MX host and sending IP rows. */
static struct view_cell *
failure_row(struct build *b, const char *where, uint64_t failed,
	    uint64_t prev_failed, const char *top, const char **orgs,
	    size_t n_orgs)
{
	struct view_cell *c = row_add(b, (struct nums){.failed = failed,
				      .prev_failed = prev_failed}, 0);

	set_text(&c[0], where);
	set_text(at(b, c, C_TOP_RESULT), top);
	at(b, c, C_ORGS)->v.n = n_orgs;
	set_names(at(b, c, C_ORG_NAMES), orgs, n_orgs);
	return c;
}

/* An MX host's result types (nested in JSON) and the new ones among
 * them (for the workbook). */
static void
mx_results(struct build *b, struct view_cell *c, const struct agg_mx *m)
{
	struct view *v = b->v;
	struct view_table *rt = arena_alloc(&v->arena, sizeof(*rt));
	const char **fresh = arena_array(&v->arena, m->n_results + 1,
					 sizeof(*fresh));
	struct view_cell *rc;
	struct build sub;
	size_t k, n = 0;

	begin(&sub, v, rt, &mx_result_spec);
	for (k = 0; k < m->n_results; k++) {
		rc = row_add(&sub, (struct nums){.failed = m->results[k].failed},
			     0);
		set_text(&rc[0], m->results[k].result_type);
		at(&sub, rc, C_IS_NEW)->v.n = m->results[k].is_new != 0;
		if (m->results[k].is_new)
			fresh[n++] = m->results[k].result_type;
	}
	at(b, c, C_MX_RESULTS)->v.rows = rt;
	set_names(at(b, c, C_MX_NEW), fresh, n);
}

static void
mx_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_mx *m;
	struct view_cell *c;

	for (m = d->mx; m < d->mx + d->n_mx; m++) {
		c = failure_row(b, m->mx, m->failed, m->prev_failed,
				m->top_result, m->orgs, m->n_orgs);
		at(b, c, C_MX_TOP_FAILED)->v.n = m->top_result_failed;
		mx_results(b, c, m);
	}
}

static void
ip_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_ip *p;

	for (p = d->ips; p < d->ips + d->n_ips; p++)
		failure_row(b, p->ip, p->failed, p->prev_failed, p->top_result,
			    p->orgs, p->n_orgs);
}

/* A sparkline of the organization's daily failures (U+2581..U+2588). */
static const char *
sparkline(struct view *v, const struct agg_org *o)
{
	uint64_t cells[SPARK_CELLS], max = 0;
	size_t k = agg_org_cells(v->d, o, cells, SPARK_CELLS), i;
	char *out = arena_alloc(&v->arena, 3 * SPARK_CELLS + 1);

	for (i = 0; i < k; i++)
		if (cells[i] > max)
			max = cells[i];
	for (i = 0; i < k; i++) {
		/* zero is the floor; any failure shows at least one step up */
		size_t level = cells[i] ? 1 + (size_t)((cells[i] * 6 + max - 1) /
						       max) : 0;

		memcpy(out + 3 * i, "\xe2\x96\x81", 3);
		out[3 * i + 2] = (char)(0x81 + (level > 7 ? 7 : level));
	}
	return out;
}

/* An organization's days with failures, nested in JSON. */
static const struct view_table *
org_days(struct view *v, const struct agg_org *o)
{
	struct view_table *t = arena_alloc(&v->arena, sizeof(*t));
	struct build sub;
	size_t k;

	begin(&sub, v, t, &org_day_spec);
	for (k = 0; k < o->n_daily; k++)
		row_add(&sub, (struct nums){.failed = o->daily[k].failed},
			0)[0].v.t = o->daily[k].day;
	return t;
}

/* The DKIM and conflict numbers of a row, and "3/4, 1 conflict" for
 * people: how many of the row's reports verified. */
static void
dkim_cells(struct build *b, struct view_cell *c, const struct agg_dkim *k)
{
	uint64_t all = k->verified + k->unverified;
	char x[32], y[32], z[32];

	at(b, c, C_DKIM_VERIFIED)->v.n = k->verified;
	at(b, c, C_DKIM_UNVERIFIED)->v.n = k->unverified;
	at(b, c, C_DKIM_IGNORED)->v.n = k->ignored;
	at(b, c, C_CONFLICTS)->v.n = k->conflicts;
	if (!at_has(b, C_DKIM_SHORT))
		return;
	set_text(at(b, c, C_DKIM_SHORT), arena_printf(&b->v->arena,
		"%s/%s%s%s%s", str_thousands(k->verified, x),
		str_thousands(all, y), k->conflicts ? ", " : "",
		k->conflicts ? str_thousands(k->conflicts, z) : "",
		k->conflicts ? (k->conflicts == 1 ? " conflict" : " conflicts")
		: ""));
	at(b, c, C_DKIM_SHORT)->tone = k->verified < all || k->conflicts;
}

static void
org_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_org *o;
	struct view_cell *c;

	for (o = d->orgs; o < d->orgs + d->n_orgs; o++) {
		c = row_add(b, (struct nums){.reports = o->reports,
			    .successful = o->successful, .failed = o->failed,
			    .prev_reports = o->prev_reports,
			    .prev_successful = o->prev_successful,
			    .prev_failed = o->prev_failed}, 0);
		set_text(&c[0], o->org);
		dkim_cells(b, c, &o->dkim);
		at(b, c, C_ORG_NEW)->v.n = o->new_failures != 0;
		at(b, c, C_ORG_DAILY)->v.rows = org_days(b->v, o);
		set_text(at(b, c, C_SPARK), sparkline(b->v, o));
		at(b, c, C_SPARK)->tone = o->failed != 0;
	}
}

static void
result_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_result *r;
	uint64_t all = 0;

	for (r = d->results; r < d->results + d->n_results; r++)
		all = count_add(all, r->failed);
	for (r = d->results; r < d->results + d->n_results; r++)
		set_text(row_add(b, (struct nums){.reports = r->reports,
				 .failed = r->failed, .whole = all,
				 .prev_failed = r->prev_failed}, 0),
			 r->result_type);
	if (d->n_results)
		note(b->v, b->t, b->v->caveat);
}

/* Domains, and under one that several policy types describe, each type's
 * numbers as sent (for people). */
static void
domain_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_domain *r;
	struct view_cell *c;
	size_t k, types;

	for (r = d->domains; r < d->domains + d->n_domains; r++) {
		c = row_add(b, (struct nums){.successful = r->successful,
			    .failed = r->failed,
			    .prev_successful = r->prev_successful,
			    .prev_failed = r->prev_failed}, 0);
		set_text(&c[0], r->domain);
		set_text(at(b, c, C_TYPES), r->types);
		for (k = types = 0; k < d->n_policies; k++)
			types += strcmp(d->policies[k].domain, r->domain) == 0;
		for (k = 0; k < d->n_policies && types > 1; k++) {
			const struct agg_policy *p = &d->policies[k];

			if (strcmp(p->domain, r->domain) != 0)
				continue;
			c = row_add(b, (struct nums){.successful = p->successful,
				    .failed = p->failed}, 1);
			set_text(at(b, c, C_TYPES), p->type);
		}
	}
}

static void
policy_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_policy *p;

	for (p = d->policies; p < d->policies + d->n_policies; p++) {
		struct view_cell *c = row_add(b, (struct nums){
			.reports = p->reports, .successful = p->successful,
			.failed = p->failed}, 0);

		set_text(&c[0], p->domain);
		set_text(at(b, c, C_PTYPE), p->type);
	}
}

static void
ptype_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_ptype *p;

	for (p = d->ptypes; p < d->ptypes + d->n_ptypes; p++)
		set_text(row_add(b, (struct nums){.reports = p->reports,
				 .successful = p->successful, .failed = p->failed,
				 .prev_failed = p->prev_failed}, 0), p->type);
	if (d->n_ptypes > 1)
		note(b->v, b->t, "An sts and a tlsa policy of one domain describe "
		     "the same sessions.");
}

static void
day_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_day *r;
	struct view_cell *c;
	uint64_t max = 0;
	size_t k, cells;
	char *bar;

	for (r = d->days; r < d->days + d->n_days; r++)
		if (r->failed > max)
			max = r->failed;
	for (r = d->days; r < d->days + d->n_days; r++) {
		cells = max ? (size_t)((r->failed * BAR_CELLS + max - 1) / max) : 0;
		bar = arena_alloc(&b->v->arena, 3 * cells + 1);
		for (k = 0; k < cells; k++)
			memcpy(bar + 3 * k, "\xe2\x96\x88", 3);	/* █ */
		c = row_add(b, (struct nums){.reports = r->reports,
			    .successful = r->successful, .failed = r->failed}, 0);
		c[0].v.t = r->day;
		set_text(at(b, c, C_BAR), bar);
		at(b, c, C_BAR)->tone = 1;
	}
	if (d->n_days > DAILY_TABLE_DAYS)
		b->t->message = arena_printf(&b->v->arena, "%zu days: the daily "
					     "series is in --format json, csv "
					     "--by day and xlsx.", d->n_days);
}

static void
quarantine_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_qitem *q;
	struct view_cell *c;

	for (q = d->quarantine; q < d->quarantine + d->n_quarantine; q++) {
		c = row_add(b, (struct nums){0}, 0);
		c[0].v.n = (uint64_t)q->id;
		at(b, c, C_Q_TIME)->v.t = q->created;
		set_text(at(b, c, C_Q_SOURCE), q->source);
		set_text(at(b, c, C_Q_NAME), q->name);
		at(b, c, C_Q_SIZE)->v.n = (uint64_t)q->size;
		set_text(at(b, c, C_Q_REASON), q->reason);
	}
}

/* people: the warnings, errors and resolved ones, each with its text in
 * a note; data: every finding */
static void
config_table(struct build *b, const struct agg_digest *d, int people)
{
	static const char *levels[] = {"ok", "warning", "error"};
	static const char *dnssec[] = {NULL, "secure", "insecure", "bogus"};
	static const char *changes[] = {[AGG_SAME] = "", [AGG_NEW] = "new",
		[AGG_RESOLVED] = "resolved", [AGG_FIRST] = NULL};
	const struct agg_check *k;
	const struct agg_check_item *it;
	struct view_cell *c;

	for (k = d->checks; k < d->checks + d->n_checks; k++) {
		for (it = k->items; it < k->items + k->n_items; it++) {
			if (people && it->level == 0 && it->change != AGG_RESOLVED)
				continue;
			if (people)
				note_at(b->v, b->t, arena_printf(&b->v->arena,
					"%s%s %s: %s", it->change == AGG_RESOLVED ?
					"resolved: " : "", k->domain, it->code,
					it->text), 0);
			c = row_add(b, (struct nums){0}, 0);
			set_text(&c[0], k->domain);
			if (at_has(b, C_K_CHECKED))
				at(b, c, C_K_CHECKED)->v.t = k->at;
			set_text(at(b, c, C_K_LEVEL), it->level >= 0 && it->level <= 2 ?
				 levels[it->level] : "?");
			at(b, c, C_K_LEVEL)->tone = it->change == AGG_RESOLVED ? -1 :
			    it->level > 0 ? 1 : 0;
			set_text(at(b, c, C_K_CODE), it->code);
			set_text(at(b, c, C_K_SUBJECT), it->subject);
			if (at_has(b, C_K_TEXT))
				set_text(at(b, c, C_K_TEXT), it->text);
			if (at_has(b, C_K_DNSSEC))
				set_text(at(b, c, C_K_DNSSEC), it->dnssec >= 0 &&
					 it->dnssec <= 3 ? dnssec[it->dnssec] : NULL);
			at(b, c, C_K_SINCE)->v.t = it->since - it->since % 86400;
			if (it->change == AGG_RESOLVED)
				at(b, c, C_K_SINCE)->null = 1;
			set_text(at(b, c, C_K_CHANGE), changes[it->change]);
		}
	}
}

static void
config_rows(struct build *b, const struct agg_digest *d)
{
	config_table(b, d, 1);
}

static void
config_data_rows(struct build *b, const struct agg_digest *d)
{
	config_table(b, d, 0);
}

static const char *
dkim_name(int r)
{
	return r < 0 ? NULL : dkimv_result_name((enum dkimv_result)r);
}

static void
report_row(struct build *b, const struct agg_report *r)
{
	struct view_cell *c = row_add(b, (struct nums){0}, 0);
	const char *status;

	set_text(&c[0], r->org);
	set_text(at(b, c, C_R_ID), r->report_id);
	at(b, c, C_R_DAY)->v.t = r->start;
	at(b, c, C_R_START)->v.t = r->start;
	at(b, c, C_R_END)->v.t = r->end;
	set_text(at(b, c, C_R_DKIM), dkim_name(r->dkim));
	if (r->dkim < 0)
		set_text(at(b, c, C_R_DETAIL), "no verdict taken (mxdigest "
			 "reverify)");
	else
		set_text(at(b, c, C_R_DETAIL), r->dkim_detail);
	set_text(at(b, c, C_R_DOMAIN), r->dkim_domain);
	at(b, c, C_R_COUNTED)->v.n = !r->ignored;
	at(b, c, C_R_CONTENTS)->v.n = r->contents;
	if (r->ignored && r->contents > 1)
		status = "ignored, conflict";
	else if (r->ignored)
		status = "ignored";
	else
		status = "conflict";
	set_text(at(b, c, C_R_STATUS), status);
	at(b, c, C_R_STATUS)->tone = 1;
}

static void
report_rows(struct build *b, const struct agg_digest *d)
{
	size_t i;

	for (i = 0; i < d->n_reports; i++)
		report_row(b, &d->reports[i]);
}

/* For people: the reports that are not counted, or came in two contents. */
static void
flagged_rows(struct build *b, const struct agg_digest *d)
{
	size_t i;

	for (i = 0; i < d->n_reports; i++)
		if (d->reports[i].ignored || d->reports[i].contents > 1)
			report_row(b, &d->reports[i]);
	if (b->t->nrows && d->dkim_require)
		note(b->v, b->t, "dkim = require: a report counts only when a "
		     "DKIM signature of its sender verified (RFC 8460 section 3).");
}

/* New MX host + result type pairs and new organizations. */
static void
new_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_new_pair *p;

	for (p = d->new_pairs; p < d->new_pairs + d->n_new_pairs; p++) {
		struct view_cell *c = row_add(b, (struct nums){.failed =
					      p->failed}, 0);

		set_text(&c[0], p->mx);
		set_text(at(b, c, C_RESULT), p->result_type);
	}
}

static void
new_org_rows(struct build *b, const struct agg_digest *d)
{
	size_t i;

	for (i = 0; i < d->n_new_orgs; i++)
		set_text(row_add(b, (struct nums){.failed = d->new_orgs[i].failed},
				 0), d->new_orgs[i].org);
}

static void
silent_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_silent *s;
	struct view_cell *c;

	for (s = d->silent; s < d->silent + d->n_silent; s++) {
		c = row_add(b, (struct nums){.prev_reports = s->prev_reports}, 0);
		set_text(&c[0], s->org);
		at(b, c, C_LAST_START)->v.t = s->last_start;
	}
}

/* The summary's worst MX hosts: the first of the table, if they failed. */
static void
worst_rows(struct build *b, const struct agg_digest *d)
{
	struct view_cell *c;
	size_t i;

	for (i = 0; i < d->n_mx && i < SUMMARY_ITEMS && d->mx[i].failed; i++) {
		c = row_add(b, (struct nums){.failed = d->mx[i].failed}, 0);
		set_text(&c[0], d->mx[i].mx);
		set_text(at(b, c, C_WORST_TOP), d->mx[i].top_result);
	}
}

static void
window_row(struct build *b, int64_t from, int64_t to)
{
	struct view_cell *c = row_add(b, (struct nums){0}, 0);

	c[0].v.t = from;
	c[1].v.t = to;
}

static void
window_rows(struct build *b, const struct agg_digest *d)
{
	window_row(b, d->from, d->to);
}

static void
prev_window_rows(struct build *b, const struct agg_digest *d)
{
	window_row(b, d->prev_from, d->prev_to);
}

static void
compared_rows(struct build *b, const struct agg_digest *d)
{
	window_row(b, d->hist_from, d->from);
}

static void
totals_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_totals *t = &d->totals, *p = &d->prev;
	struct view_cell *c = row_add(b, (struct nums){.reports = t->reports,
		.successful = t->successful, .failed = t->failed,
		.prev_reports = p->reports, .prev_successful = p->successful,
		.prev_failed = p->failed}, 0);

	at(b, c, C_T_ORGS)->v.n = t->organizations;
	at(b, c, C_T_QUARANTINED)->v.n = (uint64_t)t->quarantined;
	dkim_cells(b, c, &t->dkim);
	set_text(at(b, c, C_T_DKIM_POLICY), d->dkim_require ? "require"
					   : d->dkim_off ? "off" : "report");
}

static void
prev_totals_rows(struct build *b, const struct agg_digest *d)
{
	const struct agg_totals *p = &d->prev;
	struct view_cell *c = row_add(b, (struct nums){.reports = p->reports,
		.successful = p->successful, .failed = p->failed}, 0);

	at(b, c, C_P_ORGS)->v.n = p->organizations;
}

static void
filter_rows(struct build *b, const struct agg_digest *d)
{
	struct view_cell *c = row_add(b, (struct nums){0}, 0);

	set_text(&c[0], d->f_domain);
	set_text(&c[1], d->f_org);
	set_text(&c[2], d->f_mx);
}

/* Every table's rows; begin() and finish() around each apply --top. */
static void (*const rows_of[VIEW_T_COUNT])(struct build *,
					   const struct agg_digest *) = {
	[VIEW_T_MX] = mx_rows, [VIEW_T_ORG] = org_rows,
	[VIEW_T_RESULT] = result_rows, [VIEW_T_DOMAIN] = domain_rows,
	[VIEW_T_PTYPE] = ptype_rows, [VIEW_T_IP] = ip_rows,
	[VIEW_T_DAILY] = day_rows, [VIEW_T_NEW] = new_rows,
	[VIEW_T_QUARANTINE] = quarantine_rows, [VIEW_T_POLICY] = policy_rows,
	[VIEW_T_FLAGGED] = flagged_rows, [VIEW_T_REPORTS] = report_rows,
	[VIEW_T_CONFIG] = config_rows, [VIEW_T_CONFIG_DATA] = config_data_rows,
	[VIEW_T_NEW_ORGS] = new_org_rows, [VIEW_T_SILENT] = silent_rows,
	[VIEW_T_WORST] = worst_rows, [VIEW_T_WINDOW] = window_rows,
	[VIEW_T_TOTALS] = totals_rows, [VIEW_T_PREV_WINDOW] = prev_window_rows,
	[VIEW_T_PREV_TOTALS] = prev_totals_rows,
	[VIEW_T_COMPARED] = compared_rows, [VIEW_T_FILTERS] = filter_rows,
};

/* ---- the summary ------------------------------------------------------- */

static void
window_label(int64_t from, int64_t to, char *out, size_t n)
{
	char a[32], b[32];

	if (from % DAY_SECS == 0 && to % DAY_SECS == 0 && to > from) {
		int64_t days = (to - from) / DAY_SECS;

		time_format_date(from, a);
		time_format_date(to - DAY_SECS, b);
		if (days == 1)
			snprintf(out, n, "%s (1 day, UTC)", a);
		else
			snprintf(out, n, "%s to %s (%lld days, UTC)", a, b,
				 (long long)days);
		return;
	}
	time_format_iso(from, a);
	time_format_iso(to, b);
	snprintf(out, n, "%s to %s (end excluded)", a, b);
}

/* "7 days", "12 hours" or "window": a window's length, for "previous …". */
static void
span_label(int64_t from, int64_t to, char *out, size_t n)
{
	int64_t len = to - from;

	if (len > 0 && len % DAY_SECS == 0)
		snprintf(out, n, "%lld day%s", (long long)(len / DAY_SECS),
			 len == DAY_SECS ? "" : "s");
	else if (len > 0 && len % 3600 == 0)
		snprintf(out, n, "%lld hour%s", (long long)(len / 3600),
			 len == 3600 ? "" : "s");
	else
		snprintf(out, n, "window");
}

static void
line(struct view *v, const char *label, const char *text, int tone)
{
	struct view_line *l;

	if (v->nlines == v->lcap)
		abort();	/* view_build() counted the lines wrong */
	l = &v->lines[v->nlines++];
	l->label = label;
	l->text = text;
	l->tone = tone;
}

/* The people's words for a cell of a one-row table, kept in the arena. */
static const char *
words(struct view *v, enum view_id id, enum col_id col)
{
	const struct view_table *t = &v->tables[id];
	size_t i = col_index(t, col);
	struct buf b;
	const char *s;

	buf_init(&b, BUF_NOCAP);
	s = arena_strdup(&v->arena, view_cell_text(t->cols[i],
						   &t->rows[0].cells[i], &b));
	buf_release(&b);
	return s;
}

/*
 * "a, b, c and 4 more": as many names as fit a summary line of the text
 * digest, then how many were left out.  Returns 1 when some were.
 */
static int
fit_names(struct view *v, const char *label, const char *prefix,
	  const struct view_table *t, int tone)
{
	size_t room = REPORT_TEXT_WIDTH - REPORT_LABEL_COLS, n = t->nrows, k, i;
	struct buf b;

	buf_init(&b, BUF_NOCAP);
	for (k = n; k >= 1; k--) {
		buf_reset(&b);
		buf_adds(&b, prefix);
		for (i = 0; i < k; i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
				   t->rows[i].cells[0].v.s);
		if (k < n)
			buf_printf(&b, " and %zu more", n - k);
		if (utf8_width(buf_cstr(&b)) <= room || k == 1)
			break;
	}
	line(v, label, arena_strdup(&v->arena, buf_cstr(&b)), tone);
	buf_release(&b);
	return k < n;
}

static void
summary_volume(struct view *v, const struct agg_digest *d, const char *span)
{
	const struct agg_totals *t = &d->totals, *p = &d->prev;
	const struct view_table *tt = &v->tables[VIEW_T_TOTALS];
	const struct view_cell *chg = &tt->rows[0].cells[col_index(tt, C_T_CHANGE)];
	const char *pct = words(v, VIEW_T_TOTALS, C_T_RATE);
	char a[32], b[32], c[32], e[32];

	line(v, "Reports", arena_printf(&v->arena, "%s from %s organization%s "
					"(previous %s: %s from %s)",
					str_thousands(t->reports, a),
					str_thousands(t->organizations, b),
					t->organizations == 1 ? "" : "s", span,
					str_thousands(p->reports, c),
					str_thousands(p->organizations, e)), 0);
	line(v, "Sessions", arena_printf(&v->arena, "%s: %s successful, %s failed",
					 str_thousands(t->successful + t->failed, a),
					 str_thousands(t->successful, b),
					 str_thousands(t->failed, c)), t->failed != 0);
	if (!t->successful && !t->failed)
		line(v, "Failure rate", "- (no sessions)", 0);
	else if (chg->null)
		line(v, "Failure rate", arena_printf(&v->arena, "%s (no sessions "
			"in the previous %s)", pct, span), 0);
	else if (!chg->tone)
		line(v, "Failure rate", arena_printf(&v->arena, "%s, unchanged "
			"from the previous %s", pct, span), 0);
	else
		line(v, "Failure rate", arena_printf(&v->arena, "%s  %s points "
			"(previous %s: %s)", pct, words(v, VIEW_T_TOTALS, C_T_CHANGE),
			span, words(v, VIEW_T_PREV_TOTALS, C_P_RATE)), chg->tone);
}

static void
summary_worst(struct view *v)
{
	const struct view_table *t = &v->tables[VIEW_T_WORST];

	if (!t->nrows) {
		line(v, "Worst MX", t->empty, 0);
		return;
	}
	line(v, "Worst MX", NULL, 0);
	v->lines[v->nlines - 1].table = t;
}

/* The new pairs (SUMMARY_ITEMS at most) and organizations; the table "New
 * this window" is for people only when this leaves something out. */
static void
summary_new(struct view *v, const struct agg_digest *d)
{
	struct view_table *t = &v->tables[VIEW_T_NEW];
	size_t i, shown = 0, total = d->n_new_pairs + (d->n_new_orgs ? 1 : 0);
	char num[32], span[32];
	int cut = 0;

	span_label(d->hist_from, d->from, span, sizeof(span));
	if (!d->has_history)
		t->empty = "- (no earlier reports to compare with)";
	else if (!d->n_new_pairs && !d->n_new_orgs)
		t->empty = arena_printf(&v->arena, "nothing: every failure was "
					"seen in the %s before", span);
	if (t->empty) {
		line(v, "New", t->empty, 0);
		return;
	}
	for (i = 0; i < d->n_new_pairs && shown < SUMMARY_ITEMS; i++, shown++)
		line(v, shown ? "" : "New", arena_printf(&v->arena, "%s on %s (%s "
			"failed)", d->new_pairs[i].result_type,
			mx_label(d->new_pairs[i].mx),
			str_thousands(d->new_pairs[i].failed, num)), 1);
	if (d->n_new_orgs) {
		cut = fit_names(v, shown ? "" : "New", "failures from ",
				&v->tables[VIEW_T_NEW_ORGS], 1);
		shown++;
	}
	if (shown < total)
		line(v, "", arena_printf(&v->arena, "... and %zu more (see \"New "
					 "this window\" below)", total - shown), 0);
	t->people = shown < total || cut;
	if (t->people && d->n_new_orgs) {
		struct buf b;

		buf_init(&b, BUF_NOCAP);
		for (i = 0; i < d->n_new_orgs; i++)
			buf_printf(&b, "%s%s", i ? ", " : "New failures from: ",
				   d->new_orgs[i].org);
		note(v, t, arena_strdup(&v->arena, buf_cstr(&b)));
		buf_release(&b);
	}
}

/* A line when reports are unverified or ignored, and one when some are
 * in conflict. */
static void
summary_dkim(struct view *v, const struct agg_digest *d)
{
	const struct agg_dkim *k = &d->totals.dkim;
	uint64_t all = k->verified + k->unverified;
	char a[32], b[32];

	if (k->ignored)
		line(v, "DKIM", arena_printf(&v->arena, "%s of %s report%s ignored: "
					     "no valid signature (dkim = require)",
					     str_thousands(k->ignored, a),
					     str_thousands(all, b),
					     all == 1 ? "" : "s"), 1);
	else if (k->unverified && !d->dkim_off)
		line(v, "DKIM", arena_printf(&v->arena, "%s of %s report%s without "
					     "a valid signature (counted)",
					     str_thousands(k->unverified, a),
					     str_thousands(all, b),
					     all == 1 ? "" : "s"), 1);
	if (k->conflicts)
		line(v, "Conflicts", arena_printf(&v->arena, "%s report%s came in "
						  "two contents: one counts (see "
						  "below)",
						  str_thousands(k->conflicts, a),
						  k->conflicts == 1 ? "" : "s"), 1);
}

/* "Configuration  3 domains checked: 2 errors, 4 warnings (1 new, 1
 * resolved); errors in example.com, example.net": the numbers first, so
 * that a line cut to the screen keeps them. */
static void
summary_config(struct view *v, const struct agg_digest *d)
{
	struct buf b;
	size_t i, j, errors = 0, warnings = 0, fresh = 0, gone = 0, bad = 0;
	int incomplete = 0;

	if (!d->n_checks)
		return;
	for (i = 0; i < d->n_checks; i++) {
		const struct agg_check *k = &d->checks[i];

		errors += k->errors;
		warnings += k->warnings;
		bad += k->errors > 0;
		incomplete |= k->incomplete;
		for (j = 0; j < k->n_items; j++) {
			fresh += k->items[j].change == AGG_NEW && k->items[j].level > 0;
			gone += k->items[j].change == AGG_RESOLVED;
		}
	}
	buf_init(&b, 4096);
	buf_printf(&b, "%zu domain%s checked: ", d->n_checks,
		   d->n_checks == 1 ? "" : "s");
	if (!errors && !warnings)
		buf_adds(&b, "all ok");
	else
		buf_printf(&b, "%zu error%s, %zu warning%s", errors,
			   errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	if (fresh || gone)
		buf_printf(&b, " (%zu new, %zu resolved)", fresh, gone);
	if (incomplete)
		buf_adds(&b, ", not every check completed");
	for (i = 0, j = 0; i < d->n_checks; i++)
		if (d->checks[i].errors)
			buf_printf(&b, "%s%s", j++ ? ", " : "; errors in ",
				   d->checks[i].domain);
	line(v, "Configuration", arena_strdup(&v->arena, buf_cstr(&b)), bad > 0);
	buf_release(&b);
}

static void
summary(struct view *v, const struct agg_digest *d)
{
	char span[32], num[32];
	size_t i;

	span_label(d->from, d->to, span, sizeof(span));
	summary_volume(v, d, span);
	summary_worst(v);
	summary_new(v, d);
	if (d->n_silent)
		fit_names(v, "Silent", "", &v->tables[VIEW_T_SILENT], 1);
	else if (d->prev.organizations)
		line(v, "Silent", arena_printf(&v->arena, "none: every organization "
					       "of the previous %s reported again",
					       span), 0);
	else
		line(v, "Silent", "none", 0);
	if (d->totals.quarantined)
		line(v, "Quarantined", arena_printf(&v->arena, "%s message%s could "
			"not be read (mxdigest quarantine list)",
			str_thousands((uint64_t)d->totals.quarantined, num),
			d->totals.quarantined == 1 ? "" : "s"), 1);
	else
		line(v, "Quarantined", "none", 0);
	summary_dkim(v, d);
	summary_config(v, d);
	for (i = 0; i < d->n_alerts; i++)
		line(v, i ? "" : "Alert", d->alerts[i], 1);
}

/* What people read of each table: a message in place of no rows, and no
 * table at all when there is nothing to say. */
static void
settle(struct view *v)
{
	size_t i;

	for (i = 0; i < VIEW_T_COUNT; i++) {
		struct view_table *t = &v->tables[i];

		if (!t->people || t->nrows)
			continue;
		if (!t->message)
			t->message = t->empty;
		t->people = t->message || t->nnotes;
	}
}

void
view_build(struct view *v, const struct agg_digest *d,
	   const struct report_opts *o)
{
	struct build b;
	char win[96];
	size_t i;

	memset(v, 0, sizeof(*v));
	arena_init(&v->arena);
	v->d = d;
	v->top = o->top;
	v->generated = o->generated;
	v->history = d->has_history;
	v->alerts = d->alerts;
	v->nalerts = d->n_alerts;
	v->caveat = "Failure details may overlap or be missing: their sum need "
		    "not match the failed sessions of the summaries.";
	for (i = 0; i < VIEW_T_COUNT; i++) {
		begin(&b, v, &v->tables[i], &specs[i]);
		if (rows_of[i])
			rows_of[i](&b, d);
		finish(&b);
	}
	window_label(d->from, d->to, win, sizeof(win));
	v->title = "TLS-RPT digest";
	v->window = arena_strdup(&v->arena, win);
	if (d->f_domain || d->f_org || d->f_mx)
		v->only = arena_printf(&v->arena, "Only%s%s%s%s%s%s",
				       d->f_domain ? " policy domain " : "",
				       d->f_domain ? d->f_domain : "",
				       d->f_org ? " organization " : "",
				       d->f_org ? d->f_org : "",
				       d->f_mx ? " MX host " : "",
				       d->f_mx ? d->f_mx : "");
	v->subject = arena_printf(&v->arena, "%sTLS-RPT digest %s%s%s: %s failed "
				  "sessions (%s)", d->n_alerts ? "[ALERT] " : "",
				  d->f_domain ? d->f_domain : "",
				  d->f_domain ? " " : "", win,
				  words(v, VIEW_T_TOTALS, C_T_FAILED),
				  words(v, VIEW_T_TOTALS, C_T_RATE));
	/* volume, worst MX, new (the pairs shown, the organizations and
	 * "more"), silent, quarantine, DKIM and conflicts, alerts */
	v->lcap = 3 + 1 + (SUMMARY_ITEMS + 2) + 1 + 1 + 2 + 1 + d->n_alerts;
	v->lines = arena_array(&v->arena, v->lcap, sizeof(*v->lines));
	summary(v, d);
	settle(v);
}

void
view_release(struct view *v)
{
	if (v) {
		arena_release(&v->arena);
		memset(v, 0, sizeof(*v));
	}
}

const char *
view_cell_text(const struct view_col *c, const struct view_cell *x,
	       struct buf *b)
{
	char n[32];
	size_t i;

	buf_reset(b);
	if (x->blank)
		return "";
	switch (c->type) {
	case VIEW_TEXT:
		return x->v.s ? x->v.s : "";
	case VIEW_ADDRESS:
		return mx_label(x->v.s);
	case VIEW_COUNT:
		if (c->flags & VIEW_PLAIN)
			buf_printf(b, "%llu", (unsigned long long)x->v.n);
		else
			buf_adds(b, str_thousands(x->v.n, n));
		if (c->unit)
			buf_adds(b, c->unit);
		break;
	case VIEW_RATE:
		if (x->null)
			return "-";
		buf_printf(b, "%.1f%%", x->v.r);
		break;
	case VIEW_CHANGE:
		if (x->null)
			return "-";
		if (!x->tone)
			return "=";
		/* ▲ and ▼ */
		buf_adds(b, x->tone > 0 ? "\xe2\x96\xb2 " : "\xe2\x96\xbc ");
		if (c->flags & VIEW_POINTS)
			buf_printf(b, "%.1f", fabs(x->v.r));
		else
			buf_adds(b, str_thousands((uint64_t)fabs(x->v.r), n));
		break;
	case VIEW_DAY:
		time_format_date(x->v.t, n);
		buf_adds(b, n);
		break;
	case VIEW_TIME:
		time_format_iso(x->v.t, n);
		buf_adds(b, n);
		break;
	case VIEW_FLAG:
		return x->v.n ? "yes" : "no";
	case VIEW_NAMES:
		/* "; ": organization names hold commas */
		for (i = 0; i < x->v.names.n; i++)
			buf_printf(b, "%s%s", i ? "; " : "", x->v.names.v[i]);
		break;
	case VIEW_ROWS:
		break;
	}
	return buf_cstr(b);
}

const char *
view_cell_value(const struct view_col *c, const struct view_cell *x,
		struct buf *b)
{
	buf_reset(b);
	switch (c->type) {
	case VIEW_TEXT:
	case VIEW_ADDRESS:
		return x->v.s ? x->v.s : "";
	case VIEW_COUNT:
		buf_printf(b, "%llu", (unsigned long long)x->v.n);
		break;
	case VIEW_RATE:
		buf_printf(b, "%.4f", x->v.r);
		break;
	case VIEW_CHANGE:
		if (!x->null)
			buf_printf(b, c->flags & VIEW_POINTS ? "%.4f" : "%.0f",
				   x->v.r);
		break;
	case VIEW_FLAG:
		return x->v.n ? "true" : "false";
	default:
		return view_cell_text(c, x, b);
	}
	return buf_cstr(b);
}

int
view_numeric(const struct view_col *c)
{
	return c->type == VIEW_COUNT || c->type == VIEW_RATE ||
	       c->type == VIEW_CHANGE;
}

struct detail_ctx {
	const struct view *v;
	view_detail_fn fn;
	void *ctx;
};

/* The details' columns are C_D_ID .. C_D_DKIM_DOMAIN, in that order. */
#define D(id) c[(id) - C_D_ID]

static int
on_detail(const struct store_detail_row *r, void *ctx)
{
	struct detail_ctx *x = ctx;
	struct view_cell c[NELEM(detail_ids)];

	memset(c, 0, sizeof(c));
	set_text(&D(C_D_ID), r->report_id);
	set_text(&D(C_D_ORG), r->org);
	D(C_D_START).v.t = r->start;
	D(C_D_END).v.t = r->end;
	set_text(&D(C_D_DOMAIN), r->domain);
	set_text(&D(C_D_TYPE), r->policy_type);
	set_text(&D(C_D_IP), r->sending_ip);
	set_text(&D(C_D_MX), r->receiving_mx);
	set_text(&D(C_D_HELO), r->receiving_helo);
	set_text(&D(C_D_RIP), r->receiving_ip);
	set_text(&D(C_D_RESULT), r->result_type);
	D(C_D_COUNT).v.n = r->count;
	set_text(&D(C_D_REASON), r->reason_code);
	set_text(&D(C_D_INFO), r->additional_info);
	set_text(&D(C_D_DKIM), dkim_name(r->dkim));
	set_text(&D(C_D_DKIM_DOMAIN), r->dkim_domain);
	return x->fn(c, x->ctx);
}

int
view_details(const struct view *v, view_detail_fn fn, void *ctx,
	     struct mxd_err *err)
{
	struct detail_ctx x = {v, fn, ctx};

	return agg_digest_details(v->d, on_detail, &x, err);
}

int
view_details_count(const struct view *v, uint64_t *n, struct mxd_err *err)
{
	return agg_digest_details_count(v->d, n, err);
}

/*
 * progress.h — a progress line on a terminal (count, bytes, rate, ETA),
 * redrawn at most five times a second; silent when stderr is not a TTY.
 */
#ifndef MXD_CLI_PROGRESS_H
#define MXD_CLI_PROGRESS_H

#include <stdint.h>

struct progress {
	int on;
	const char *what;
	const char *unit;	/* what is counted: "messages" unless set */
	double start, last;
	uint64_t total;		/* 0 when unknown */
	int drawn;
};

void progress_init(struct progress *p, const char *what, int enabled);
void progress_set_total(struct progress *p, uint64_t total);
void progress_update(struct progress *p, uint64_t done, uint64_t bytes);
void progress_clear(struct progress *p);
double progress_now(void);

#endif

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "sim_harness.h"

#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef SIM_BIN
#error "SIM_BIN must be defined by the build"
#endif

static char line[1024];

static const char *read_line(struct simproc *sp)
{
	if (!fgets(line, sizeof(line), sp->from_sim))
		fail_msg("simulator closed its output");
	line[strcspn(line, "\n")] = '\0';
	return line;
}

void sim_start(struct simproc *sp, const char *const *args)
{
	sim_start_named(sp, "ttyJK", args);
}

void sim_start_named(struct simproc *sp, const char *name, const char *const *args)
{
	int in[2], out[2];
	const char *argv[32];
	int n = 0;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->dir, sizeof(sp->dir), "%s/jktest-XXXXXX", g_get_tmp_dir());
	assert_non_null(mkdtemp(sp->dir));
	snprintf(sp->link, sizeof(sp->link), "%s/%s", sp->dir, name);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	argv[n++] = SIM_BIN;
	argv[n++] = "--link";
	argv[n++] = sp->link;
	argv[n++] = "--exit-on-eof";
	for (int i = 0; args && args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	sp->pid = fork();
	assert_true(sp->pid >= 0);
	if (sp->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execv(SIM_BIN, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	sp->to_sim = in[1];
	sp->from_sim = fdopen(out[0], "r");
	assert_non_null(sp->from_sim);
	const char *l = read_line(sp);

	if (strncmp(l, "pty ", 4) != 0)
		fail_msg("simulator said '%s'", l);
}

const char *sim_cmd(struct simproc *sp, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n] = '\n';
	assert_int_equal(write(sp->to_sim, buf, (size_t)n + 1), n + 1);
	for (;;) {
		const char *l = read_line(sp);

		if (strncmp(l, "pty ", 4) == 0)
			continue;
		if (strncmp(l, "error", 5) == 0)
			fail_msg("simulator refused '%.*s': %s", n, buf, l);
		return l;
	}
}

double sim_status(struct simproc *sp, const char *key)
{
	const char *l = sim_cmd(sp, "status");
	char pat[64];

	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(l, pat);

	if (!p)
		fail_msg("no %s in '%s'", key, l);
	return atof(p + strlen(pat));
}

void sim_stop(struct simproc *sp)
{
	int status;

	if (sp->pid <= 0)
		return;
	close(sp->to_sim); /* --exit-on-eof */
	for (int i = 0; i < 200; i++) {
		if (waitpid(sp->pid, &status, WNOHANG) == sp->pid) {
			sp->pid = 0;
			break;
		}
		usleep(10000);
	}
	if (sp->pid > 0) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, &status, 0);
	}
	fclose(sp->from_sim);
	unlink(sp->link);
	rmdir(sp->dir);
	sp->pid = 0;
}

static gboolean wake(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

bool run_until(bool (*cond)(void *ud), void *ud, unsigned timeout_ms)
{
	bool expired = false;
	guint id = g_timeout_add(timeout_ms, wake, &expired);

	while (!cond(ud) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
	return cond(ud);
}

static bool never(void *ud)
{
	(void)ud;
	return false;
}

void run_for(unsigned ms)
{
	run_until(never, NULL, ms);
}

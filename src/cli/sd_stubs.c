/* SPDX-License-Identifier: MIT */
/*
 * Static builds only. Debian ships no libsystemd.a; the static libdbus-1
 * refers to these two for server-side socket activation, which a D-Bus
 * client never reaches (README.md "Building the GX binary"). "No sockets
 * passed."
 */
int sd_listen_fds(int unset_environment);
int sd_is_socket(int fd, int family, int type, int listening);

int sd_listen_fds(int unset_environment)
{
	(void)unset_environment;
	return 0;
}

int sd_is_socket(int fd, int family, int type, int listening)
{
	(void)fd, (void)family, (void)type, (void)listening;
	return 0;
}

/* ssrf — which addresses a URL import may connect to. Pure.
 *
 * A server that fetches URLs for its users must not become their way into the machine's
 * own network: loopback, private ranges (RFC 1918, ULA), link-local (cloud metadata at
 * 169.254.169.254 and fd00:ec2::254), CGNAT, multicast, reserved and documentation ranges
 * are refused, including IPv4 inside IPv6 (mapped, compatible, NAT64). */
#ifndef RECITE_NET_SSRF_H
#define RECITE_NET_SSRF_H
#include <stdbool.h>
#include <sys/socket.h>

/* True if a fetch may connect to this address (AF_INET or AF_INET6; others: false). */
bool ssrf_addr_is_public(const struct sockaddr *sa);
/* The same for a numeric address in text ("10.0.0.1", "::1"); false if not numeric. */
bool ssrf_text_is_public(const char *addr);
#endif

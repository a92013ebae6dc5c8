/* test_net — the URL import's pure parts: the SSRF address policy (every blocked range,
 * IPv4 inside IPv6, public addresses allowed) and charset detection and conversion. */
#include "check.h"
#include "doc/charset.h"
#include "net/ssrf.h"
#include <stdlib.h>
#include <string.h>

static void test_ssrf(void)
{
    static const char *const blocked[] = {
        "127.0.0.1", "127.255.0.9", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.1",
        "192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "0.0.0.0", "0.1.2.3",
        "192.0.2.5", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.1.1",
        "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "64:ff9b::a00:1", "2001:db8::1", "2002:7f00:1::1", "::127.0.0.1", "fec0::1", NULL };
    static const char *const public_[] = {
        "8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "169.253.255.255", "100.63.255.255",
        "100.128.0.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "2002:808:808::1", NULL };
    for (const char *const *a = blocked; *a; a++)
        if (ssrf_text_is_public(*a)) {
            fprintf(stderr, "should be refused: %s\n", *a);
            check_failures++;
        }
    for (const char *const *a = public_; *a; a++)
        if (!ssrf_text_is_public(*a)) {
            fprintf(stderr, "should be allowed: %s\n", *a);
            check_failures++;
        }
    CHECK(!ssrf_text_is_public("localhost"));   /* not numeric: never public by itself */
}

static void test_charset(void)
{
    char label[64];
    charset_detect("abc", 3, "text/html; charset=ISO-8859-1", true, label, sizeof label);
    CHECK_STR(label, "WINDOWS-1252");
    charset_detect("<meta charset='koi8-r'>x", 24, "text/html", true, label, sizeof label);
    CHECK_STR(label, "koi8-r");
    static const char equiv[] = "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=Shift_JIS\">";
    charset_detect(equiv, sizeof equiv - 1, NULL, true, label, sizeof label);
    CHECK_STR(label, "Shift_JIS");
    charset_detect("caf\xc3\xa9", 5, NULL, true, label, sizeof label);
    CHECK_STR(label, "UTF-8");
    charset_detect("caf\xe9", 4, NULL, true, label, sizeof label);
    CHECK_STR(label, "WINDOWS-1252");
    charset_detect("\xef\xbb\xbfx", 4, "text/html; charset=latin1", true, label, sizeof label);
    CHECK_STR(label, "UTF-8");   /* a byte order mark wins */

    size_t n;
    char err[128] = "";
    char *s = charset_to_utf8("caf\xe9 \x93quoted\x94", 13, "text/plain; charset=iso-8859-1", false, &n, err, sizeof err);
    CHECK_STR(s, "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d");   /* windows-1252 quotes */
    free(s);
    s = charset_to_utf8("\xff\xfeh\0i\0", 6, NULL, false, &n, err, sizeof err);
    CHECK_STR(s, "hi");
    free(s);
    s = charset_to_utf8("ok \xc3\x28 bad", 10, "text/plain; charset=utf-8", false, &n, err, sizeof err);
    CHECK_STR(s, "ok \xef\xbf\xbd( bad");   /* an invalid byte becomes U+FFFD */
    free(s);
    CHECK(charset_to_utf8("x", 1, "text/html; charset=no-such-charset", true, &n, err, sizeof err) == NULL);
    CHECK(strstr(err, "no-such-charset") != NULL);
}

int main(void)
{
    test_ssrf();
    test_charset();
    CHECK_DONE();
}

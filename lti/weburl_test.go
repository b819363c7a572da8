package lti_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/lti"
)

// The header injection of issue 9: a host with a semicolon, accepted once,
// ended up in every page's frame-ancestors as a sandbox directive.
func TestCheckWebURLRefusesWhatCannotBeAHost(t *testing.T) {
	for _, bad := range []string{
		"https://lms6.example;sandbox/auth",
		"https://lms6.example;sandbox",
		"https://lms.example sandbox/auth",
		"https://lms.example,https://evil.example/",
		"https://lms.example'/x",
		"https://lms.example\"/x",
		"https://lms.example\t/x",
		"https://lms.example/a b",
		"https://lms.example/\x00",
		"https://lms.example/é",
		"https://lmś.example/",
		"https://lms_host.example/",
		"https://-lms.example/",
		"https://lms-.example/",
		"https://lms..example/",
		"https://lms.example./",
		"https://" + strings.Repeat("a", 64) + ".example/",
		"https://user:pw@lms.example/",
		"https://user@lms.example/",
		"https://lms.example:0/",
		"https://lms.example:65536/",
		"https://lms.example:99999999999999999999/",
		"https://lms.example:/",
		"https://lms.example:443x/",
		"https://lms.example:-1/",
		"https://lms%2eexample/",
		"https://lms.example/%zz",
		"https://lms.example/%4",
		"https://[::1/",
		"https://[1.2.3.4]/",
		"https://[::1]x/",
		"https://999.1.1.1/",
		"https://1.2.3/",
		"https://*.example/",
		"http://lms.example/",
		"http://10.0.0.1/",
		"ftp://lms.example/",
		"javascript:alert(1)",
		"https:lms.example",
		"//lms.example/",
		"lms.example/auth",
		"https:///auth",
		"",
		"https://lms.example/" + strings.Repeat("a", 2100),
	} {
		if _, err := lti.CheckWebURL(bad); err == nil {
			t.Errorf("CheckWebURL(%q) accepted it", bad)
		}
	}
	for _, good := range []string{
		"https://lms.example/auth",
		"https://LMS.Example:8443/mod/lti/auth.php?a=b&c=%20d#frag",
		"https://sso.canvaslms.com/api/lti/authorize_redirect",
		"https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=3",
		"https://1.2.3.4/x",
		"https://[2001:db8::1]:8443/x",
		"http://localhost:8081/auth",
		"http://127.0.0.1:8081/auth",
		"http://127.5.6.7/auth",
		"http://[::1]:9/auth",
		"http://lms.localhost/auth",
		"https://lms.example/a;b=c/(x)!$*'+,~",
	} {
		if _, err := lti.CheckWebURL(good); err != nil {
			t.Errorf("CheckWebURL(%q): %v", good, err)
		}
	}
}

func TestWebOriginIsOneSpelling(t *testing.T) {
	for in, want := range map[string]string{
		"https://LMS.Example/auth":      "https://lms.example",
		"HTTPS://lms.example:443/auth":  "https://lms.example",
		"https://lms.example:8443/":     "https://lms.example:8443",
		"http://127.0.0.1:80/":          "http://127.0.0.1",
		"http://127.0.0.1:8081/x?y":     "http://127.0.0.1:8081",
		"https://[2001:DB8::1]:8443/x":  "https://[2001:db8::1]:8443",
		"https://school.example.edu/#x": "https://school.example.edu",
	} {
		if got, err := lti.WebOrigin(in); err != nil || got != want {
			t.Errorf("WebOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCheckFrameOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://*.instructure.com": "https://*.instructure.com",
		"https://School.Example":    "https://school.example",
		"http://127.0.0.1:8081":     "http://127.0.0.1:8081",
	} {
		if got, err := lti.CheckFrameOrigin(in); err != nil || got != want {
			t.Errorf("CheckFrameOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"https://lms6.example;sandbox",
		"https://lms.example/path",
		"https://lms.example?x",
		"https://*.*.example",
		"https://*",
		"https://*.1.2.3.4",
		"https://*.[::1]",
		"'self'",
		"*",
		"https://lms.example 'unsafe-inline'",
		"data:",
		"http://lms.example",
		"",
	} {
		if got, err := lti.CheckFrameOrigin(bad); err == nil {
			t.Errorf("CheckFrameOrigin(%q) accepted it as %q", bad, got)
		}
	}
}

var originShape = regexp.MustCompile(`^https?://(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)

// Whatever an LMS sends, what passes the check makes an origin of plain
// host characters that reads back the same: nothing that could end a CSP
// directive or start another.
func FuzzCheckWebURL(f *testing.F) {
	for _, s := range []string{
		"https://lms6.example;sandbox/auth", "https://lms.example/auth", "http://127.0.0.1:8081/x",
		"https://[2001:db8::1]:8443/x", "https://a%2eb/", "https://u@h/", "https://h:0/", "http://localhost/",
		"https://xn--bcher-kva.example/", "https://h.example:443", "https://1.2.3.4", "https://h/%41",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := lti.CheckWebURL(raw)
		if err != nil {
			return
		}
		if u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("accepted %q: %+v", raw, u)
		}
		o, err := lti.WebOrigin(raw)
		if err != nil {
			t.Fatalf("CheckWebURL accepted %q, WebOrigin refused it: %v", raw, err)
		}
		if !originShape.MatchString(o) {
			t.Fatalf("origin %q of %q is not plain scheme://host[:port]", o, raw)
		}
		again, err := lti.CheckFrameOrigin(o)
		if err != nil || again != o {
			t.Fatalf("origin %q of %q reads back as %q, %v", o, raw, again, err)
		}
		if o2, err := lti.WebOrigin(o); err != nil || o2 != o {
			t.Fatalf("origin %q of %q is not its own origin: %q, %v", o, raw, o2, err)
		}
	})
}

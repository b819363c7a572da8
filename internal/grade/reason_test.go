package grade

import "testing"

func TestReasonIsReadable(t *testing.T) {
	for _, c := range []struct{ stored, want string }{
		{`lti advantage: post score: HTTP 500: "{\"detail\":\"Internal Server Error\"}"`, "The LMS's gradebook service had an error of its own (HTTP 500)."},
		{`lti advantage: post score: HTTP 422: "{\"errors\":[\"scoreGiven\"]}"`, "The LMS refused the score (HTTP 422)."},
		{`lti advantage: token: HTTP 401: "invalid_client"`, "The LMS refused Roundtable's access to its gradebook (HTTP 401). Check that the tool's grade service is still allowed in the LMS."},
		{`lti advantage: post score: HTTP 404`, "The LMS no longer has this gradebook column or this learner (HTTP 404)."},
		{`lti advantage: post score: dial tcp 10.0.0.1:443: connection refused`, "Roundtable could not reach the LMS's gradebook service."},
		{"Waiting: the LMS was disabled by an administrator.", "Waiting: the LMS was disabled by an administrator."},
	} {
		if got := (Delivery{LastError: c.stored}).Reason(); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.stored, got, c.want)
		}
	}
}

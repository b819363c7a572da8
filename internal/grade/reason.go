package grade

import (
	"regexp"
	"strconv"
	"strings"
)

// httpStatus finds the status in an LMS's refusal as the AGS client words
// it ("lti advantage: post score: HTTP 500: ...").
var httpStatus = regexp.MustCompile(`^lti advantage: [^:]*: HTTP (\d{3})`)

// Reason says in a sentence why a score is not in the gradebook, for the
// instructors and administrators who read the Grades pages; LastError
// keeps the detail (the LMS's own answer) for those who open it.
func (d Delivery) Reason() string {
	m := httpStatus.FindStringSubmatch(d.LastError)
	if m == nil {
		if strings.HasPrefix(d.LastError, "lti advantage: ") {
			return "Roundtable could not reach the LMS's gradebook service."
		}
		return d.LastError
	}
	status, _ := strconv.Atoi(m[1])
	code := " (HTTP " + m[1] + ")."
	switch {
	case status == 401 || status == 403:
		return "The LMS refused Roundtable's access to its gradebook" + code + " Check that the tool's grade service is still allowed in the LMS."
	case status == 404:
		return "The LMS no longer has this gradebook column or this learner" + code
	case status == 429:
		return "The LMS asked Roundtable to send fewer requests" + code
	case status >= 500:
		return "The LMS's gradebook service had an error of its own" + code
	case status >= 400:
		return "The LMS refused the score" + code
	}
	return "The LMS gave an unexpected answer" + code
}

package advantage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a failed call to a platform's service: Op names the call
// ("token", "find line item", "publish score", "members"...), Status is the
// HTTP status (0 when no response arrived), RetryAfter what the platform asked
// us to wait (0 when it did not say), Body the start of its answer for the
// operator's log.
type Error struct {
	Op         string
	Status     int
	RetryAfter time.Duration
	Body       string
	// Err is the transport or decoding error, when there is one.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("lti advantage: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether trying the same call later may succeed: the
// platform was busy (429), failing (5xx, 408), unreachable or too slow, or
// the attempt was cut short by our own deadline or shutdown. Refusals
// (400, 401 after a fresh token, 403, 404, 422) are not: retrying them
// repeats the same answer until someone fixes the data or the registration.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		switch {
		case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout, e.Status >= 500:
			return true
		case e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Body), "rate limit exceeded"):
			// Canvas throttles with 403 "Rate Limit Exceeded" instead of 429.
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	// Transport failures (refused, reset, EOF, timeouts) reach us as
	// *url.Error, a net.Error.
	var ne net.Error
	return errors.As(err, &ne)
}

// maxRetryAfter bounds what a platform can ask: a bogus header must not park
// a delivery for years.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP-date,
// as a duration from now; 0 when absent, malformed or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return maxRetryAfter
			}
			return 0
		}
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d.Round(time.Second)
}

// maxErrorBody bounds the part of a platform's answer kept in an Error.
const maxErrorBody = 512

func truncate(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > maxErrorBody {
		s = strings.ToValidUTF8(s[:maxErrorBody], "") + "…"
	}
	return strings.TrimSpace(s)
}

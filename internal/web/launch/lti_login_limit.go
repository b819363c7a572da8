package launch

import (
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/config"
)

// LoginLimit bounds how many LTI logins one client address starts: each
// stores a login state, and anyone may start one. A client over its budget
// (LoginRate a minute, the whole minute's worth at once) gets a 429 page
// telling when to try again. A class behind one school address opening the
// activity together stays well inside the default.
func (s *Handlers) LoginLimit() echo.MiddlewareFunc {
	perMinute := s.LoginRate
	if perMinute <= 0 {
		perMinute = config.DefaultLoginRate
	}
	// Time for one more login to be allowed, rounded up to whole seconds.
	retryAfter := strconv.Itoa(max(1, int(math.Ceil(60/float64(perMinute)))))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(float64(perMinute) / 60), Burst: perMinute,
			// Longer than a full budget takes to come back, so that
			// forgetting an address never hands it a fresh one sooner.
			ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return clientKey(c.RealIP()), nil },
		DenyHandler: func(c echo.Context, client string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			s.Logger.WarnContext(c.Request().Context(), "lti login refused: too many from one address",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.String("client", client),
				slog.Int("per_minute", perMinute))
			return roundtable.Errorf(roundtable.ELIMITED, "Too many sign-ins to Roundtable came from your network in the last minute. Please wait a minute, then open the activity again from your course.")
		},
	})
}

// clientKey is what a per-address limit counts: an IPv4 address, or the
// /64 network of an IPv6 one, which one household or server usually holds
// whole.
func clientKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

package kit

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// ClientAddress is how c.RealIP() finds the client: the connection's
// address, or, behind trusted proxies, the nearest address in
// X-Forwarded-For that is not one of them. Only the listed proxies are
// trusted (not every private address, Echo's default), so a client on the
// same network cannot name itself someone else.
func ClientAddress(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func (s *Base) LogRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		} else if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || strings.HasPrefix(req.URL.Path, "/static/") || req.URL.Path == "/favicon.ico" {
			level = slog.LevelDebug
		}
		s.Logger.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Duration("took", time.Since(start)),
		)
		return nil
	}
}

func (s *Base) LogPanic(c echo.Context, err error, stack []byte) error {
	s.Logger.Error("panic", slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		slog.Any("error", err), slog.String("stack", string(stack)))
	return err
}

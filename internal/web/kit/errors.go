package kit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/lti"
)

type ErrorPage struct {
	L         Layout
	Heading   string
	Message   string
	Hint      string
	Reference string
}

// ActivityErrorPage is an error met inside an activity: the page keeps
// the activity's navigation and a way back to the discussion.
type ActivityErrorPage struct {
	ActivityBase
	Heading   string
	Message   string
	Hint      string
	Reference string
}

// Problem is an RFC 9457 problem document for API clients.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Reference string `json:"reference"`
}

// HandleError turns every error into one answer: a page a person
// understands, or a JSON problem for API clients, with the detail logged.
func (s *Base) HandleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	status, heading, message := http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Please try again in a moment."
	var he *echo.HTTPError
	var le *lti.Error
	switch {
	case errors.As(err, &le):
		status, heading, message = ltiStatus(le.Reason), "We could not open this activity", le.Message
	case errors.As(err, &he):
		status = he.Code
		heading = http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			message = m
		}
		if he.Code == http.StatusRequestEntityTooLarge {
			message = "What you sent is larger than Roundtable accepts."
		}
		if he.Code == http.StatusUnauthorized {
			heading = "Open this from your course"
		}
	default:
		switch roundtable.ErrorCode(err) {
		case roundtable.EINVALID:
			status, heading = http.StatusBadRequest, "That did not work"
		case roundtable.ENOTFOUND:
			status, heading = http.StatusNotFound, "Not found"
		case roundtable.EFORBIDDEN:
			status, heading = http.StatusForbidden, "Not allowed"
		case roundtable.ECONFLICT:
			status, heading = http.StatusConflict, "That already exists"
		case roundtable.ETOOLARGE:
			status, heading = http.StatusRequestEntityTooLarge, "Too large"
		case roundtable.ELIMITED:
			status, heading = http.StatusTooManyRequests, "Slow down"
		}
		if status != http.StatusInternalServerError {
			message = roundtable.ErrorMessage(err)
		}
	}
	if status >= 500 && errors.Is(c.Request().Context().Err(), context.Canceled) {
		// The browser went away mid-request, and whatever failed then
		// failed for that: the client's doing, not a failure of ours.
		s.Logger.InfoContext(c.Request().Context(), "request abandoned: the browser closed the connection",
			slog.String("request_id", ref), slog.String("path", c.Request().URL.Path), slog.Any("error", err))
		c.NoContent(statusClientClosed)
		return
	}
	if status >= 500 {
		s.Logger.ErrorContext(c.Request().Context(), "request failed", slog.String("request_id", ref), slog.String("path", c.Request().URL.Path), slog.Any("error", err))
	} else if le == nil {
		s.Logger.InfoContext(c.Request().Context(), "request refused", slog.String("request_id", ref), slog.Int("status", status), slog.Any("error", err))
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if wantsJSON(c) {
		c.JSON(status, Problem{Type: "about:blank", Title: heading, Status: status, Detail: message, Reference: ref})
		return
	}
	var rerr error
	if _, inActivity := c.Get(CtxSession).(session.Session); inActivity && le == nil {
		b, _ := s.ActivityBase(c, heading)
		rerr = s.RenderPage(c, status, ActivityErrorView(&ActivityErrorPage{ActivityBase: b, Heading: heading, Message: message, Reference: ref}))
	} else {
		page := ErrorPage{L: s.Layout(heading), Heading: heading, Message: message, Reference: ref}
		page.L.SessionEnded, _ = c.Get(ctxSessionEnded).(bool)
		if le != nil {
			page.Hint = ltiHint(le.Reason)
		}
		rerr = s.RenderPage(c, status, ErrorView(page))
	}
	if rerr != nil {
		c.String(status, message+" Reference: "+ref)
	}
}

// ctxJSON marks a request whose errors are JSON problems whatever it accepts.
const ctxJSON = "answer_json"

// AnswerJSON makes the request's errors JSON problems (an endpoint that
// scripts call, such as an upload).
func AnswerJSON(c echo.Context) { c.Set(ctxJSON, true) }

func wantsJSON(c echo.Context) bool {
	if j, _ := c.Get(ctxJSON).(bool); j {
		return true
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		return true
	}
	accept := c.Request().Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// ltiStatus picks the HTTP status of a rejected login or launch.
func ltiStatus(r lti.Reason) int {
	switch r {
	case lti.ReasonPlatformDisabled, lti.ReasonPlatformPending, lti.ReasonUnknownPlatform, lti.ReasonUnknownDeployment:
		return http.StatusForbidden
	case lti.ReasonKeysUnavailable:
		return http.StatusBadGateway
	case lti.ReasonTooManyLogins:
		return http.StatusServiceUnavailable
	case lti.ReasonMalformedRequest, lti.ReasonStateMissing, lti.ReasonBadTargetLinkURI, lti.ReasonAmbiguousPlatform, lti.ReasonPlatformError:
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

func ltiHint(r lti.Reason) string {
	switch r {
	case lti.ReasonStateNotBound:
		return "This can happen when your browser blocks cookies inside your course page. Allow cookies for this site, or open the activity in a new window from your course."
	case lti.ReasonStateUnknown, lti.ReasonExpired:
		return "Sign-in links from your course are used once and expire after a few minutes."
	}
	return ""
}

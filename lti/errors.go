package lti

import (
	"fmt"
	"strings"
)

// Reason is a machine-readable cause of a rejected login or launch. Logs
// carry it; the person sees Message.
type Reason string

const (
	ReasonMalformedRequest   Reason = "malformed_request"
	ReasonUnknownPlatform    Reason = "unknown_platform"
	ReasonAmbiguousPlatform  Reason = "ambiguous_platform"
	ReasonPlatformDisabled   Reason = "platform_disabled"
	ReasonPlatformPending    Reason = "platform_pending"
	ReasonUnknownDeployment  Reason = "unknown_deployment"
	ReasonBadTargetLinkURI   Reason = "bad_target_link_uri"
	ReasonPlatformError      Reason = "platform_error"
	ReasonStateMissing       Reason = "state_missing"
	ReasonStateUnknown       Reason = "state_unknown"
	ReasonStateNotBound      Reason = "state_not_bound"
	ReasonMalformedToken     Reason = "malformed_token"
	ReasonMissingKID         Reason = "missing_kid"
	ReasonUnknownKID         Reason = "unknown_kid"
	ReasonBadAlgorithm       Reason = "bad_algorithm"
	ReasonBadSignature       Reason = "bad_signature"
	ReasonKeysUnavailable    Reason = "platform_keys_unavailable"
	ReasonBadIssuer          Reason = "bad_issuer"
	ReasonBadAudience        Reason = "bad_audience"
	ReasonBadAuthorizedParty Reason = "bad_azp"
	ReasonExpired            Reason = "expired"
	ReasonBadTimestamps      Reason = "bad_timestamps"
	ReasonBadNonce           Reason = "bad_nonce"
	ReasonMissingVersion     Reason = "missing_version"
	ReasonBadVersion         Reason = "bad_version"
	ReasonMissingMessageType Reason = "missing_message_type"
	ReasonBadMessageType     Reason = "bad_message_type"
	ReasonMissingDeployment  Reason = "missing_deployment_id"
	ReasonMissingResourceLnk Reason = "missing_resource_link_id"
	ReasonMissingRoles       Reason = "missing_roles"
	ReasonMissingSubject     Reason = "missing_sub"
	ReasonMissingClaim       Reason = "missing_claim"
	ReasonBadClaim           Reason = "bad_claim"
	// ReasonTooManyLogins refused a login while the platform had too many
	// started and unfinished ones. Logins store nothing since migration
	// 00028 and are no longer refused so; the reason stays for the
	// platforms' recorded last errors.
	ReasonTooManyLogins Reason = "too_many_logins"
)

// Error is a rejected login or launch: Reason for logs and tests, Message for
// the person, Detail for the operator.
type Error struct {
	Reason  Reason
	Message string
	Detail  string
	// RegistrationID names the registration the refusal concerns when the
	// refusal comes before the caller knows it (a pending or disabled
	// platform at login), so that its LMS may show the page in its frame.
	RegistrationID string
	// Answer is what the platform answered, when a request to it failed.
	// It is the platform's text: for the operator's log and the admin
	// console, never for the person who started the request.
	Answer *Answer
	// Given are the values of the request that the refusal is about, as the
	// request sent them: anyone can send anything, so whoever shows them
	// labels them as the request's words and never as Roundtable's.
	Given []Given
}

// Answer is a platform's answer to a request that failed.
type Answer struct {
	// Status is the HTTP status; 0 when the platform never answered.
	Status int
	// Said is the platform's own reason in one line ({"errorMessage"},
	// {"errors"}, OAuth's error_description...), when it gave one.
	Said string
	// Body is the start of the answer, as valid UTF-8.
	Body string
}

// maxAnswerBody is how much of a failed answer is kept for the console.
const maxAnswerBody = 2000

// newAnswer keeps the start of a failed answer, as text a database and a
// page can hold.
func newAnswer(status int, said string, body []byte) *Answer {
	if len(body) > maxAnswerBody {
		body = body[:maxAnswerBody]
	}
	text := strings.ToValidUTF8(strings.ReplaceAll(string(body), "\x00", ""), "\uFFFD")
	return &Answer{Status: status, Said: strings.ToValidUTF8(strings.ReplaceAll(said, "\x00", ""), "\uFFFD"), Body: text}
}

// Given is one value a refused request carried, under the name the
// request gave it (a parameter or a claim).
type Given struct {
	Name  string
	Value string
}

// WithGiven adds a value of the request to the refusal.
func (e *Error) WithGiven(name, value string) *Error {
	e.Given = append(e.Given, Given{Name: name, Value: value})
	return e
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("lti: %s: %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("lti: %s", e.Reason)
}

func reject(reason Reason, message, detailFormat string, args ...any) *Error {
	return &Error{Reason: reason, Message: message, Detail: fmt.Sprintf(detailFormat, args...)}
}

// Messages shown to people: short, no jargon they cannot act on.
const (
	msgRelaunch      = "The launch from your course could not be verified. Please go back to your course and open the activity again."
	msgTokenInvalid  = "Your course sent a sign-in message that Roundtable could not accept. Please reopen the activity from your course; if it keeps happening, tell your LMS administrator."
	msgMisconfigured = "Roundtable is not set up correctly for your LMS. Please tell your LMS administrator, quoting the reference below."
)

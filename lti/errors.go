package lti

import "fmt"

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
	// ReasonTooManyLogins refuses a login while the platform has too many
	// started and unfinished ones (see session.ErrTooManyLogins).
	ReasonTooManyLogins Reason = "too_many_logins"
)

// Error is a rejected login or launch: Reason for logs and tests, Message for
// the person, Detail for the operator.
type Error struct {
	Reason  Reason
	Message string
	Detail  string
	// Given are the values of the request that the refusal is about, as the
	// request sent them: anyone can send anything, so whoever shows them
	// labels them as the request's words and never as Roundtable's.
	Given []Given
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

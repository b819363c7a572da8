package console

import "github.com/roundtable-lms/roundtable/lti"

// refusalReasons name the reasons of refused logins and launches for the
// admin console: what Roundtable found, in its own words. What the request
// itself said is shown apart, labelled as the request's.
var refusalReasons = map[lti.Reason]string{
	lti.ReasonMalformedRequest:   "malformed request",
	lti.ReasonUnknownPlatform:    "unknown platform",
	lti.ReasonAmbiguousPlatform:  "several registrations of this issuer, and no client id",
	lti.ReasonPlatformDisabled:   "platform disabled",
	lti.ReasonPlatformPending:    "platform waiting for approval",
	lti.ReasonUnknownDeployment:  "unknown deployment",
	lti.ReasonBadTargetLinkURI:   "target link URI outside this Roundtable",
	lti.ReasonPlatformError:      "the LMS answered with an error",
	lti.ReasonStateMissing:       "no login state",
	lti.ReasonStateUnknown:       "login state unknown, used or expired",
	lti.ReasonStateNotBound:      "login started in another browser",
	lti.ReasonMalformedToken:     "malformed id_token",
	lti.ReasonMissingKID:         "id_token without a key id (kid)",
	lti.ReasonUnknownKID:         "key id (kid) not in the platform's key set",
	lti.ReasonBadAlgorithm:       "signing algorithm other than RS256",
	lti.ReasonBadSignature:       "signature does not verify",
	lti.ReasonKeysUnavailable:    "the platform's key set could not be fetched",
	lti.ReasonBadIssuer:          "wrong issuer (iss)",
	lti.ReasonBadAudience:        "wrong audience (aud)",
	lti.ReasonBadAuthorizedParty: "wrong authorized party (azp)",
	lti.ReasonExpired:            "id_token expired",
	lti.ReasonBadTimestamps:      "id_token timestamps out of range",
	lti.ReasonBadNonce:           "nonce not the one issued",
	lti.ReasonMissingVersion:     "no LTI version",
	lti.ReasonBadVersion:         "unsupported LTI version",
	lti.ReasonMissingMessageType: "no message type",
	lti.ReasonBadMessageType:     "unsupported message type",
	lti.ReasonMissingDeployment:  "no deployment id",
	lti.ReasonMissingResourceLnk: "no resource link id",
	lti.ReasonMissingRoles:       "no roles claim",
	lti.ReasonMissingSubject:     "no subject (sub)",
	lti.ReasonMissingClaim:       "a required claim is missing",
	lti.ReasonBadClaim:           "a claim is invalid",
	lti.ReasonTooManyLogins:      "too many unfinished sign-ins",
}

// refusalReason names a recorded reason; a code this version does not know
// is shown as it is.
func refusalReason(code string) string {
	if r, ok := refusalReasons[lti.Reason(code)]; ok {
		return r
	}
	return code
}

package launch

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

type launchStoragePage struct {
	L              kit.Layout
	Target         string
	PlatformOrigin string
	State          string
	Nonce          string
	IDToken        string
	Ticket         string
	Action         string
}

// Launch receives the platform's id_token and state, verifies both, and
// records the launch. A rejected launch stores nothing. It is four steps:
// validate what the platform posted, record the launch and open a
// session, set the session in the browser, and choose where the person
// lands.
func (s *Handlers) Launch(c echo.Context) error {
	v, err := s.validateLaunch(c)
	if err != nil {
		return err
	}
	if !v.bound {
		// The login's cookie did not come back: nothing is written until
		// the platform's storage confirms the login in this browser.
		return s.confirmFromStorage(c, v)
	}
	if err := s.checkDeploymentAndTarget(c, v); err != nil {
		return err
	}
	if v.launch.MessageType == lti.MessageDeepLinking {
		return s.deepLinkLaunch(c, v.state, v.launch)
	}
	opened, err := s.record(c, v)
	if err != nil {
		return err
	}
	s.SetSessionCookie(c, opened.sess.LinkID, opened.secret)
	if v.launch.MessageType == lti.MessageSubmissionReview {
		return s.landReview(c, v, opened)
	}
	return s.land(c, opened)
}

const stateUnknownMessage = "This sign-in has already been used or has expired. Please open the activity again from your course."

// validatedLaunch is a launch whose id_token verified, with the login
// state it answers.
type validatedLaunch struct {
	pending session.PendingLaunch
	state   session.LoginState
	reg     lti.Registration
	launch  *lti.Launch
	idToken string
	// token is the id_token decoded once: what the peek looks up, and
	// what is verified.
	token *lti.Token
	// claimedDeployment is the deployment the token named before it was
	// verified (the peek looked it up).
	claimedDeployment string
	// frames are the origins that may show the pages of the launch.
	frames []string
	// bound is true when the login started in this browser: its cookie
	// came back, or the platform's storage confirmed it.
	bound bool
}

// validateLaunch reads the posted form, finds its login state and
// verifies the id_token against the state's platform. From the state on,
// whatever happens next is shown in that platform's frame.
func (s *Handlers) validateLaunch(c echo.Context) (validatedLaunch, error) {
	ctx := c.Request().Context()
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		return validatedLaunch{}, s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonMalformedRequest, Message: "The sign-in message from your course was malformed or too large.", Detail: err.Error()})
	}
	if e := r.PostForm.Get("error"); e != "" {
		// The platform refused the login (Canvas does when its message hint
		// expired during a slow login).
		return validatedLaunch{}, s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonPlatformError,
			Message: "Your course could not complete the sign-in. Please go back to your course and open the activity again.",
			Detail:  "platform answered error=" + e + ": " + r.PostForm.Get("error_description")})
	}
	v := validatedLaunch{idToken: r.PostForm.Get("id_token")}
	state := r.PostForm.Get("state")
	if state == "" {
		return v, s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonStateMissing, Message: "The sign-in message from your course was incomplete. Please open the activity again.", Detail: "no state posted"})
	}
	// The state is checked before anything is read: a forged, altered or
	// expired one costs the server a MAC and nothing else. Whether it was
	// already used is learnt when the launch spends it.
	opened, err := s.Sessions.OpenLoginState(state)
	if err != nil {
		return v, s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonStateUnknown, Message: stateUnknownMessage, Detail: "state forged, altered or expired"})
	}
	v.token = lti.ParseToken(v.idToken)
	v.claimedDeployment = v.token.DeploymentID()
	pending, found, err := s.Sessions.PeekLaunch(ctx, opened, v.claimedDeployment)
	if err != nil {
		return v, err
	}
	if !found {
		return v, s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonStateUnknown, Message: stateUnknownMessage, Detail: "the state's platform is no longer registered"})
	}
	v.pending, v.state = pending, pending.LoginState
	ls := v.state
	// Whatever happens next is shown in this platform's frame.
	s.FrameBy(c, tenant.FrameOrigins(pending.Platform.Issuer, pending.Platform.AuthURL))
	if v.reg, err = tenant.Usable(pending.Platform); err != nil {
		return v, s.rejectLTI(c, ls.PlatformID, err)
	}

	if ck, ok := s.Cookie(c, browserCookie); ok && hmac.Equal([]byte(hashBrowser(ck)), []byte(ls.BrowserHash)) {
		v.bound = true
	} else if ls.StorageTarget != "" {
		if t := r.PostForm.Get("storage_ticket"); t != "" && hmac.Equal([]byte(t), []byte(s.Sessions.StorageTicket(ls))) {
			v.bound = true
		}
	}

	if v.launch, err = s.Validator.ValidateToken(ctx, v.token, v.reg, ls.Nonce); err != nil {
		return v, s.rejectLTI(c, v.reg.ID, err)
	}
	// The verified launch also tells where the course is shown.
	v.frames = tenant.FrameOrigins(v.reg.Issuer, v.reg.AuthURL, launchFrameURLs(v.launch)...)
	s.FrameBy(c, v.frames)
	return v, nil
}

// confirmFromStorage answers a verified launch whose login cookie did not
// come back: with the page that confirms the login from the platform's
// storage, when the login kept its state there, else with a refusal.
func (s *Handlers) confirmFromStorage(c echo.Context, v validatedLaunch) error {
	ls := v.state
	if ls.StorageTarget == "" {
		return s.rejectLTI(c, v.reg.ID, &lti.Error{Reason: lti.ReasonStateNotBound, Message: "Roundtable could not confirm that this sign-in started in this browser.", Detail: "login state cookie missing or different"})
	}
	return s.RenderPage(c, http.StatusOK, launchStorageView(launchStoragePage{
		L: s.storageLayout(), Target: ls.StorageTarget, PlatformOrigin: origin(v.reg.AuthURL),
		State: ls.State, Nonce: ls.Nonce, IDToken: v.idToken, Ticket: s.Sessions.StorageTicket(ls), Action: s.URL("/lti/launch"),
	}))
}

// checkDeploymentAndTarget refuses a verified launch from a deployment
// the registration does not know, or to an address outside this
// Roundtable.
func (s *Handlers) checkDeploymentAndTarget(c echo.Context, v validatedLaunch) error {
	// The token verified, so the deployment it names is the one the peek
	// already looked up.
	launch := v.launch
	ok := v.pending.DeploymentKnown && launch.DeploymentID == v.claimedDeployment
	if !ok {
		// The id_token is verified: a dynamic registration that returned
		// no deployment id takes this one as its first.
		var err error
		if ok, err = s.Registry.AcceptDeployment(c.Request().Context(), v.reg.ID, launch.DeploymentID); err != nil {
			return err
		}
	}
	if !ok {
		return s.rejectLTI(c, v.reg.ID, unknownDeployment(launch.DeploymentID))
	}
	if launch.TargetLinkURI != "" && !s.ours(launch.TargetLinkURI) {
		return s.rejectLTI(c, v.reg.ID, &lti.Error{Reason: lti.ReasonBadTargetLinkURI, Message: "Your course asked to open an address that is not part of this Roundtable.", Detail: "target_link_uri claim " + launch.TargetLinkURI})
	}
	return nil
}

// openedSession is what recording a launch opened.
type openedSession struct {
	secret string
	sess   session.Session
	// setup tells that staff opened an activity nobody set up.
	setup bool
}

// record records the launch and opens its session (see recordLaunch),
// keeps what the page that follows will read, and notes the platform's
// last launch for the admin console.
func (s *Handlers) record(c echo.Context, v validatedLaunch) (openedSession, error) {
	ctx := c.Request().Context()
	secret, sess, view, setup, err := s.recordLaunch(ctx, v.state, launchInput(v.launch, v.pending.Platform.OrgID), placementOf(v.launch), v.frames)
	if err != nil {
		if le, ok := err.(*lti.Error); ok {
			return openedSession{}, s.rejectLTI(c, v.reg.ID, le)
		}
		return openedSession{}, err
	}
	s.Sessions.Remember(sess)
	if view != nil {
		s.Prefetched.Put(sess.IDHash, *view)
	}
	// Health for the admin console: at most one write a minute per platform,
	// outside the launch's transaction; a failure is retried on a later launch.
	if err := s.Registry.TouchLaunch(ctx, v.reg.ID); err != nil {
		s.Logger.WarnContext(ctx, "cannot record the platform's last launch", slog.String("platform", v.reg.ID), slog.Any("error", err))
	}
	return openedSession{secret: secret, sess: sess, setup: setup}, nil
}

// land sends the person to the activity's first page: its settings when
// staff open an activity nobody set up, else its discussion. The token in
// the URL keeps the page working when the cookie does not come back from
// inside the LMS frame; when it does, the page drops it.
func (s *Handlers) land(c echo.Context, o openedSession) error {
	if o.setup {
		// Nobody set this activity up: staff choose its settings first.
		return c.Redirect(http.StatusSeeOther, "/a/"+o.sess.LinkID+"/settings?setup=1&rt="+s.Sessions.Token(o.sess))
	}
	return c.Redirect(http.StatusSeeOther, "/a/"+o.sess.LinkID+"?rt="+s.Sessions.Token(o.sess))
}

type reviewNobodyPage struct {
	L kit.Layout
	// Activity opens the activity itself.
	Activity string
}

// landReview answers a submission review (LtiSubmissionReviewRequest):
// the LMS's gradebook opens one learner's work. The launch was recorded
// and its session opened as a resource link launch's are; then staff go
// to the learner's review page of the activity, found by the for_user
// sub among the course's members as this LMS's launches and roster syncs
// recorded them. A learner asking is sent to the activity as by an
// ordinary launch, whoever for_user names: only staff see another
// person's work. Staff opening an activity nobody set up still set it
// up first. A for_user whom Roundtable does not know in this course (they
// never opened the activity nor came in a roster sync, or belong to
// another course or LMS) is recorded nowhere: staff are told there is
// nothing of theirs to show, with a link to the activity.
func (s *Handlers) landReview(c echo.Context, v validatedLaunch, o openedSession) error {
	if o.setup || !o.sess.Roles.IsStaff() {
		return s.land(c, o)
	}
	learner, err := s.Courses.MemberBySubject(c.Request().Context(), o.sess.OrgID, o.sess.CourseID, v.launch.Registration.Issuer, v.launch.ForUser.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return s.RenderPage(c, http.StatusOK, reviewNobodyView(reviewNobodyPage{
			L: s.Layout("Nothing to review yet"), Activity: "/a/" + o.sess.LinkID + "?rt=" + s.Sessions.Token(o.sess),
		}))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/a/"+o.sess.LinkID+"/review/u/"+url.PathEscape(learner.ID)+"?rt="+s.Sessions.Token(o.sess))
}

var errReplay = &lti.Error{Reason: lti.ReasonStateUnknown, Message: "This sign-in has already been used. Please open the activity again from your course.", Detail: "state consumed by a concurrent launch (replay)"}

// recordLaunch uses up the login state, records the launch and opens a
// session, all or nothing. A person reopening an activity has nothing new
// to record: then using up the state and opening the session is one
// statement. A launch lost in a crash is redone by opening the activity
// again, so its commit need not wait for the disk. setup tells that staff
// opened an activity nobody set up (no settings, no placement).
func (s *Handlers) recordLaunch(ctx context.Context, state session.LoginState, in course.LaunchInput, placementID string, frames []string) (secret string, sess session.Session, view *course.Activity, setup bool, err error) {
	plan, err := s.Courses.PlanLaunch(ctx, s.DB.SQL, in)
	if err != nil {
		return "", session.Session{}, nil, false, err
	}
	// A link placed by deep linking takes its placement's settings on its
	// first launch (and a copied course's link on its own first launch).
	adopted, err := s.adoptPlacement(ctx, plan, in, placementID)
	if err != nil {
		return "", session.Session{}, nil, false, err
	}
	setup = !plan.HasSettings() && !adopted && in.Roles.IsStaff()
	sessionOf := func(rec course.Recorded) session.Session {
		return session.Session{OrgID: rec.User.OrgID, PlatformID: in.PlatformID, UserID: rec.User.ID, CourseID: rec.Course.ID,
			LinkID: rec.Link.ID, CohortID: rec.Cohort.ID, Roles: rec.Roles, FrameOrigins: frames}
	}
	// Nothing to write (a person reopening an activity), or a newcomer to
	// a recorded course and activity, as at the start of a term, recorded
	// in one statement: the session is then opened in a statement of its
	// own. Any other launch is recorded in a transaction.
	// A person returning a day later only brings their membership up to
	// date, in the same statement as the session.
	rec, recorded := plan.Settled()
	var touch []store.Stmt
	if !recorded {
		var t store.Stmt
		if rec, t, recorded = s.Courses.Touched(plan); recorded {
			touch = append(touch, t)
		}
	}
	newcomer := false
	if !recorded {
		if rec, recorded, err = s.Courses.RecordNewcomer(ctx, plan); err != nil {
			return "", session.Session{}, nil, false, err
		}
		newcomer = recorded
	}
	if recorded {
		var used bool
		secret, sess, used, err = s.Sessions.ConsumeAndCreate(ctx, state, sessionOf(rec), touch...)
		if err == nil && !used {
			err = errReplay
		}
	} else {
		err = s.DB.TxRelaxed(ctx, func(tx *gorm.DB) error {
			if rec, err = s.Courses.ApplyLaunch(ctx, tx, plan); err != nil {
				return err
			}
			// Using up the login state comes last, with opening the session:
			// a replayed state rolls back what its launch wrote.
			var used bool
			secret, sess, used, err = s.Sessions.ConsumeAndCreateIn(ctx, tx, state, sessionOf(rec))
			if err == nil && !used {
				err = errReplay
			}
			return err
		})
	}
	if err != nil {
		return "", session.Session{}, nil, false, err
	}
	// Committed: the page that follows reads no standing of its own, and
	// shows what the launch recorded.
	s.Access.Remember(sess, rec.Sections)
	if newcomer {
		s.newPerson(ctx, sess)
	}
	shown := rec.Activity()
	return secret, sess, &shown, setup, nil
}

// newPerson tells the space and the discussion that the person a launch
// just created holds no role and has no standing yet in their cohort's
// space: the page after the launch reads neither.
func (s *Handlers) newPerson(ctx context.Context, sess session.Session) {
	sp, err := s.Spaces.ForCohort(ctx, sess.OrgID, sess.CourseID, sess.LinkID, sess.CohortID)
	if err != nil {
		return // the page finds the space itself, and reads
	}
	s.Spaces.NewPerson(sp.ID, sess.UserID)
	s.Discussions.NewPerson(sp.ID, sess.UserID)
}

// launchFrameURLs are the URLs of a verified launch that name the page
// the LMS shows the tool in: the return URL and, for deep linking, the
// deep-linking return URL (a Canvas school on its own domain).
func launchFrameURLs(l *lti.Launch) []string {
	var urls []string
	if l.LaunchPresentation != nil && l.LaunchPresentation.ReturnURL != "" {
		urls = append(urls, l.LaunchPresentation.ReturnURL)
	}
	if l.DeepLinking != nil && l.DeepLinking.DeepLinkReturnURL != "" {
		urls = append(urls, l.DeepLinking.DeepLinkReturnURL)
	}
	return urls
}

// launchInput converts a verified launch, come through a registration of
// organisation orgID, into the course model's input.
func launchInput(l *lti.Launch, orgID string) course.LaunchInput {
	in := course.LaunchInput{
		OrgID: orgID, PlatformID: l.Registration.ID, Issuer: l.Registration.Issuer, DeploymentID: l.DeploymentID,
		Subject: l.Subject, Name: l.Name, GivenName: l.GivenName, FamilyName: l.FamilyName,
		Email: l.Email, Picture: l.Picture, Locale: l.Locale,
		LTIRoles: l.RoleURIs, Roles: course.RolesFromLTI(l.Roles),
		ResourceLinkID: l.ResourceLink.ID, LinkTitle: l.ResourceLink.Title, LinkDescription: l.ResourceLink.Description,
		Custom: l.Custom,
	}
	if l.Context != nil {
		in.ContextID, in.ContextLabel, in.ContextTitle = l.Context.ID, l.Context.Label, l.Context.Title
	}
	if l.AGS != nil {
		in.AGSLineItems, in.AGSLineItem, in.AGSScopes = l.AGS.LineItems, l.AGS.LineItem, l.AGS.Scope
	}
	if l.NRPS != nil {
		in.NRPSURL = l.NRPS.ContextMembershipsURL
	}
	if l.LIS != nil {
		in.CourseSection = l.LIS.CourseSectionSourcedID
	}
	return in
}

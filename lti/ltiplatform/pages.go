//go:generate go tool templ generate

package ltiplatform

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/roundtable-lms/roundtable/lti"
)

// layout is embedded in every page struct.
type layout struct {
	Title        string
	PlatformName string
	SignedInAs   string
	Nonce        string // CSP nonce for the page's inline script and style
}

func (p *Platform) layout(title string) layout {
	return layout{Title: title, PlatformName: p.cfg.Name}
}

type field struct{ Name, Value string }

type autoPostPage struct {
	layout
	Action string
	Fields []field
}

type errorPage struct {
	layout
	Message string
}

type homePage struct {
	layout
	Courses []courseRow
}

type courseRow struct {
	Course
	Href               string
	People, Activities int
}

type coursePage struct {
	layout
	Course     Course
	Activities []activity
	People     []person
	// AddAs lets each of the course's staff add an activity by deep linking.
	AddAs []openAs
	// DeepLink is the outcome of an "Add activity" that just returned.
	DeepLink *DeepLinkResult
}

type activity struct {
	Link  ResourceLink
	Opens []openAs
}

type openAs struct {
	UserID, Name, Href string
}

type person struct {
	Member
	Badges []string
}

type launchPage struct {
	layout
	Course     Course
	CourseHref string
	Link       ResourceLink
	Src        string
	// FixedFrame keeps the activity's frame at a fixed height and ignores
	// the tool's lti.frameResize, as Moodle does (?frame=fixed).
	FixedFrame bool
}

// render writes a page with a fresh CSP nonce, which it puts in l, the
// layout that view reads: pages allow scripts and styles only with that
// nonce; frames and form posts may go to any tool.
func (p *Platform) render(w http.ResponseWriter, r *http.Request, status int, l *layout, view templ.Component) {
	nonce := rand.Text()
	l.Nonce = nonce
	var buf bytes.Buffer
	if err := view.Render(r.Context(), &buf); err != nil {
		p.log.ErrorContext(r.Context(), "render page", slog.String("title", l.Title), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+
		"'; img-src 'self' data: http: https:; frame-src http: https:; form-action 'self' http: https:; base-uri 'none'; object-src 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Platform) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	pg := &errorPage{layout: p.layout(title), Message: msg}
	p.render(w, r, status, &pg.layout, errorView(pg))
}

func (p *Platform) handleHome(w http.ResponseWriter, r *http.Request) {
	pg := &homePage{layout: p.layout("Courses")}
	for _, c := range p.Courses() {
		people, _ := p.Users(c.ID)
		pg.Courses = append(pg.Courses, courseRow{
			Course: c, Href: "/courses/" + url.PathEscape(c.ID),
			People: len(people), Activities: len(p.Links(c.ID)),
		})
	}
	p.render(w, r, http.StatusOK, &pg.layout, homeView(pg))
}

func (p *Platform) handleCourse(w http.ResponseWriter, r *http.Request) {
	course, err := p.Course(r.PathValue("id"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Course not found", "There is no such course.")
		return
	}
	members, _ := p.Users(course.ID)
	pg := &coursePage{layout: p.layout(course.Title), Course: course}
	for _, m := range members {
		badges := make([]string, 0, len(m.Roles))
		for _, role := range m.Roles {
			badges = append(badges, RoleName(role))
		}
		pg.People = append(pg.People, person{Member: m, Badges: badges})
	}
	for _, m := range members {
		if canAddActivities(m.Roles) {
			pg.AddAs = append(pg.AddAs, openAs{UserID: m.ID, Name: displayName(m.User), Href: AddActivityPath(course.ID, m.ID)})
		}
	}
	if res, ok := p.DeepLinkResult(r.FormValue("deep_link")); ok && res.CourseID == course.ID {
		pg.DeepLink = &res
	}
	for _, l := range p.Links(course.ID) {
		a := activity{Link: l}
		for _, m := range members {
			a.Opens = append(a.Opens, openAs{
				UserID: m.ID, Name: displayName(m.User),
				Href: LaunchPagePath(course.ID, l.ID, m.ID),
			})
		}
		pg.Activities = append(pg.Activities, a)
	}
	p.render(w, r, http.StatusOK, &pg.layout, courseView(pg))
}

// LaunchPagePath is the demo page that shows an activity to a user.
func LaunchPagePath(courseID, linkID, userID string) string {
	return "/courses/" + url.PathEscape(courseID) + "/launch?" +
		url.Values{"link": {linkID}, "user": {userID}}.Encode()
}

// ReviewPagePath is the demo page where reviewer, a course's staff member,
// opens the activity's submission review of learner's work, as from an
// LMS gradebook (LtiSubmissionReviewRequest).
func ReviewPagePath(courseID, linkID, reviewerID, learnerID string) string {
	return "/courses/" + url.PathEscape(courseID) + "/launch?" +
		url.Values{"link": {linkID}, "user": {reviewerID}, "for": {learnerID}}.Encode()
}

// handleLaunchPage shows the activity in an iframe, as the user; with
// for=<user>, the submission review of that user's work. Each load
// starts a fresh launch, as reopening an activity does in an LMS. The
// frame follows the tool's lti.frameResize, as Canvas's does, unless the
// page is asked for with frame=fixed: then it stays about 680 px tall and
// scrolls inside, as Moodle's does.
func (p *Platform) handleLaunchPage(w http.ResponseWriter, r *http.Request) {
	course, err := p.Course(r.PathValue("id"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Course not found", "There is no such course.")
		return
	}
	link, errL := p.Link(r.FormValue("link"))
	user, errU := p.User(r.FormValue("user"))
	if errL != nil || errU != nil || link.CourseID != course.ID {
		p.errorPage(w, r, http.StatusNotFound, "Activity not found", "There is no such activity or person in this course.")
		return
	}
	req := LaunchRequest{
		ClientID: link.ClientID, UserID: user.ID, CourseID: course.ID,
		ResourceLinkID: link.ID, StorageTarget: "_parent",
	}
	title := link.Title
	if forID := r.FormValue("for"); forID != "" {
		learner, err := p.User(forID)
		if err != nil {
			p.errorPage(w, r, http.StatusNotFound, "Person not found", "There is no such person in this course.")
			return
		}
		req.MessageType, req.ForUserID = lti.MessageSubmissionReview, learner.ID
		title = link.Title + " · " + displayName(learner)
	}
	src, err := p.StartLaunch(req)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			status = http.StatusConflict
		}
		p.log.WarnContext(r.Context(), "cannot start launch", slog.Any("err", err))
		p.errorPage(w, r, status, "Cannot open the activity", "No tool is set up for this activity.")
		return
	}
	pg := &launchPage{
		layout: p.layout(title), Course: course, Link: link, Src: src,
		CourseHref: "/courses/" + url.PathEscape(course.ID), FixedFrame: r.FormValue("frame") == "fixed",
	}
	pg.SignedInAs = displayName(user)
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, &pg.layout, launchView(pg))
}

func displayName(u User) string {
	if u.Name != "" {
		return u.Name
	}
	if n := strings.TrimSpace(u.GivenName + " " + u.FamilyName); n != "" {
		return n
	}
	return u.ID
}

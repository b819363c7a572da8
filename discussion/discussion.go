// Package discussion is the discussion engine of a space (see package
// space; today an activity's cohort): threads (questions and discussions),
// posts and replies, votes, endorsements, accepted answers, moderation
// flags, follows, unread counts and participation events. It knows nothing
// of HTTP; every read and write is scoped to the viewer's space (and reads
// by id to their platform too), so a learner never reaches another
// cohort's or course's posts. Search and suggestions can run over a set of
// spaces the viewer may read.
package discussion

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/markdown"
)

// Kinds of thread.
const (
	Question   = "question"
	Discussion = "discussion"
)

// Limits on what people write.
const (
	MinTitle    = 3
	MaxTitle    = 200
	MaxBody     = 20000
	MaxTags     = 5
	MaxTagLen   = 30
	DefaultPage = 25
	// DefaultPostsPerMinute bounds how fast one person posts.
	DefaultPostsPerMinute = 6
)

// Kinds of write that one person's rate limits bound, each on its own.
// The store counts posts (threads and replies) itself (PostsPerMinute);
// the web server bounds the others before they reach the store.
const (
	WritePost    = "post"
	WriteVote    = "vote"
	WriteAccept  = "accept"
	WriteEndorse = "endorse"
	WriteEdit    = "edit"
	WriteFlag    = "flag"
	WriteFollow  = "follow"
	WriteUpload  = "upload"
)

// WriteKinds lists the kinds of write in the order settings and pages
// name them.
var WriteKinds = []string{WritePost, WriteVote, WriteAccept, WriteEndorse, WriteEdit, WriteFlag, WriteFollow, WriteUpload}

// DefaultWriteLimits is how many writes of each kind one person may make
// in a minute: enough for anyone taking part, not for a script. An
// upvote or an accepted answer re-scores a learner and may send a score
// to the LMS; an edit keeps the earlier version.
var DefaultWriteLimits = map[string]int{WritePost: DefaultPostsPerMinute, WriteVote: 30, WriteAccept: 10, WriteEndorse: 30,
	WriteEdit: 10, WriteFlag: 10, WriteFollow: 30, WriteUpload: 20}

// Viewer is who asks, and the space they ask in: its id, and the
// session's platform, course, activity (link) and cohort that own it.
type Viewer struct {
	// SpaceID is the space every read and write is scoped to (see space).
	SpaceID  string
	OrgID    string
	CourseID string
	LinkID   string
	CohortID string
	UserID   string
	Staff    bool
	// Observer reads the space as a learner does, without the post-first
	// rule (an observer never posts: the web layer refuses their forms).
	Observer bool
}

// Thread is a question or discussion as a list shows it.
type Thread struct {
	ID             string
	Kind           string
	Title          string
	Tags           []string
	Author         Author
	OpeningPostID  string
	AcceptedPostID string
	Pinned         bool
	Locked         bool
	Closed         bool
	Replies        int
	Votes          int
	// Unread is how many posts the viewer has not seen.
	Unread       int
	Following    bool
	LastActivity time.Time
	CreatedAt    time.Time
	// Hidden is true when moderators hid the opening post (staff only see it).
	Hidden bool
	// Original is the thread this one duplicates (zero when it is none,
	// or when moderators hid the original from a learner).
	Original ThreadRef
	// allReplies counts the replies moderators hid too.
	allReplies int
}

// IsQuestion reports whether the thread is a question.
func (t Thread) IsQuestion() bool { return t.Kind == Question }

// Answered reports whether a question has an accepted answer.
func (t Thread) Answered() bool { return t.AcceptedPostID != "" }

// Author is who wrote something, as the viewer may know it.
type Author struct {
	// ID is empty when the viewer may not know who it is.
	ID   string
	Name string
	// Anonymous is true when the author posted anonymously to peers.
	Anonymous bool
	// Mine is true when the viewer wrote it.
	Mine bool
	// Staff is true when the author is staff of the course.
	Staff bool
}

// Label is the name to show: "Anonymous learner" to peers of an anonymous
// author; staff and the author see the name.
func (a Author) Label() string {
	if a.Name == "" {
		return "Anonymous learner"
	}
	return a.Name
}

// Post is the opening post or a reply.
type Post struct {
	ID       string
	ThreadID string
	ParentID string
	Opening  bool
	Author   Author
	Body     string
	Votes    int
	Voted    bool
	Endorsed bool
	Deleted  bool
	// Hidden is true when moderators hid the post: learners see a
	// placeholder, staff see it marked.
	Hidden    bool
	Accepted  bool
	Edited    bool
	New       bool
	CreatedAt time.Time
	EditedAt  time.Time
	// Children are replies to this reply (one level).
	Children []Post
}

// ThreadView is a thread with its posts, as its page shows it.
type ThreadView struct {
	Thread
	Opening Post
	Replies []Post
	// LastVisit is when the viewer last opened the thread (zero if never).
	LastVisit time.Time
	// Suspended is true when the viewer may not post in this course.
	Suspended bool
	// AnonymousAllowed is the activity's setting: learners may post
	// anonymously to their peers.
	AnonymousAllowed bool
	// UnreadNotifications is the viewer's count of unseen notifications
	// in the space, as Standing counts them.
	UnreadNotifications int
	// Duplicates links the thread to its original and to the threads
	// marked as its duplicates, those the viewer may see.
	Duplicates Duplicates
	// Page is the page of replies shown, from 1, of Pages (see
	// ReplyPage); TopReplies counts the replies to the thread itself (not
	// those to replies) on all pages.
	Page, Pages int
	TopReplies  int
}

// Post finds one of the thread's posts.
func (v ThreadView) Post(id string) (Post, bool) {
	if v.Opening.ID == id {
		return v.Opening, true
	}
	for _, r := range v.Replies {
		if r.ID == id {
			return r, true
		}
		for _, c := range r.Children {
			if c.ID == id {
				return c, true
			}
		}
	}
	return Post{}, false
}

// ThreadInput is a new thread.
type ThreadInput struct {
	Kind      string
	Title     string
	Body      string
	Tags      string
	Anonymous bool
}

// FieldError is an invalid field of a form; Field names it.
type FieldError struct {
	Field string
	Err   *roundtable.Error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, code, format string, args ...any) error {
	return &FieldError{Field: field, Err: roundtable.Errorf(code, format, args...)}
}

// Validate checks and normalises the input, returning the tags.
func (in *ThreadInput) Validate() ([]string, error) {
	if in.Kind != Question && in.Kind != Discussion {
		return nil, fieldErr("kind", roundtable.EINVALID, "Choose a question or a discussion.")
	}
	in.Title = strings.TrimSpace(in.Title)
	if n := utf8.RuneCountInString(in.Title); n < MinTitle || n > MaxTitle {
		return nil, fieldErr("title", roundtable.EINVALID, "The title must be between %d and %d characters (it has %d).", MinTitle, MaxTitle, n)
	}
	if err := validBody(&in.Body); err != nil {
		return nil, err
	}
	return ParseTags(in.Tags)
}

func validBody(body *string) error {
	*body = strings.TrimSpace(*body)
	if *body == "" {
		return fieldErr("body", roundtable.EINVALID, "Write something first.")
	}
	if n := utf8.RuneCountInString(*body); n > MaxBody {
		return fieldErr("body", roundtable.ETOOLARGE, "Posts can be at most %d characters; this one has %d. Shorten it or split it into two posts.", MaxBody, n)
	}
	// What the text makes of the page is bounded too (a short table can
	// ask for millions of cells): the limit it passes is named.
	if err := markdown.Check(*body); err != nil {
		return fieldErr("body", roundtable.ETOOLARGE, "%s", err.Error())
	}
	return nil
}

// ParseTags reads tags separated by commas or spaces: lower-cased, at most
// MaxTags, each letters, digits and dashes.
func ParseTags(s string) ([]string, error) {
	var tags []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' || r == '#' || r == '\t' }) {
		if seen[f] {
			continue
		}
		if utf8.RuneCountInString(f) > MaxTagLen || strings.IndexFunc(f, func(r rune) bool {
			return !(r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
		}) >= 0 {
			return nil, fieldErr("tags", roundtable.EINVALID, "Tags are single words of letters, digits and dashes, up to %d characters: %q is not.", MaxTagLen, f)
		}
		seen[f] = true
		tags = append(tags, f)
	}
	if len(tags) > MaxTags {
		return nil, fieldErr("tags", roundtable.EINVALID, "Use at most %d tags.", MaxTags)
	}
	return tags, nil
}

// ReplyInput is a new reply: to the thread, or to a reply when ParentID is set.
type ReplyInput struct {
	ParentID  string
	Body      string
	Anonymous bool
}

// Sorts of the thread list.
const (
	SortActivity   = "activity"
	SortNewest     = "newest"
	SortTop        = "top"
	SortUnanswered = "unanswered"
)

// ListQuery asks for a page of threads.
type ListQuery struct {
	Sort      string
	Tag       string
	Kind      string
	Mine      bool
	Following bool
	Cursor    string
	Limit     int
}

// ThreadList is a page of threads and the cursor of the next.
type ThreadList struct {
	Threads []Thread
	Next    string
}

// Moderation flags staff set on a thread.
const (
	FlagPinned = "pinned"
	FlagLocked = "locked"
	FlagClosed = "closed"
)

// Revision is an earlier version of a post.
type Revision struct {
	ID        string
	Title     string
	Body      string
	EditorID  string
	Reason    string
	CreatedAt time.Time
	// Redacted is true when staff removed the version's title and text
	// (see RedactRevision), at RedactedAt.
	Redacted   bool
	RedactedAt time.Time
}

// Participation event kinds.
const (
	EventThreadCreated  = "thread_created"
	EventReplyCreated   = "reply_created"
	EventAnswerAccepted = "answer_accepted"
	EventUpvoteReceived = "upvote_received"
)

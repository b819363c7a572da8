package discuss

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Participation, for staff: who takes part in the cohort's space, who has
// not yet, and how fast questions get a first answer.

type participationPage struct {
	kit.ActivityBase
	Report     discussion.Participation
	Columns    []navLink
	Missing    []discussion.LearnerParticipation
	MedianText string
	CSVURL     string
}

var participationColumns = []struct{ by, label string }{
	{discussion.ByName, "Learner"}, {discussion.ByThreads, "Threads"}, {discussion.ByReplies, "Replies"},
	{discussion.ByAccepted, "Accepted answers"}, {discussion.ByUpvotes, "Upvotes received"}, {discussion.ByReviews, "Peer reviews"},
	{discussion.ByLastActive, "Last active"},
}

func participationSort(c echo.Context) string {
	by := c.QueryParam("sort")
	for _, col := range participationColumns {
		if col.by == by {
			return by
		}
	}
	return discussion.ByName
}

func (s *Handlers) Participation(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Participation")
	by := participationSort(c)
	r, err := s.Discussions.Participation(c.Request().Context(), kit.ViewerOf(c, sess), by)
	if err != nil {
		return err
	}
	page := participationPage{ActivityBase: b, Report: r, Missing: r.NotParticipated(), MedianText: medianText(r),
		CSVURL: b.L.URL(b.Base + "/participation.csv?sort=" + by)}
	for _, col := range participationColumns {
		page.Columns = append(page.Columns, navLink{Label: col.label, URL: b.L.URL(b.Base + "/participation?sort=" + col.by), Current: col.by == by})
	}
	return s.RenderPage(c, http.StatusOK, participationView(page))
}

// medianText says the median time to a first answer in hours and minutes.
func medianText(r discussion.Participation) string {
	if r.Answered == 0 {
		return "no answered questions yet"
	}
	return durationText(r.MedianFirstAnswer)
}

func durationText(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "under a minute"
	case m < 60:
		return kit.Plural(m, "minute")
	case m%60 == 0:
		return kit.Plural(m/60, "hour")
	}
	return kit.Plural(m/60, "hour") + " " + kit.Plural(m%60, "minute")
}

// ParticipationCSV is the table as a spreadsheet file.
func (s *Handlers) ParticipationCSV(c echo.Context) error {
	_, sess := s.ActivityBase(c, "")
	r, err := s.Discussions.Participation(c.Request().Context(), kit.ViewerOf(c, sess), participationSort(c))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"Learner", "Email", "Threads", "Replies", "Accepted answers", "Upvotes received", "Peer reviews", "Last active (UTC)"})
	for _, l := range r.Learners {
		last := ""
		if !l.LastActive.IsZero() {
			last = l.LastActive.UTC().Format(time.RFC3339)
		}
		w.Write([]string{safeCell(l.Name), safeCell(l.Email), strconv.Itoa(l.Threads), strconv.Itoa(l.Replies),
			strconv.Itoa(l.Accepted), strconv.Itoa(l.Upvotes), strconv.Itoa(l.Reviews), last})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="participation-%s.csv"`, time.Now().UTC().Format("2006-01-02")))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// safeCell keeps a spreadsheet from reading a cell as a formula: text that
// starts with a tab or carriage return, or whose first visible character
// starts a formula (= + - @, or their full-width and small forms, which
// spreadsheets fold to them), gets a leading quote. What cannot be seen
// before that character (spaces, no-break and zero-width spaces, byte order
// marks, direction marks, fillers, line breaks) does not hide it.
func safeCell(s string) string {
	if strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "\r") {
		return "'" + s
	}
	for _, r := range s {
		if invisible(r) {
			continue
		}
		if strings.ContainsRune(formulaStarts, r) {
			return "'" + s
		}
		return s
	}
	return s
}

// formulaStarts are the characters a spreadsheet reads as the start of a
// formula: = + - @, full-width ＝ ＋ － ＠, small ﹦ ﹢ ﹣ ﹫, and the minus sign.
const formulaStarts = "=+-@\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B\u2212"

// invisible reports whether r shows nothing on its own: white space,
// control and format characters (zero-width spaces, byte order marks,
// direction marks), combining marks without a base, and the blank fillers.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zs, unicode.Mn, unicode.Me) ||
		strings.ContainsRune("\u115F\u1160\u3164\uFFA0\u2800", r)
}

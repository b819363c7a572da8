package discuss

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/blob"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Files are the images and files people put in posts: uploaded into the
// space's discussion, kept in the blob store, served to whoever may read
// the space.
type Files struct {
	Blobs blob.Store
	// MaxImage and MaxFile bound one image and one other file, PerDay what
	// one person uploads in a day, in bytes.
	MaxImage, MaxFile, PerDay int64
}

// MaxFilesPerPost bounds the files one form (a new thread, a reply) carries.
const MaxFilesPerPost = 5

// MaxUploadBody bounds the body of a request carrying files: the largest
// files a form may carry, and the rest of the form.
func (f Files) MaxUploadBody() int64 {
	return MaxFilesPerPost*max(f.MaxImage, f.MaxFile) + 1<<20
}

// uploadReply is what a script is told of a file it uploaded.
type uploadReply struct {
	URL      string `json:"url"`
	Name     string `json:"name"`
	Markdown string `json:"markdown"`
}

// Upload stores one file of the multipart field "file" and answers, in
// JSON, the Markdown that shows it in a post.
func (s *Handlers) Upload(c echo.Context) error {
	kit.AnswerJSON(c)
	fh, err := c.FormFile("file")
	if err != nil {
		return roundtable.Errorf(roundtable.EINVALID, "Choose a file to upload.")
	}
	a, err := s.storeFile(c, fh)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, uploadReply{URL: a.Path(), Name: a.Name, Markdown: a.Markdown()})
}

// storeFile checks a file of the form (its kind from its content, its
// size, the person's limits), puts it in the blob store and records it.
func (s *Handlers) storeFile(c echo.Context, fh *multipart.FileHeader) (discussion.Attachment, error) {
	ctx := c.Request().Context()
	sess := c.Get(kit.CtxSession).(session.Session)
	v := kit.ViewerOf(c, sess)
	if s.Files.Blobs == nil {
		return discussion.Attachment{}, roundtable.Errorf(roundtable.EFORBIDDEN, "This Roundtable takes no files.")
	}
	if err := s.allowWrite(c, discussion.WriteUpload); err != nil {
		return discussion.Attachment{}, err
	}
	f, err := fh.Open()
	if err != nil {
		return discussion.Attachment{}, err
	}
	defer f.Close()
	head := make([]byte, discussion.SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return discussion.Attachment{}, err
	}
	name := discussion.SafeFileName(fh.Filename)
	if n == 0 {
		return discussion.Attachment{}, roundtable.Errorf(roundtable.EINVALID, "%s is empty.", name)
	}
	ctype, err := discussion.FileType(head[:n])
	if err != nil {
		return discussion.Attachment{}, err
	}
	limit, what := s.Files.MaxFile, "a file"
	if strings.HasPrefix(ctype, "image/") {
		limit, what = s.Files.MaxImage, "an image"
	}
	tooLarge := roundtable.Errorf(roundtable.ETOOLARGE, "%s is too large: %s may be at most %d MB.", name, what, limit>>20)
	if fh.Size > limit {
		return discussion.Attachment{}, tooLarge
	}
	if s.Files.PerDay > 0 {
		used, err := s.Discussions.UploadedSince(ctx, v, s.Now().Add(-24*time.Hour))
		if err != nil {
			return discussion.Attachment{}, err
		}
		if used+fh.Size > s.Files.PerDay {
			return discussion.Attachment{}, roundtable.Errorf(roundtable.ELIMITED,
				"You uploaded %d MB of files today, and one person may upload %d MB a day. Try again tomorrow, or link to the file instead.", used>>20, s.Files.PerDay>>20)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return discussion.Attachment{}, err
	}
	var content io.Reader = f
	if ctype == "image/jpeg" {
		// A photo goes in without where and when it was taken.
		clean, err := discussion.CleanPhoto(io.LimitReader(f, limit), name)
		if err != nil {
			return discussion.Attachment{}, err
		}
		content = bytes.NewReader(clean)
	}
	key, size, err := s.Files.Blobs.Put(ctx, content, limit)
	if errors.Is(err, blob.ErrTooLarge) {
		return discussion.Attachment{}, tooLarge
	}
	if err != nil {
		return discussion.Attachment{}, err
	}
	a, err := s.Discussions.AddAttachment(ctx, v, discussion.Attachment{BlobKey: key, ContentType: ctype, Size: size, Name: fh.Filename})
	if err != nil {
		// The blob no row names would never be served: take it back.
		if derr := s.Files.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.Logger.WarnContext(ctx, "delete an unrecorded upload", slog.Any("error", derr))
		}
		return discussion.Attachment{}, err
	}
	return a, nil
}

// formAttachments stores the files of a post form's "attachment" field
// (the form without JavaScript) and returns the body with their Markdown
// appended, one per line.
func (s *Handlers) formAttachments(c echo.Context, body string) (string, error) {
	form, err := c.MultipartForm()
	if err != nil || form == nil {
		return body, nil // not a multipart form: no files
	}
	var files []*multipart.FileHeader
	for _, fh := range form.File["attachment"] {
		if fh.Size > 0 || fh.Filename != "" {
			files = append(files, fh)
		}
	}
	if len(files) > MaxFilesPerPost {
		return body, &discussion.FieldError{Field: "body", Err: roundtable.Errorf(roundtable.EINVALID, "A post may carry at most %d files.", MaxFilesPerPost)}
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(body, " \r\n"))
	for _, fh := range files {
		a, err := s.storeFile(c, fh)
		if err != nil {
			var re *roundtable.Error
			if errors.As(err, &re) && (re.Code == roundtable.EINVALID || re.Code == roundtable.ETOOLARGE) {
				return body, &discussion.FieldError{Field: "body", Err: re}
			}
			return body, err
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(a.Markdown())
	}
	return b.String(), nil
}

// ServeFile serves an attachment of the request's space, to those who may
// read it (the group's session and space checks ran): one of another
// space is not found, as one that never was.
func (s *Handlers) ServeFile(c echo.Context) error {
	ctx := c.Request().Context()
	sess := c.Get(kit.CtxSession).(session.Session)
	a, err := s.Discussions.Attachment(ctx, kit.ViewerOf(c, sess), c.Param("id"))
	if err != nil {
		return err
	}
	if s.Files.Blobs == nil {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That file does not exist in your cohort's discussion.")
	}
	b, err := s.Files.Blobs.Open(ctx, a.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That file does not exist in your cohort's discussion.")
	}
	if err != nil {
		return err
	}
	defer b.Close()
	kit.ServeFile(c, b, a.ContentType, a.Name, a.CreatedAt, kit.FileCSP)
	return nil
}

// fileURL matches the attachment URLs a post's HTML carries (see
// discussion.Attachment.Path), in src and href attributes.
var fileURL = regexp.MustCompile(`((?:src|href)=")/files/([a-z2-7]{26}/[^"?#/]+)"`)

// localFiles points a post's attachment URLs at the request's own
// discussion (base: /a/<link> or /a/<link>/s/<space>), with
// the session's token when the page needs one. A post's text names them
// without its activity: the same post is read from several activities
// and spaces, and rendered once for all (see postHTML).
func localFiles(base string, l kit.Layout, h template.HTML) template.HTML {
	if !strings.Contains(string(h), `="/files/`) {
		return h
	}
	return template.HTML(fileURL.ReplaceAllStringFunc(string(h), func(m string) string {
		sub := fileURL.FindStringSubmatch(m)
		return sub[1] + template.HTMLEscapeString(l.URL(base+"/files/"+sub[2])) + `"`
	}))
}

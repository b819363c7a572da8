package review

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/blob"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// uploaded is a file put in the blob store for a version not yet kept.
type uploaded struct{ ID, Key string }

// maxField bounds a text field of the work form, in bytes: a body of
// MaxBody characters of up to four bytes each.
const maxField = 4*peerreview.MaxBody + 1024

// readWork reads the work form. A multipart form is read part by part:
// each file goes to the blob store as it arrives, through a buffer of a
// few kilobytes, so a large file never sits whole in memory.
func (s *Handlers) readWork(c echo.Context, p page) (peerreview.WorkInput, []uploaded, error) {
	var in peerreview.WorkInput
	r := c.Request()
	if !strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		if err := r.ParseForm(); err != nil {
			return in, nil, roundtable.Errorf(roundtable.EINVALID, "The form did not arrive whole. Try again.")
		}
		in.Body, in.Link, in.KeepFiles = r.PostForm.Get("body"), r.PostForm.Get("link"), r.PostForm["keep"]
		return in, nil, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return in, nil, roundtable.Errorf(roundtable.EINVALID, "The form did not arrive whole. Try again.")
	}
	var ups []uploaded
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in, ups, s.bodyError(err)
		}
		name := part.FormName()
		if part.FileName() == "" {
			raw, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return in, ups, s.bodyError(err)
			}
			if len(raw) > maxField {
				return in, ups, &peerreview.FieldError{Field: "body", Err: roundtable.Errorf(roundtable.ETOOLARGE, "Your text is longer than %d characters.", peerreview.MaxBody)}
			}
			switch name {
			case "body":
				in.Body = string(raw)
			case "link":
				in.Link = string(raw)
			case "keep":
				in.KeepFiles = append(in.KeepFiles, string(raw))
			}
			continue
		}
		if name != "files" {
			continue
		}
		if !p.O.SubmitFiles {
			return in, ups, &peerreview.FieldError{Field: "files", Err: roundtable.Errorf(roundtable.EINVALID, "This activity takes no files.")}
		}
		if len(ups) >= p.O.MaxFiles {
			return in, ups, &peerreview.FieldError{Field: "files", Err: roundtable.Errorf(roundtable.EINVALID, "A submission carries at most %d files.", p.O.MaxFiles)}
		}
		up, err := s.storePart(c, p, part)
		if err != nil {
			return in, ups, err
		}
		if up.ID == "" {
			continue // an empty file input
		}
		ups = append(ups, up)
		in.NewFiles = append(in.NewFiles, up.ID)
	}
	return in, ups, nil
}

// bodyError is a body that stopped short: larger than the server takes,
// or cut off.
func (s *Handlers) bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || strings.Contains(err.Error(), "too large") {
		return &peerreview.FieldError{Field: "files", Err: roundtable.Errorf(roundtable.ETOOLARGE, "The files are larger than Roundtable takes in one form.")}
	}
	return roundtable.Errorf(roundtable.EINVALID, "The form did not arrive whole. Try again.")
}

// accepts reports whether the activity takes a file of content type ct.
func accepts(o peerreview.Options, ct string) bool {
	switch o.FileTypes {
	case peerreview.FilesImages:
		return strings.HasPrefix(ct, "image/")
	case peerreview.FilesPDF:
		return ct == "application/pdf"
	case peerreview.FilesDocuments:
		return !strings.HasPrefix(ct, "image/") && ct != "application/zip"
	}
	return true
}

// storePart checks one file of the form (its kind from its first bytes,
// its size as it streams, the person's day) and puts it in the blob store.
func (s *Handlers) storePart(c echo.Context, p page, part io.Reader) (uploaded, error) {
	ctx := c.Request().Context()
	fileName := ""
	if fp, ok := part.(interface{ FileName() string }); ok {
		fileName = fp.FileName()
	}
	name := discussion.SafeFileName(fileName)
	fileErr := func(code, format string, args ...any) error {
		return &peerreview.FieldError{Field: "files", Err: roundtable.Errorf(code, format, args...)}
	}
	if s.Blobs == nil {
		return uploaded{}, fileErr(roundtable.EINVALID, "This Roundtable takes no files.")
	}
	head := make([]byte, discussion.SniffLen)
	n, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return uploaded{}, s.bodyError(err)
	}
	if n == 0 {
		return uploaded{}, nil
	}
	ct, err := discussion.FileType(head[:n])
	if err != nil || !accepts(p.O, ct) {
		return uploaded{}, fileErr(roundtable.EINVALID, "%s is not a kind of file this activity takes (%s).", name, acceptedText(p.O))
	}
	limit := int64(p.O.MaxFileMB) << 20
	tooLarge := fileErr(roundtable.ETOOLARGE, "%s is too large: a file may be at most %d MB.", name, p.O.MaxFileMB)
	if s.PerDay > 0 {
		used, err := s.Reviews.UploadsToday(ctx, p.V)
		if err != nil {
			return uploaded{}, err
		}
		if used >= s.PerDay {
			return uploaded{}, fileErr(roundtable.ELIMITED, "You uploaded %d MB of files today, and one person may upload %d MB a day. Try again tomorrow, or give a link instead.", used>>20, s.PerDay>>20)
		}
		if left := s.PerDay - used; left < limit {
			limit, tooLarge = left, fileErr(roundtable.ELIMITED, "%s would take you past the %d MB one person may upload in a day.", name, s.PerDay>>20)
		}
	}
	var content io.Reader = io.MultiReader(bytes.NewReader(head[:n]), part)
	if ct == "image/jpeg" {
		// A photo goes in without where and when it was taken, nor the
		// camera: double-blind means it too.
		clean, err := discussion.CleanPhoto(io.LimitReader(content, limit+1), name)
		if err != nil {
			return uploaded{}, &peerreview.FieldError{Field: "files", Err: err}
		}
		content = bytes.NewReader(clean)
	}
	key, size, err := s.Blobs.Put(ctx, content, limit)
	if errors.Is(err, blob.ErrTooLarge) {
		return uploaded{}, tooLarge
	}
	if err != nil {
		return uploaded{}, s.bodyError(err)
	}
	up := uploaded{ID: store.NewID(), Key: key}
	if err := s.Reviews.AddUpload(ctx, p.V, peerreview.File{ID: up.ID, Name: name, ContentType: ct, BlobKey: key, Size: size}); err != nil {
		s.deleteBlob(ctx, key)
		return uploaded{}, err
	}
	return up, nil
}

func acceptedText(o peerreview.Options) string {
	switch o.FileTypes {
	case peerreview.FilesImages:
		return "images: PNG, JPEG, GIF or WebP"
	case peerreview.FilesPDF:
		return "PDF"
	case peerreview.FilesDocuments:
		return "PDF, text and office documents"
	}
	return "images, PDF, text, office documents and ZIP"
}

// dropUploads takes back the files of a form that was refused: nothing
// of it stays half-stored.
func (s *Handlers) dropUploads(c echo.Context, p page, ups []uploaded) {
	if len(ups) == 0 {
		return
	}
	ctx := context.WithoutCancel(c.Request().Context())
	ids := make([]string, len(ups))
	for i, u := range ups {
		ids[i] = u.ID
		s.deleteBlob(ctx, u.Key)
	}
	if err := s.Reviews.DropUploads(ctx, p.V, ids); err != nil {
		s.Logger.WarnContext(ctx, "drop the uploads of a refused submission", slog.Any("error", err))
	}
}

func (s *Handlers) deleteBlob(ctx context.Context, key string) {
	if err := s.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.Logger.WarnContext(ctx, "delete an unused upload", slog.Any("error", err))
	}
}

// ServeFile is GET /a/:link/review/files/:id/:name: a file of a
// submission, to those who may read it (the author, its reviewers for
// the version they were given, staff).
func (s *Handlers) ServeFile(c echo.Context) error {
	p, err := s.open(c, "")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := s.Reviews.FileFor(ctx, p.V, c.Param("id"))
	if err != nil {
		return err
	}
	if s.Blobs == nil {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That file is not one you can see in this activity.")
	}
	b, err := s.Blobs.Open(ctx, f.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That file is not one you can see in this activity.")
	}
	if err != nil {
		return err
	}
	defer b.Close()
	// The name in the address is the one the page showed (neutral under
	// double-blind); the stored one is used only when the viewer may know it.
	// A PDF shown in the review page's frame may use the browser's viewer.
	kit.ServeFile(c, b, f.ContentType, discussion.SafeFileName(c.Param("name")), p.Now, kit.FileCSP+"; img-src 'self'; object-src 'self'")
	return nil
}

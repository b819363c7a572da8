package discussion

import (
	"context"
	"crypto/rand"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// Attachment is a file or image uploaded into a space's discussion. Its
// bytes are in the blob store under BlobKey.
type Attachment struct {
	ID          string
	SpaceID     string
	UploaderID  string
	BlobKey     string
	ContentType string
	Size        int64
	Name        string
	// PostID is the first post that named the file ('' until one does).
	PostID    string
	CreatedAt time.Time
}

// Image reports whether the attachment is an image shown in a post.
func (a Attachment) Image() bool { return strings.HasPrefix(a.ContentType, "image/") }

// Path is where a post's Markdown names the attachment: the same in every
// place the space is read from, and naming neither the uploader nor the
// activity (see markdown.OwnFile).
func (a Attachment) Path() string { return "/files/" + a.ID + "/" + a.Name }

// Markdown is the text a post carries to show the attachment: an image,
// or a link to the file.
func (a Attachment) Markdown() string {
	label := strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`, "`", "\\`").Replace(a.Name)
	if a.Image() {
		return "![" + label + "](" + a.Path() + ")"
	}
	return "[" + label + "](" + a.Path() + ")"
}

// allowedTypes are the kinds of file a post may carry, as sniffed from
// their content: images a browser shows (never SVG, which may hold
// script), PDF, plain text, and common office documents and archives.
// HTML and anything a browser might run are refused, whatever the name.
var allowedTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "text/plain": true, "text/csv": true,
	"application/zip": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
	"application/vnd.oasis.opendocument.text":                                   true,
	"application/vnd.oasis.opendocument.spreadsheet":                            true,
	"application/vnd.oasis.opendocument.presentation":                           true,
	"application/msword": true, "application/vnd.ms-excel": true, "application/vnd.ms-powerpoint": true,
}

// SniffLen is how much of a file's start FileType reads.
const SniffLen = 3072

// FileType is the content type of a file whose first bytes are head,
// sniffed from the bytes and never from the name; it refuses a kind of
// file that a post may not carry.
func FileType(head []byte) (string, error) {
	m := mimetype.Detect(head)
	for ; m != nil; m = m.Parent() {
		t, _, _ := strings.Cut(m.String(), ";")
		if allowedTypes[t] {
			if t == "text/plain" || t == "text/csv" {
				return t + "; charset=utf-8", nil
			}
			return t, nil
		}
		if strings.Contains(t, "svg") || strings.Contains(t, "xml") || strings.Contains(t, "html") {
			// A text the browser would render as a document (HTML, SVG,
			// XML) is refused, not served as its parent, plain text.
			break
		}
	}
	return "", roundtable.Errorf(roundtable.EINVALID,
		"Roundtable takes images (PNG, JPEG, GIF, WebP), PDF, plain text and office documents. This file is of another kind (%s), whatever its name says.", mimetype.Detect(head).Extension())
}

// maxNameBytes bounds a file's stored name.
const maxNameBytes = 100

// SafeFileName makes a file name sent by a browser fit for a URL path
// segment and a Content-Disposition header: no directories, no control or
// path characters, no leading dot, at most maxNameBytes bytes, and never
// empty. Letters of any script stay.
func SafeFileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	var b strings.Builder
	dash := false
	for _, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_'
		if r == utf8.RuneError || !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxNameBytes {
			break
		}
		b.WriteRune(r)
		dash = false
	}
	out := strings.Trim(b.String(), ".-")
	if out == "" {
		return "file"
	}
	return out
}

// newAttachmentID is a random id of 26 characters (130 bits): the URL of
// an attachment is its only name, so it cannot be guessed.
func newAttachmentID() string { return strings.ToLower(rand.Text()) }

var errAttachmentNotFound = roundtable.Errorf(roundtable.ENOTFOUND, "That file does not exist in your cohort's discussion.")

// AddAttachment records a file the viewer uploaded into their space (its
// bytes already in the blob store), with a new id and the time.
func (s *Store) AddAttachment(ctx context.Context, v Viewer, a Attachment) (Attachment, error) {
	a.ID, a.SpaceID, a.UploaderID, a.CreatedAt = newAttachmentID(), v.SpaceID, v.UserID, s.now()
	a.Name = SafeFileName(a.Name)
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO attachments (org_id, id, space_id, cohort_id, uploader_id, blob_key, content_type, size, name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, a.ID, a.SpaceID, v.CohortID, a.UploaderID, a.BlobKey, a.ContentType, a.Size, a.Name, a.CreatedAt).Error
	})
	return a, err
}

// Attachment is the file id in the viewer's space; one of another space,
// cohort, course or organisation is not found, as one that never was.
func (s *Store) Attachment(ctx context.Context, v Viewer, id string) (Attachment, error) {
	var rows []struct {
		ID, SpaceID, UploaderID, BlobKey, ContentType, Name, PostID string
		Size                                                        int64
		CreatedAt                                                   time.Time
	}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, space_id, uploader_id, blob_key, content_type, name, post_id, size, created_at
			FROM attachments WHERE org_id = ? AND space_id = ? AND id = ?`, v.OrgID, v.SpaceID, id).Scan(&rows).Error
	})
	if err != nil {
		return Attachment{}, err
	}
	if len(rows) == 0 {
		return Attachment{}, errAttachmentNotFound
	}
	r := rows[0]
	return Attachment{ID: r.ID, SpaceID: r.SpaceID, UploaderID: r.UploaderID, BlobKey: r.BlobKey, ContentType: r.ContentType,
		Name: r.Name, PostID: r.PostID, Size: r.Size, CreatedAt: r.CreatedAt}, nil
}

// attachmentRef finds the attachments a post's text names (see Path).
var attachmentRef = regexp.MustCompile(`/files/([a-z2-7]{26})/`)

// linkAttachments notes, on the files of the viewer's space that body
// names and no post claimed yet, that they ended up in post postID: a
// file no post names is one its uploader never used.
func linkAttachments(tx *gorm.DB, v Viewer, postID, body string) error {
	if !strings.Contains(body, "/files/") {
		return nil
	}
	var ids []string
	for _, m := range attachmentRef.FindAllStringSubmatch(body, 50) {
		ids = append(ids, m[1])
	}
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec(`UPDATE attachments SET post_id = ? WHERE org_id = ? AND space_id = ? AND post_id = '' AND id IN ?`,
		postID, v.OrgID, v.SpaceID, ids).Error
}

// UploadedSince is how many bytes the viewer uploaded in the organisation
// since a time, for their quota.
func (s *Store) UploadedSince(ctx context.Context, v Viewer, since time.Time) (int64, error) {
	var total int64
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT COALESCE(SUM(size), 0) FROM attachments WHERE org_id = ? AND uploader_id = ? AND created_at >= ?`,
			v.OrgID, v.UserID, since.UTC()).Row().Scan(&total)
	})
	return total, err
}

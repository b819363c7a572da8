package discussion_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestAttachmentStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, zoe := viewer("alice", "A", false), viewer("bob", "A", false), viewer("zoe", "B", false)
		a, err := s.AddAttachment(ctx, alice, discussion.Attachment{BlobKey: "k1", ContentType: "image/png", Size: 1000, Name: "../My photo.png"})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.ID) != 26 || a.Name != "My-photo.png" || a.Path() != "/files/"+a.ID+"/My-photo.png" {
			t.Errorf("attachment = %+v", a)
		}
		got, err := s.Attachment(ctx, bob, a.ID)
		if err != nil || got.BlobKey != "k1" || got.ContentType != "image/png" || got.Size != 1000 || got.UploaderID != "alice" {
			t.Errorf("read by a cohort member = %+v, %v", got, err)
		}
		// Another cohort's space, another organisation: not found, as a file that never was.
		other := alice
		other.OrgID = "p2"
		for _, v := range []discussion.Viewer{zoe, other} {
			if _, err := s.Attachment(ctx, v, a.ID); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
				t.Errorf("read from %s/%s: %v", v.OrgID, v.SpaceID, err)
			}
		}
		if _, err := s.AddAttachment(ctx, alice, discussion.Attachment{BlobKey: "k2", ContentType: "application/pdf", Size: 500, Name: "notes.pdf"}); err != nil {
			t.Fatal(err)
		}
		// The first post that names the file claims it; another space's
		// post naming it claims nothing.
		if _, err := s.CreateThread(ctx, zoe, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Borrowed", Body: a.Markdown()}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Attachment(ctx, alice, a.ID); got.PostID != "" {
			t.Errorf("another cohort's post claimed the file: %q", got.PostID)
		}
		th, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "My photo", Body: "Look:\n\n" + a.Markdown()})
		if err != nil {
			t.Fatal(err)
		}
		tv, err := s.ThreadPage(ctx, alice, th, discussion.ReplyPage{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Attachment(ctx, alice, a.ID); got.PostID == "" || got.PostID != tv.OpeningPostID {
			t.Errorf("the file ended up in post %q, want %q", got.PostID, tv.OpeningPostID)
		}
		if _, err := s.Reply(ctx, bob, th, discussion.ReplyInput{Body: "Again: " + a.Markdown()}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Attachment(ctx, alice, a.ID); got.PostID != tv.OpeningPostID {
			t.Errorf("a later post took the file: %q", got.PostID)
		}
		if n, err := s.UploadedSince(ctx, alice, time.Now().Add(-time.Hour)); err != nil || n != 1500 {
			t.Errorf("uploaded = %d, %v", n, err)
		}
		if n, err := s.UploadedSince(ctx, alice, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("uploaded since later = %d, %v", n, err)
		}
	})
}

func TestAttachmentMarkdown(t *testing.T) {
	img := discussion.Attachment{ID: "abc", ContentType: "image/png", Name: "a_b[1].png"}
	if got, want := img.Markdown(), `![a\_b\[1\].png](/files/abc/a_b[1].png)`; got != want {
		t.Errorf("image = %s, want %s", got, want)
	}
	doc := discussion.Attachment{ID: "abc", ContentType: "application/pdf", Name: "notes.pdf"}
	if got, want := doc.Markdown(), `[notes.pdf](/files/abc/notes.pdf)`; got != want {
		t.Errorf("file = %s, want %s", got, want)
	}
}

// onePixelPNG is a 1×1 PNG.
var onePixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

func TestFileTypeFromContent(t *testing.T) {
	for _, tc := range []struct {
		name string
		head []byte
		want string // "" refused
	}{
		{"png", onePixelPNG, "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"pdf", []byte("%PDF-1.7\n%..."), "application/pdf"},
		{"text", []byte("Some notes.\nLine two."), "text/plain; charset=utf-8"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"svg with prolog", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), ""},
		{"html", []byte(`<!DOCTYPE html><html><script>alert(1)</script></html>`), ""},
		{"html fragment", []byte(`<script>alert(1)</script>`), ""},
		{"executable", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), ""},
		{"binary", []byte{0, 1, 2, 3, 4, 5, 0xff, 0xfe}, ""},
	} {
		got, err := discussion.FileType(tc.head)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if err != nil && roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Errorf("%s: code %s", tc.name, roundtable.ErrorCode(err))
		}
	}
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.png":                  "photo.png",
		"../../etc/passwd":           "passwd",
		`C:\Users\me\Désolé été.jpg`: "Désolé-été.jpg",
		".htaccess":                  "htaccess",
		"":                           "file",
		"...":                        "file",
		"a/b/":                       "b",
		"x\r\nSet-Cookie: y.txt":     "x-Set-Cookie-y.txt",
		"résumé (final).pdf":         "résumé-final-.pdf",
		"\"quoted\";.png":            "quoted-.png",
		strings.Repeat("a", 300):     strings.Repeat("a", 100),
	} {
		if got := discussion.SafeFileName(in); got != want {
			t.Errorf("SafeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeFileName(f *testing.F) {
	for _, s := range []string{"photo.png", "../x", "a\x00b", "é/è", "\xff\xfe.png", " . "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := discussion.SafeFileName(in)
		if out == "" || len(out) > 100 || !utf8.ValidString(out) {
			t.Fatalf("SafeFileName(%q) = %q", in, out)
		}
		if strings.ContainsAny(out, "/\\\"';?#%&<>\r\n\t ") || strings.HasPrefix(out, ".") || out == ".." {
			t.Fatalf("SafeFileName(%q) = %q: unsafe characters", in, out)
		}
		if discussion.SafeFileName(out) != out {
			t.Fatalf("SafeFileName not stable on %q", out)
		}
	})
}

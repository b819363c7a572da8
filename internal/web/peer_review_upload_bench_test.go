package web_test

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// BenchmarkPeerReviewUpload measures what the server allocates to take a
// learner's work with one large file through the real route
// (POST /a/:link/review/work, multipart, streamed to the blob store): the
// request is served in process, its body an io.Pipe the client writes
// into as the server reads (a PDF header, then zeros), so neither side
// holds the file. For each size it reports the bytes allocated per upload
// (runtime.MemStats.TotalAlloc, the whole process: the client's writes
// are a fixed 64 KB buffer) and the largest growth of HeapInuse seen
// during the uploads (sampled every millisecond, after a GC before each):
//
//	TEST_DATABASE_URL=... go test ./internal/web -run '^$' -bench PeerReviewUpload -benchtime 5x
//
// The target: a 50 MB upload uses under 5 MB of server memory.
func BenchmarkPeerReviewUpload(b *testing.B) {
	env := apptest.StartWith(b, store.Postgres, func(c *config.Config) { c.Uploads.PerDay = 1 << 40 })
	ines := join(b, env, apptest.Instructor)
	ines.configure(peerReviewScaleSettings())
	alice := join(b, env, apptest.Learner)
	handler := env.App.Web.Handler()
	for _, size := range []int64{1 << 10, 50 << 20} {
		b.Run(fmt.Sprintf("file-%s", sizeName(size)), func(b *testing.B) {
			var allocated, peak uint64
			for b.Loop() {
				b.StopTimer()
				alice.get(alice.activityURL("/review/work"))
				action := alice.page.Find("[data-testid=work-form]").AttrOr("action", "")
				u, err := url.Parse(alice.abs(action))
				if action == "" || err != nil {
					b.Fatalf("no work form: %v\n%.2000s", err, alice.res.Body)
				}
				cookies := alice.b.Cookies(alice.res.URL)
				runtime.GC()
				b.StartTimer()
				a, p, rec := uploadOnce(b, handler, u.RequestURI(), cookies, size)
				if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "/review") {
					b.Fatalf("upload of %d bytes: %d %s %.1000s", size, rec.Code, rec.Header().Get("Location"), rec.Body.String())
				}
				allocated += a
				peak = max(peak, p)
			}
			var n int64
			var kept int64
			env.DB.Raw(`SELECT COUNT(*), COALESCE(MAX(size), 0) FROM pr_files WHERE size = ?`, size).Row().Scan(&n, &kept)
			if n == 0 || kept != size {
				b.Fatalf("no file of %d bytes kept (%d files, largest %d)", size, n, kept)
			}
			b.SetBytes(size)
			b.ReportMetric(float64(allocated)/float64(b.N), "alloc-B/upload")
			b.ReportMetric(float64(peak), "peak-heap-growth-B")
		})
	}
}

func sizeName(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMB", n>>20)
	}
	return fmt.Sprintf("%dKB", n>>10)
}

// uploadOnce posts the work form with one PDF of size bytes to path, the
// body streamed from a pipe, and returns the bytes the process allocated
// meanwhile and the largest growth of HeapInuse seen.
func uploadOnce(b *testing.B, handler http.Handler, path string, cookies []*http.Cookie, size int64) (uint64, uint64, *httptest.ResponseRecorder) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("body", "My essay, with its data attached."); err != nil {
				return err
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="files"; filename="report.pdf"`)
			h.Set("Content-Type", "application/pdf")
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			head := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
			if _, err := part.Write(head); err != nil {
				return err
			}
			zeros := make([]byte, 64<<10)
			for left := size - int64(len(head)); left > 0; {
				n, err := part.Write(zeros[:min(left, int64(len(zeros)))])
				if err != nil {
					return err
				}
				left -= int64(n)
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req := httptest.NewRequest(http.MethodPost, path, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > before.HeapInuse && m.HeapInuse-before.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse - before.HeapInuse)
				}
			}
		}
	}()
	handler.ServeHTTP(rec, req)
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, peak.Load(), rec
}

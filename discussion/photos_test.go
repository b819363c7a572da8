package discussion_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
)

func TestCleanPhotoDropsMetadataAndStandsUpright(t *testing.T) {
	// A 40×20 photo a phone took held on its side (orientation 6: turn it
	// a quarter clockwise), with where it was taken written in its EXIF.
	photo := discussiontest.PhotoWithEXIF(t, 40, 20, 6, "GPS 48.8584 N 2.2945 E")
	out, err := discussion.CleanPhoto(bytes.NewReader(photo), "holiday.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Exif", "GPS", "48.8584"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the photo written again still holds %q", secret)
		}
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 20 || cfg.Height != 40 {
		t.Errorf("the photo is %d×%d, want 20×40 (upright)", cfg.Width, cfg.Height)
	}
}

func TestCleanPhotoRefusesWhatItCannotHold(t *testing.T) {
	// A header that claims 10,000×10,000 pixels, in a few hundred bytes.
	huge := discussiontest.PhotoWithEXIF(t, 8, 8, 1, "")
	if i := bytes.Index(huge, []byte{0xFF, 0xC0}); i < 0 {
		t.Fatal("no SOF0 in the test photo")
	} else {
		binary.BigEndian.PutUint16(huge[i+5:], 10000)
		binary.BigEndian.PutUint16(huge[i+7:], 10000)
	}
	if _, err := discussion.CleanPhoto(bytes.NewReader(huge), "huge.jpg"); roundtable.ErrorCode(err) != roundtable.ETOOLARGE {
		t.Errorf("a 100-megapixel photo: %v", err)
	}
	if _, err := discussion.CleanPhoto(bytes.NewReader([]byte("\xFF\xD8\xFF\xE0not a jpeg")), "bad.jpg"); roundtable.ErrorCode(err) != roundtable.EINVALID {
		t.Errorf("a broken JPEG: %v", err)
	}
}

func FuzzCleanPhoto(f *testing.F) {
	var small bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.White)
	if err := jpeg.Encode(&small, img, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Add([]byte("\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00II*\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := discussion.CleanPhoto(bytes.NewReader(data), "f.jpg")
		if err != nil {
			return
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(out)); err != nil {
			t.Fatalf("a photo written again does not read back: %v", err)
		}
	})
}

package discussion

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"github.com/disintegration/imaging"

	"github.com/roundtable-lms/roundtable"
)

// Photos. A phone's JPEG carries metadata (EXIF, XMP, IPTC): where it was
// taken, when, with which device, sometimes the owner's name. Shown to the
// cohort, it would tell classmates where an anonymous poster lives. So a
// JPEG is decoded and written again, turned upright as its EXIF says it is
// held, with none of its metadata.

// MaxPhotoPixels bounds the pixels of a JPEG written again: its decoded
// image is held in memory (4 bytes a pixel), whatever its compressed size.
const MaxPhotoPixels = 40_000_000

// photoTurns bounds how many photos are decoded at once in a process: each
// may hold a few hundred MB while it is written again.
var photoTurns = make(chan struct{}, 2)

// CleanPhoto returns a JPEG's image without its metadata, upright, or an
// error a person understands when it is not one Roundtable can read.
func CleanPhoto(r io.Reader, name string) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, roundtable.Errorf(roundtable.EINVALID, "%s is not a JPEG image Roundtable can read.", name)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, roundtable.Errorf(roundtable.ETOOLARGE, "%s has %d×%d pixels; an image may have at most %d million.", name, cfg.Width, cfg.Height, MaxPhotoPixels/1_000_000)
	}
	photoTurns <- struct{}{}
	defer func() { <-photoTurns }()
	img, err := imaging.Decode(bytes.NewReader(buf.Bytes()), imaging.AutoOrientation(true))
	if err != nil {
		return nil, roundtable.Errorf(roundtable.EINVALID, "%s is not a JPEG image Roundtable can read.", name)
	}
	return encodeJPEG(img)
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 88}); err != nil {
		return nil, fmt.Errorf("write a photo again: %w", err)
	}
	return out.Bytes(), nil
}

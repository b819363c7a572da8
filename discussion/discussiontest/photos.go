package discussiontest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// PhotoWithEXIF is a w×h JPEG as a camera writes one: an EXIF block right
// after its start, holding its orientation (1 to 8) and, when note is not
// empty, that text as the image's description.
func PhotoWithEXIF(t testing.TB, w, h int, orientation uint16, note string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 5), 128, 255})
		}
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, nil); err != nil {
		t.Fatal(err)
	}
	// TIFF, little-endian: the header, then one IFD of one or two entries.
	le := binary.LittleEndian
	entries := 1
	if note != "" {
		entries = 2
	}
	var tiff bytes.Buffer
	tiff.Write([]byte("II*\x00"))
	binary.Write(&tiff, le, uint32(8))
	binary.Write(&tiff, le, uint16(entries))
	// Orientation (0x0112), SHORT, 1 value, held in the entry.
	binary.Write(&tiff, le, uint16(0x0112))
	binary.Write(&tiff, le, uint16(3))
	binary.Write(&tiff, le, uint32(1))
	binary.Write(&tiff, le, uint16(orientation))
	binary.Write(&tiff, le, uint16(0))
	if note != "" {
		// ImageDescription (0x010E), ASCII, after the IFD.
		text := append([]byte(note), 0)
		binary.Write(&tiff, le, uint16(0x010E))
		binary.Write(&tiff, le, uint16(2))
		binary.Write(&tiff, le, uint32(len(text)))
		binary.Write(&tiff, le, uint32(8+2+entries*12+4))
		binary.Write(&tiff, le, uint32(0))
		tiff.Write(text)
	} else {
		binary.Write(&tiff, le, uint32(0))
	}
	app1 := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(plain.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(app1)+2))
	out.Write(app1)
	out.Write(plain.Bytes()[2:])
	return out.Bytes()
}

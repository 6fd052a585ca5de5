package finetune

import (
	"bytes"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// canvas is an SVG or PNG drawing surface.
type canvas struct {
	canvas vg.CanvasSizer
	bytes  func() ([]byte, error)
}

func newCanvas(ext string, w, h vg.Length) (*canvas, error) {
	if ext == ".svg" {
		c := vgsvg.New(w, h)
		return &canvas{canvas: c, bytes: func() ([]byte, error) {
			var b bytes.Buffer
			_, err := c.WriteTo(&b)
			return b.Bytes(), err
		}}, nil
	}
	c := vgimg.New(w, h)
	return &canvas{canvas: c, bytes: func() ([]byte, error) {
		var b bytes.Buffer
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(&b)
		return b.Bytes(), err
	}}, nil
}

package cpu

// ImageDecoder (opset 20): JPEG, PNG, BMP, TIFF, WebP, GIF and PNM to an
// (H, W, C) uint8 tensor. JPEG and lossy WebP keep their chroma planes from
// the Go decoders and are upsampled and converted here the way libjpeg-turbo
// and libwebp do by default ("fancy" upsampling), which the ONNX test data
// (decoded with Pillow) follows. JPEG 2000 is not supported.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF with image.Decode
	"image/jpeg"
	_ "image/png" // registers PNG with image.Decode

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	_ "golang.org/x/image/bmp"  // registers BMP with image.Decode
	_ "golang.org/x/image/tiff" // registers TIFF with image.Decode
	"golang.org/x/image/webp"
)

func init() { reg("ImageDecoder", 20, prepImageDecoder) }

// mxErrUndecodable marks data no decoder accepts; the op then returns an
// empty image as the spec asks.
var mxErrUndecodable = errors.New("undecodable image")

func prepImageDecoder(s *backends.OpSpec) (kernelFunc, error) {
	format := s.Attrs.Str("pixel_format", "RGB")
	if format != "RGB" && format != "BGR" && format != "Grayscale" {
		return nil, fmt.Errorf("ImageDecoder: %w: pixel_format %q", errAttr, format)
	}
	if t := inputType(s.InputTypes, 0); t != ir.Uint8 {
		return nil, fmt.Errorf("ImageDecoder: %w: input 0 is %v, want uint8", errDType, t)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("ImageDecoder: %w", err)
		}
		data := in[0].Data.([]uint8)
		rgb, w, h, err := mxDecodeImage(data)
		ch := 3
		if format == "Grayscale" {
			ch = 1
		}
		if errors.Is(err, mxErrUndecodable) {
			return one(ir.FromSlice([]uint8{}, 0, 0, ch))
		}
		if err != nil {
			return nil, fmt.Errorf("ImageDecoder: %w", err)
		}
		switch format {
		case "BGR":
			for i := 0; i < len(rgb); i += 3 {
				rgb[i], rgb[i+2] = rgb[i+2], rgb[i]
			}
		case "Grayscale":
			gray := make([]uint8, w*h)
			for i := range gray {
				r, g, b := uint32(rgb[3*i]), uint32(rgb[3*i+1]), uint32(rgb[3*i+2])
				gray[i] = uint8((r*19595 + g*38470 + b*7471 + 0x8000) >> 16)
			}
			return one(ir.FromSlice(gray, h, w, 1))
		}
		return one(ir.FromSlice(rgb, h, w, 3))
	}, nil
}

// mxDecodeImage decodes data to packed RGB bytes.
func mxDecodeImage(data []byte) (rgb []uint8, w, h int, err error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		img, err := mxDecodeBaselineJPEG(data)
		if errors.Is(err, errMxJPEGUnsupported) {
			img, err = jpeg.Decode(bytes.NewReader(data))
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("%w: jpeg: %v", mxErrUndecodable, err)
		}
		if yc, ok := img.(*image.YCbCr); ok {
			rgb, w, h = mxJPEGToRGB(yc)
			return rgb, w, h, nil
		}
		rgb, w, h = mxImageToRGB(img)
		return rgb, w, h, nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		img, err := webp.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, 0, 0, fmt.Errorf("%w: webp: %v", mxErrUndecodable, err)
		}
		if yc, ok := img.(*image.YCbCr); ok {
			rgb, w, h = mxWebPToRGB(yc)
			return rgb, w, h, nil
		}
		rgb, w, h = mxImageToRGB(img)
		return rgb, w, h, nil
	case len(data) >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6':
		return mxDecodePNM(data)
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")) || bytes.HasPrefix(data, []byte{0xff, 0x4f, 0xff, 0x51}):
		return nil, 0, 0, fmt.Errorf("JPEG 2000: %w", backends.ErrNotImplemented)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", mxErrUndecodable, err)
	}
	rgb, w, h = mxImageToRGB(img)
	return rgb, w, h, nil
}

// mxImageToRGB converts any decoded image to packed RGB (alpha dropped,
// colors un-premultiplied).
func mxImageToRGB(img image.Image) ([]uint8, int, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			p := (y*w + x) * 3
			out[p], out[p+1], out[p+2] = c.R, c.G, c.B
		}
	}
	return out, w, h
}

// mxClamp8 clamps v to [0, 255].
func mxClamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

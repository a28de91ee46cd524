package show

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// ImageGrid lays out images stored as float32 in NCHW order (shape [N, C, H,
// W] with C = 1 or 3), CHW ([C, H, W]) or HW ([H, W]) as a grid with cols
// columns (0: up to 8), each image scaled by an integer factor (0: 1) and
// normalized to its own min..max. A 1-pixel gap separates the tiles.
func ImageGrid(data []float32, shape []int, cols, scale int) (*image.RGBA, error) {
	var n, c, h, w int
	switch len(shape) {
	case 2:
		n, c, h, w = 1, 1, shape[0], shape[1]
	case 3:
		n, c, h, w = 1, shape[0], shape[1], shape[2]
	case 4:
		n, c, h, w = shape[0], shape[1], shape[2], shape[3]
	default:
		return nil, fmt.Errorf("show.ImageGrid: shape %v: want [H W], [C H W] or [N C H W]", shape)
	}
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("show.ImageGrid: %d channels: want 1 or 3", c)
	}
	if n <= 0 || h <= 0 || w <= 0 || len(data) != n*c*h*w {
		return nil, fmt.Errorf("show.ImageGrid: %d values do not fit shape %v", len(data), shape)
	}
	if cols <= 0 {
		cols = min(n, 8)
	}
	if scale <= 0 {
		scale = 1
	}
	rows := (n + cols - 1) / cols
	tw, th := w*scale+1, h*scale+1
	img := image.NewRGBA(image.Rect(0, 0, cols*tw-1, rows*th-1))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	per := c * h * w
	for k := range n {
		x := data[k*per : (k+1)*per]
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range x {
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		span := hi - lo
		if span <= 0 {
			span = 1
		}
		byteOf := func(v float32) uint8 {
			f := (v - lo) / span * 255
			return uint8(math.Max(0, math.Min(255, float64(f)+0.5)))
		}
		ox, oy := (k%cols)*tw, (k/cols)*th
		for yy := range h {
			for xx := range w {
				var px color.RGBA
				if c == 1 {
					g := byteOf(x[yy*w+xx])
					px = color.RGBA{g, g, g, 255}
				} else {
					px = color.RGBA{byteOf(x[yy*w+xx]), byteOf(x[h*w+yy*w+xx]), byteOf(x[2*h*w+yy*w+xx]), 255}
				}
				for sy := range scale {
					for sx := range scale {
						img.SetRGBA(ox+xx*scale+sx, oy+yy*scale+sy, px)
					}
				}
			}
		}
	}
	return img, nil
}

// Images displays ImageGrid(data, shape, cols, scale) as a PNG.
func Images(data []float32, shape []int, cols, scale int) error {
	img, err := ImageGrid(data, shape, cols, scale)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	if !notebook() {
		textf("[image grid %v: %dx%d pixels]\n", shape, img.Bounds().Dx(), img.Bounds().Dy())
		return nil
	}
	rich.png(buf.Bytes())
	return nil
}

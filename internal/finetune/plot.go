package finetune

import (
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/keenml/keen/internal/fsutil"
)

// Plot draws the training loss per step and the test accuracy after each
// epoch, one above the other, to path (.svg or .png), written atomically.
func Plot(path string, res *Result) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return fmt.Errorf("finetune: plot %s: want a .svg or .png file", path)
	}
	loss := plot.New()
	loss.Title.Text = "training loss"
	loss.X.Label.Text = "step"
	pts := make(plotter.XYs, len(res.Losses))
	for i, l := range res.Losses {
		pts[i] = plotter.XY{X: float64(i + 1), Y: l}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("finetune: plot: %w", err)
	}
	loss.Add(line, plotter.NewGrid())
	acc := plot.New()
	acc.Title.Text = "test accuracy"
	acc.X.Label.Text = "epoch"
	apts := plotter.XYs{{X: 0, Y: res.AccBefore}}
	for e, a := range res.EpochAcc {
		apts = append(apts, plotter.XY{X: float64(e + 1), Y: a})
	}
	aline, points, err := plotter.NewLinePoints(apts)
	if err != nil {
		return fmt.Errorf("finetune: plot: %w", err)
	}
	acc.Add(aline, points, plotter.NewGrid())
	acc.Y.Min, acc.Y.Max = 0, 1
	const w, h = 8 * vg.Inch, 6 * vg.Inch
	img, err := newCanvas(ext, w, h)
	if err != nil {
		return err
	}
	dc := draw.New(img.canvas)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{loss}, {acc}}
	canvases := plot.Align(plots, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[1][0])
	data, err := img.bytes()
	if err != nil {
		return fmt.Errorf("finetune: plot: %w", err)
	}
	return fsutil.WriteFileAtomic(path, data)
}

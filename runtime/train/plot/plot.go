// Package plot draws a training run's history (loss and accuracy per
// epoch, training and test) as a PNG, with gonum.org/v1/plot. It is a
// package of its own so that only training programs link the plotting
// library, not every generated model.
package plot

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Point is one epoch of a run. Test figures are NaN when the test set was
// not evaluated after that epoch.
type Point struct {
	Epoch                  int
	Loss, Accuracy         float64
	TestLoss, TestAccuracy float64
}

var (
	trainColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	testColor  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
)

// WritePNG draws loss (left) and accuracy (right) against the epoch and
// writes the PNG to w.
func WritePNG(w io.Writer, title string, pts []Point) error {
	if len(pts) == 0 {
		return fmt.Errorf("plot: no epochs to draw")
	}
	loss, err := panel(title+": loss", "loss", pts, func(p Point) (float64, float64) { return p.Loss, p.TestLoss })
	if err != nil {
		return err
	}
	acc, err := panel(title+": accuracy", "accuracy", pts, func(p Point) (float64, float64) { return p.Accuracy, p.TestAccuracy })
	if err != nil {
		return err
	}
	const width, height = 10 * vg.Inch, 4 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{loss, acc}}
	canvases := plot.Align(plots, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func panel(title, ylabel string, pts []Point, get func(Point) (train, test float64)) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	var train, test plotter.XYs
	for _, pt := range pts {
		a, b := get(pt)
		train = append(train, plotter.XY{X: float64(pt.Epoch), Y: a})
		if b == b { // not NaN
			test = append(test, plotter.XY{X: float64(pt.Epoch), Y: b})
		}
	}
	if err := addLine(p, "train", train, trainColor); err != nil {
		return nil, err
	}
	if len(test) > 0 {
		if err := addLine(p, "test", test, testColor); err != nil {
			return nil, err
		}
	}
	// Loss falls and accuracy rises: keep the legend off the curves' ends.
	p.Legend.Top = ylabel == "loss"
	p.X.Tick.Marker = epochTicks{}
	return p, nil
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot: %s: %w", name, err)
	}
	l.Color, s.Color = c, c
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// epochTicks marks whole epochs only.
type epochTicks struct{}

func (epochTicks) Ticks(min, max float64) []plot.Tick {
	step := 1
	for (max-min)/float64(step) > 10 {
		step *= 2
	}
	var out []plot.Tick
	for e := int(min); float64(e) <= max; e++ {
		if e%step == 0 || float64(e) == min {
			out = append(out, plot.Tick{Value: float64(e), Label: fmt.Sprint(e)})
		}
	}
	return out
}

package finetune

import (
	"fmt"
	"math"
	"strings"
)

// SVG draws the training loss per step (left axis) and the test accuracy
// after each epoch (right axis) as a self-contained SVG document.
func SVG(res *Result) string {
	const w, h, pad = 720.0, 360.0, 50.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%g" y="20" text-anchor="middle">training loss (blue, per step) and test accuracy (orange, per epoch)</text>`+"\n", w/2)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>`, pad, h-pad, w-pad, h-pad)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>`+"\n", pad, pad, pad, h-pad)
	maxLoss := 0.0
	for _, l := range res.Losses {
		maxLoss = math.Max(maxLoss, l)
	}
	if maxLoss == 0 {
		maxLoss = 1
	}
	n := max(len(res.Losses)-1, 1)
	x := func(i int) float64 { return pad + (w-2*pad)*float64(i)/float64(n) }
	y := func(v, top float64) float64 { return h - pad - (h-2*pad)*v/top }
	var pts []string
	for i, l := range res.Losses {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(l, maxLoss)))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="1" points="%s"/>`+"\n", strings.Join(pts, " "))
	pts = pts[:0]
	epochs := len(res.EpochAcc)
	for e, a := range res.EpochAcc {
		step := (e + 1) * len(res.Losses) / max(epochs, 1)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(min(step, n)), y(a, 1)))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#ff7f0e"/><text x="%.1f" y="%.1f" fill="#ff7f0e">%.3f</text>`+"\n",
			x(min(step, n)), y(a, 1), x(min(step, n))-30, y(a, 1)-8, a)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="%s"/>`+"\n", strings.Join(pts, " "))
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%.2f</text><text x="%g" y="%g" text-anchor="end">0</text>`, pad-4, pad+4, maxLoss, pad-4, h-pad)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">step (%d in all)</text>`+"\n", w/2, h-pad+30, len(res.Losses))
	b.WriteString("</svg>\n")
	return b.String()
}

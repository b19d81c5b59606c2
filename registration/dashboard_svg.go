package registration

// Charts drawn on the server as inline SVG: pure functions from numbers to
// markup, no JavaScript. Each chart is an image with an accessible name
// (<title>) and description (<desc>, which also reads out the numbers when
// there are few); the page puts a table with the same numbers beside it.
// Colours meet WCAG 2.1 AA: text #1b1f24 on white (16:1), bars and the line
// #0b4f6c (9:1, above the 3:1 graphics need), grid lines only decorate.

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Chart colours and type.
const (
	chartInk  = "#1b1f24"
	chartMark = "#0b4f6c"
	chartGrid = "#c9d1da"
	chartAxis = "#4a5360"
	chartFont = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"`
	// chartW is the width of the drawing. The page shows a chart at most
	// 32rem wide (class narrow) and as wide as a phone, so its text (16
	// units) shows at 14-20 px.
	chartW = 400
)

// Bar is one labelled value of a bar chart.
type Bar struct {
	Label string
	Value int
}

// BarChart is a horizontal bar chart: each bar has its label above it (long
// labels fit a phone's width) and its value at its end.
type BarChart struct {
	ID    string // unique on the page: the title and description ids derive from it
	Title string
	Desc  string
	Bars  []Bar
	// Empty is said instead of bars when every value is 0 (or there are none).
	Empty string
}

// maxLabel is the longest label drawn, in characters (the table has all).
const maxLabel = 40

func esc(s string) string { return template.HTMLEscapeString(s) }

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// describe is the description with the numbers, when there are few.
func describe(desc string, bars []Bar) string {
	if len(bars) == 0 || len(bars) > 12 {
		return desc
	}
	parts := make([]string, len(bars))
	for i, b := range bars {
		parts[i] = b.Label + ": " + strconv.Itoa(b.Value)
	}
	return strings.TrimSpace(desc + " " + strings.Join(parts, "; ") + ".")
}

func svgOpen(b *strings.Builder, id, title, desc string, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" %s>`,
		chartW, height, esc(id), esc(id), chartFont)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`, chartW, height)
}

// SVG draws the chart.
func (c BarChart) SVG() template.HTML {
	const rowH, barH, labelW = 46, 16, chartW - 50
	max := 0
	for _, b := range c.Bars {
		if b.Value > max {
			max = b.Value
		}
	}
	var b strings.Builder
	if max == 0 {
		svgOpen(&b, c.ID, c.Title, strings.TrimSpace(c.Desc+" "+c.Empty), 40)
		fmt.Fprintf(&b, `<text x="0" y="26" font-size="16" fill="%s">%s</text></svg>`, chartInk, esc(c.Empty))
		return template.HTML(b.String())
	}
	height := len(c.Bars)*rowH + 4
	svgOpen(&b, c.ID, c.Title, describe(c.Desc, c.Bars), height)
	for i, bar := range c.Bars {
		y := 4 + i*rowH
		w := 0
		if bar.Value > 0 {
			w = max1(2, bar.Value*labelW/max)
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="16" fill="%s">%s</text>`, y+14, chartInk, esc(shorten(bar.Label, maxLabel)))
		fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="%s"/>`, y+21, w, barH, chartMark)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="16" font-weight="bold" fill="%s">%d</text>`, w+6, y+35, chartInk, bar.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func max1(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// LinePoint is one point of a line chart.
type LinePoint struct {
	Label string // shown under the first and the last point
	Value int
}

// LineChart is a line over evenly spaced points (days), from 0 up.
type LineChart struct {
	ID     string
	Title  string
	Desc   string
	Points []LinePoint
	Empty  string
}

// niceMax is the top of the value axis: an even number up to 10, then
// the smallest of 1, 2 and 5 × 10^k at or above max, so the middle grid
// line is a whole number.
func niceMax(max int) int {
	if max <= 2 {
		return 2
	}
	if max <= 10 {
		return max + max%2
	}
	for scale := 10; ; scale *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*scale >= max {
				return m * scale
			}
		}
	}
}

// SVG draws the chart.
func (c LineChart) SVG() template.HTML {
	const height, left, right, top, bottom = 240, 44, chartW - 16, 20, 196
	var b strings.Builder
	if len(c.Points) == 0 {
		svgOpen(&b, c.ID, c.Title, strings.TrimSpace(c.Desc+" "+c.Empty), 40)
		fmt.Fprintf(&b, `<text x="0" y="26" font-size="16" fill="%s">%s</text></svg>`, chartInk, esc(c.Empty))
		return template.HTML(b.String())
	}
	max := 0
	for _, p := range c.Points {
		if p.Value > max {
			max = p.Value
		}
	}
	yMax := niceMax(max)
	first, last := c.Points[0], c.Points[len(c.Points)-1]
	desc := strings.TrimSpace(fmt.Sprintf("%s %s: %d. %s: %d.", c.Desc, first.Label, first.Value, last.Label, last.Value))
	svgOpen(&b, c.ID, c.Title, desc, height)
	y := func(v int) float64 { return float64(bottom) - float64(v)*float64(bottom-top)/float64(yMax) }
	x := func(i int) float64 {
		if len(c.Points) == 1 {
			return float64(left+right) / 2
		}
		return float64(left) + float64(i)*float64(right-left)/float64(len(c.Points)-1)
	}
	// grid and value axis: 0, the middle and the top
	for _, v := range []int{0, yMax / 2, yMax} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1"/>`, left, y(v), right, y(v), chartGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="14" text-anchor="end" fill="%s">%d</text>`, left-6, y(v)+5, chartInk, v)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`, left, top, left, bottom, chartAxis)
	var pts []string
	for i, p := range c.Points {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="3" stroke-linejoin="round"/>`, strings.Join(pts, " "), chartMark)
	lx, ly := x(len(c.Points)-1), y(last.Value)
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s"/>`, lx, ly, chartMark)
	anchor := "end"
	if len(c.Points) == 1 {
		anchor = "middle"
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="16" font-weight="bold" text-anchor="%s" fill="%s">%d</text>`, lx, ly-10, anchor, chartInk, last.Value)
	// the first and the last day under the line
	if len(c.Points) > 1 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="start" fill="%s">%s</text>`, left, bottom+26, chartInk, esc(first.Label))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="end" fill="%s">%s</text>`, right, bottom+26, chartInk, esc(last.Label))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

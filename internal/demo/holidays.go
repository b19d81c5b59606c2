package demo

import "time"

// WorkingDay reports whether d (a date in Oslo) is a working day in
// Norway: not a Saturday or Sunday, not a public holiday (helligdag or
// 1 and 17 May), and not Christmas Eve or New Year's Eve, when offices
// close.
func WorkingDay(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	m, day := d.Month(), d.Day()
	switch {
	case m == time.January && day == 1,
		m == time.May && (day == 1 || day == 17),
		m == time.December && (day == 24 || day == 25 || day == 26 || day == 31):
		return false
	}
	easter := easterSunday(d.Year())
	for _, offset := range []int{-3, -2, 1, 39, 50} { // Maundy Thursday, Good Friday, Easter Monday, Ascension, Whit Monday
		h := easter.AddDate(0, 0, offset)
		if h.Month() == m && h.Day() == day {
			return false
		}
	}
	return true
}

// easterSunday is the date of Easter Sunday in the Gregorian calendar
// (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher").
func easterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

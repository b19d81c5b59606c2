package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/moteplass/moteplass/introductions/match"
)

// maxInput bounds what the command reads: 5,000 people fit in far less.
const maxInput = 64 << 20

// maxReported is how many input errors the command prints before it stops
// listing them.
const maxReported = 20

// matchCmd runs `moteplass match`: people as JSON (or CSV with --csv) on stdin,
// the result as indented JSON on stdout. It returns the exit status: 0 on
// success, 2 for bad flags or bad input (explained on stderr, naming the row
// and the field), 1 when the result cannot be written.
func matchCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moteplass match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Int64("seed", 1, "random seed: the same input and seed give the same groups")
	groupSize := fs.Int("group-size", 3, "preferred number of people per introduction group (2-10)")
	useCSV := fs.Bool("csv", false, "read CSV with a header row instead of JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: moteplass match [--seed N] [--group-size 3] [--csv] < people.json

Groups attendees who agreed to be introduced, and proposes network seeds.
Input: a JSON array of objects with id, name, organisation, level
(top, middle, first_line, other), role, sector (state, municipal, private,
other), region, topics (an array) and optional mix (public_only, mixed);
or, with --csv, a header row with the same column names and topics
separated by ";" or "|".

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "moteplass match: unexpected argument %q (people are read from standard input)\n", fs.Arg(0))
		return 2
	}
	if *groupSize < 2 || *groupSize > 10 {
		fmt.Fprintf(stderr, "moteplass match: --group-size must be between 2 and 10, not %d\n", *groupSize)
		return 2
	}

	data, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
	if err != nil {
		fmt.Fprintf(stderr, "moteplass match: reading standard input: %v\n", err)
		return 2
	}
	if len(data) > maxInput {
		fmt.Fprintf(stderr, "moteplass match: input is larger than %d MB\n", maxInput>>20)
		return 2
	}
	var people []match.Person
	var warnings []string
	if *useCSV {
		people, warnings, err = match.ReadCSV(data)
	} else {
		people, err = match.ReadJSON(data)
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "moteplass match: warning: %s\n", w)
	}
	if err != nil {
		reportInputError(stderr, err)
		return 2
	}

	res := match.Match(people, match.Options{Seed: *seed, GroupSize: *groupSize})
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(stderr, "moteplass match: writing the result: %v\n", err)
		return 1
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "moteplass match: writing the result: %v\n", err)
		return 1
	}
	return 0
}

// reportInputError lists the problems ReadJSON or ReadCSV found, at most
// maxReported of them.
func reportInputError(w io.Writer, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for i, e := range errs {
		if i == maxReported {
			fmt.Fprintf(w, "moteplass match: ... and %d more problems\n", len(errs)-maxReported)
			break
		}
		fmt.Fprintf(w, "moteplass match: %v\n", e)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/introductions/match"
)

// runCLI runs the command on input and returns its exit status and output.
func runCLI(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = matchCmd(args, strings.NewReader(input), &out, &errOut)
	return code, out.String(), errOut.String()
}

// readTestdata reads one of the matching's example inputs: package match reads
// the same files and checks the properties of their results.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../introductions/match/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeOutput checks the shape of the JSON the command writes.
func decodeOutput(t *testing.T, stdout string) match.Result {
	t.Helper()
	var shape map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &shape); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, stdout)
	}
	for _, key := range []string{"introductions", "network_seeds", "unplaced"} {
		if raw, ok := shape[key]; !ok || string(raw) == "null" {
			t.Errorf("output has no %q array: %s", key, stdout)
		}
	}
	if len(shape) != 3 {
		t.Errorf("output has %d keys, want 3", len(shape))
	}
	if !strings.Contains(stdout, "\n  \"introductions\": [") {
		t.Errorf("output is not indented:\n%s", stdout)
	}
	var res match.Result
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("output does not decode into Result: %v", err)
	}
	return res
}

func TestMatchCmdGoodInput(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		args     []string
		people   int
		warnings string
	}{
		{name: "JSON", file: "people.json", args: []string{"--seed", "7"}, people: 8},
		{name: "CSV", file: "people.csv", args: []string{"--csv", "--seed", "7"}, people: 8},
		{name: "CSV from Excel with semicolons, a byte order mark and an extra column", file: "excel_semicolon.csv",
			args: []string{"--csv"}, people: 3, warnings: `ignoring unknown CSV column "navn"`},
		{name: "group size 2", file: "people.json", args: []string{"--group-size", "2"}, people: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := readTestdata(t, tt.file)
			code, stdout, stderr := runCLI(t, input, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if tt.warnings == "" && stderr != "" || !strings.Contains(stderr, tt.warnings) {
				t.Errorf("stderr = %q, want %q", stderr, tt.warnings)
			}
			res := decodeOutput(t, stdout)

			var people []match.Person
			var err error
			if slices.Contains(tt.args, "--csv") {
				people, _, err = match.ReadCSV([]byte(input))
			} else {
				people, err = match.ReadJSON([]byte(input))
			}
			if err != nil || len(people) != tt.people {
				t.Fatalf("read %d people, err %v; want %d", len(people), err, tt.people)
			}
			opt := match.Options{Seed: 1}
			for i, a := range tt.args {
				if a == "--seed" {
					fmt.Sscan(tt.args[i+1], &opt.Seed)
				}
				if a == "--group-size" {
					fmt.Sscan(tt.args[i+1], &opt.GroupSize)
				}
			}
			// TestReadGoodInput in package match checks this result's properties.
			if want := match.Match(people, opt); !reflect.DeepEqual(res, want) {
				t.Errorf("output differs from Match:\n got %+v\nwant %+v", res, want)
			}

			_, again, _ := runCLI(t, input, tt.args...)
			if again != stdout {
				t.Errorf("a second run with the same seed wrote different output")
			}
		})
	}
}

func TestMatchCmdEmptyArray(t *testing.T) {
	code, stdout, stderr := runCLI(t, "[]")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if res := decodeOutput(t, stdout); len(res.Introductions)+len(res.NetworkSeeds)+len(res.Unplaced) != 0 {
		t.Errorf("result = %+v, want empty", res)
	}
}

func TestMatchCmdBadInput(t *testing.T) {
	const good = `{"id": "a", "organisation": "NAV", "level": "middle"}`
	tests := []struct {
		name  string
		args  []string
		input string
		want  []string // all must appear on stderr
		code  int      // 0 means 2
	}{
		{name: "invalid JSON", input: "[\n" + `{"id": "a",}` + "\n]", want: []string{"not valid JSON at line 2, column 12"}},
		{name: "not an array", input: good, want: []string{"expected a JSON array of people, found object"}},
		{name: "empty input", input: "  ", want: []string{"no input"}},
		{name: "cut short", input: "[" + good, want: []string{"ends too early"}},
		{name: "more after the array", input: "[] {}", want: []string{"more after the JSON array"}},
		{name: "row is not an object", input: "[" + good + `, "b"]`, want: []string{"row 2: expected an object, found string"}},
		{name: "missing id", input: "[" + good + `, {"organisation": "UiB", "level": "top"}]`, want: []string{`row 2, field "id": missing`}},
		{name: "blank id", input: `[{"id": "  ", "organisation": "UiB", "level": "top"}]`, want: []string{`row 1, field "id": missing`}},
		{name: "missing organisation", input: `[{"id": "a", "level": "top"}]`, want: []string{`row 1, field "organisation": missing`}},
		{name: "missing level", input: `[{"id": "a", "organisation": "NAV"}]`, want: []string{`row 1, field "level": missing`}},
		{name: "unknown level", input: `[{"id": "a", "organisation": "NAV", "level": "boss"}]`,
			want: []string{`row 1, field "level": unknown value "boss" (use top, middle, first_line or other)`}},
		{name: "unknown sector", input: "[" + good + `, {"id": "b", "organisation": "X", "level": "top", "sector": "public"}]`,
			want: []string{`row 2, field "sector": unknown value "public"`}},
		{name: "unknown mix", input: `[{"id": "a", "organisation": "NAV", "level": "top", "mix": "private_only"}]`,
			want: []string{`row 1, field "mix": unknown value "private_only"`}},
		{name: "duplicate id", input: "[" + good + `, {"id": "b", "organisation": "X", "level": "top"}, {"id": " a ", "organisation": "Y", "level": "top"}]`,
			want: []string{`row 3, field "id": duplicate id "a" (first in row 1)`}},
		{name: "topics as a string", input: `[{"id": "a", "organisation": "NAV", "level": "top", "topics": "x;y"}]`,
			want: []string{`row 1, field "topics": expected an array of strings, found string`}},
		{name: "topics with a number", input: `[{"id": "a", "organisation": "NAV", "level": "top", "topics": ["x", 2]}]`,
			want: []string{`row 1, field "topics": expected an array of strings, found number`}},
		{name: "level as a number", input: `[{"id": "a", "organisation": "NAV", "level": 1}]`,
			want: []string{`row 1, field "level": expected a string, found number`}},
		{name: "misspelt field", input: `[{"id": "a", "organization": "NAV", "level": "top"}]`,
			want: []string{`row 1, field "organization": unknown field`}},
		{name: "every problem is listed", input: `[{"id": "a"}, {"organisation": "X", "level": "top", "sector": "?"}]`,
			want: []string{`row 1, field "organisation": missing`, `row 1, field "level": missing`, `row 2, field "id": missing`, `row 2, field "sector": unknown value "?"`}},

		{name: "CSV without an organisation column", args: []string{"--csv"}, input: "id,name,level\na,Kari,top\n",
			want: []string{`field "organisation": the CSV header has no "organisation" column (found: id, name, level)`}},
		{name: "CSV without id and level columns", args: []string{"--csv"}, input: "name,organisation\nKari,NAV\n",
			want: []string{`field "id": the CSV header has no "id" column`, `field "level": the CSV header has no "level" column`}},
		{name: "CSV with a column twice", args: []string{"--csv"}, input: "id,organisation,level,id\n",
			want: []string{`field "id": the CSV header has this column twice`}},
		{name: "CSV unknown level", args: []string{"--csv"}, input: "id,organisation,level\na,NAV,top\nb,UiB,sjef\n",
			want: []string{`row 2 (line 3), field "level": unknown value "sjef"`}},
		{name: "CSV missing organisation value", args: []string{"--csv"}, input: "id,organisation,level\na,,top\n",
			want: []string{`row 1 (line 2), field "organisation": missing`}},
		{name: "CSV short row", args: []string{"--csv"}, input: "id,organisation,level\na,NAV\n",
			want: []string{`row 1 (line 2), field "level": missing`}},
		{name: "CSV duplicate id", args: []string{"--csv"}, input: "id,organisation,level\na,NAV,top\nb,UiB,top\na,UiO,top\n",
			want: []string{`row 3 (line 4), field "id": duplicate id "a" (first in row 1)`}},
		{name: "CSV broken quotes", args: []string{"--csv"}, input: "id,organisation,level\na,NAV,top\nb,\"UiB,top\n",
			want: []string{"row 2 (line 3): the CSV row cannot be read"}},
		{name: "CSV empty", args: []string{"--csv"}, input: "", want: []string{"no input: expected a CSV header row"}},
		{name: "JSON given to --csv", args: []string{"--csv"}, input: "[" + good + "]", want: []string{"the CSV header cannot be read"}},

		{name: "group size too small", args: []string{"--group-size", "1"}, input: "[]", want: []string{"--group-size must be between 2 and 10, not 1"}},
		{name: "unknown flag", args: []string{"--size", "3"}, input: "[]", want: []string{"flag provided but not defined: -size", "Usage: moteplass match"}},
		{name: "seed not a number", args: []string{"--seed", "x"}, input: "[]", want: []string{`invalid value "x" for flag -seed`}},
		{name: "file argument", args: []string{"people.json"}, input: "[]", want: []string{`unexpected argument "people.json"`}},
		{name: "help", args: []string{"-h"}, input: "[]", want: []string{"Usage: moteplass match", "-group-size"}, code: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.input, tt.args...)
			wantCode := 2
			if tt.code == -1 {
				wantCode = 0
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestMatchCmdListsAtMostTwentyProblems(t *testing.T) {
	rows := make([]string, 25)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"id": "p%d", "organisation": "X", "level": "boss"}`, i)
	}
	code, _, stderr := runCLI(t, "["+strings.Join(rows, ",")+"]")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if got := strings.Count(stderr, "unknown value"); got != maxReported {
		t.Errorf("%d problems listed, want %d", got, maxReported)
	}
	if !strings.Contains(stderr, "... and 5 more problems") {
		t.Errorf("stderr does not count the rest:\n%s", stderr)
	}
}

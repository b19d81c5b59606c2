package match

import (
	"os"
	"reflect"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadGoodInput reads the examples "moteplass match" is tested with and
// checks every property of the result it prints (the command's own tests
// check that it prints exactly Match's result).
func TestReadGoodInput(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		csv      bool
		opt      Options
		people   int
		warnings []string
	}{
		{name: "JSON", file: "people.json", opt: Options{Seed: 7}, people: 8},
		{name: "CSV", file: "people.csv", csv: true, opt: Options{Seed: 7}, people: 8},
		{name: "CSV from Excel with semicolons, a byte order mark and an extra column", file: "excel_semicolon.csv", csv: true,
			opt: Options{Seed: 1}, people: 3, warnings: []string{`ignoring unknown CSV column "navn"`}},
		{name: "group size 2", file: "people.json", opt: Options{Seed: 1, GroupSize: 2}, people: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := []byte(readTestdata(t, tt.file))
			var people []Person
			var warnings []string
			var err error
			if tt.csv {
				people, warnings, err = ReadCSV(input)
			} else {
				people, err = ReadJSON(input)
			}
			if err != nil || len(people) != tt.people {
				t.Fatalf("read %d people, err %v; want %d", len(people), err, tt.people)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			checkResult(t, people, tt.opt, Match(people, tt.opt))
		})
	}
}

func TestReadsTheSameFromJSONAndCSV(t *testing.T) {
	fromJSON, err := ReadJSON([]byte(readTestdata(t, "people.json")))
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, _, err := ReadCSV([]byte(readTestdata(t, "people.csv")))
	if err != nil {
		t.Fatal(err)
	}
	// The CSV differs on purpose in two topic lists, to test both separators.
	if got, want := fromCSV[2].Topics, []string{"omstilling", "ki i forvaltningen"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 3 topics = %q, want %q", got, want)
	}
	if got, want := fromCSV[7].Topics, []string{"Klarspråk", "omstilling"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 8 topics = %q, want %q", got, want)
	}
	for i := range fromJSON {
		fromCSV[i].Topics, fromJSON[i].Topics = nil, nil
	}
	if !reflect.DeepEqual(fromJSON, fromCSV) {
		t.Errorf("JSON and CSV give different people:\n%+v\n%+v", fromJSON, fromCSV)
	}
	if fromJSON[1].Mix != "public_only" || fromJSON[0].Mix != "" {
		t.Errorf("mix not read: %+v", fromJSON[:2])
	}
}

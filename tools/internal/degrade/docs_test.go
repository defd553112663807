package degrade

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// docRow is how docs/MODEL.md lists one parameter of the training recipes.
func docRow(task string, r Range) string {
	return fmt.Sprintf("| %s | `%s` | %s – %s | %s |", task, r.Name, num(r.Min), num(r.Max), r.Doc)
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// The parameters and their ranges are documented in docs/MODEL.md; this keeps
// the page in step with the code (a changed range fails here until the row is
// rewritten).
func TestRangesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/MODEL.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(doc), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	check := func(task string, r Range) {
		if row := docRow(task, r); !lines[row] {
			t.Errorf("docs/MODEL.md lacks the row\n%s", row)
		}
	}
	for _, tk := range Tasks {
		if len(ranges[tk]) == 0 {
			t.Errorf("task %s has no documented parameters", tk)
		}
		for _, r := range ranges[tk] {
			check(string(tk), r)
		}
	}
	for _, r := range extraRanges {
		check("every task", r)
	}
}

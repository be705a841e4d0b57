package datasets_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/icpengine/icp/datasets"
)

func ExampleRead() {
	// A semicolon-separated export with a byte order mark, a decimal comma,
	// a blank numeric cell and region "NA" (North America).
	in := "\uFEFFaccount;region;revenue;close_date;churned\r\n" +
		"A-1;NA;1.200,50;2024-01-02;false\r\n" +
		"A-2;EMEA; ;01/15/2024;\r\n"
	t, err := datasets.Read(strings.NewReader(in), "export.csv", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range t.Columns {
		fmt.Printf("%s %s", c.Name, c.Kind)
		if c.Kind == datasets.String {
			fmt.Printf(" %q\n", c.Str)
		} else {
			fmt.Printf(" %v\n", c.Num)
		}
	}
	fmt.Println("lines", t.Lines)
	// Output:
	// account string ["A-1" "A-2"]
	// region string ["NA" "EMEA"]
	// revenue number [1200.5 NaN]
	// close_date date [19724 19737]
	// churned bool [0 NaN]
	// lines [2 3]
}

func ExampleRead_error() {
	_, err := datasets.Read(strings.NewReader("id,employees\nA-1,10\nA-2\n"), "accounts.csv", nil)
	fmt.Println(err)
	// Output:
	// accounts.csv: line 3, column 2 "employees": wrong number of fields: expected 2 fields, got 1
}

func ExampleParseNumber() {
	for _, s := range []string{"$1,200,000", "1 200", "12.5%", "(1,234)", "€3.4", "NaN"} {
		v, err := datasets.ParseNumber(s)
		fmt.Println(s, v, err)
	}
	// Output:
	// $1,200,000 1.2e+06 <nil>
	// 1 200 1200 <nil>
	// 12.5% 12.5 <nil>
	// (1,234) -1234 <nil>
	// €3.4 3.4 <nil>
	// NaN 0 not a number: "NaN"
}

func ExampleParseDate() {
	for _, s := range []string{"2024-01-02", "01/02/2024", "2024-01-02 18:00"} {
		v, _ := datasets.ParseDate(s)
		fmt.Println(s, v)
	}
	// Output:
	// 2024-01-02 19724
	// 01/02/2024 19724
	// 2024-01-02 18:00 19724.75
}

func ExampleWriteCSV() {
	t := &datasets.Table{Columns: []*datasets.Column{
		{Name: "id", Kind: datasets.String, Str: []string{"A-1", "A-2"}},
		{Name: "employees", Kind: datasets.Number, Num: []float64{120, 0.5}},
		{Name: "close_date", Kind: datasets.Date, Num: []float64{19724, 19724.5}},
	}}
	if err := datasets.WriteCSV(os.Stdout, t); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,employees,close_date
	// A-1,120,2024-01-02
	// A-2,0.5,2024-01-02T12:00:00Z
}

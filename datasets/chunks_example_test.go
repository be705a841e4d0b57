package datasets_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/icpengine/icp/datasets"
)

// A file is read a chunk at a time with the kinds a model expects; a bad
// row is set aside with its place and the reading goes on.
func ExampleOpenChunks() {
	in := "id,employees,Owner\nA1,120,Ann\nA2,many,Bob\nA3,\"1,500\",Cy\n"
	c, err := datasets.OpenChunks(strings.NewReader(in), "accounts.csv", datasets.ChunkOptions{
		Kinds: map[string]datasets.Kind{"id": datasets.String, "employees": datasets.Number},
		Rows:  2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		ch, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		for i := range ch.Table.Rows() {
			fmt.Println(ch.Table.Column("id").Str[i], ch.Table.Column("employees").Num[i])
		}
		for _, e := range ch.Errors {
			fmt.Println(e)
		}
	}
	fmt.Println("skipped:", c.Skipped())
	// Output:
	// A1 120
	// accounts.csv: line 3, column 2 "employees": not a number: "many"
	// A3 1500
	// skipped: [Owner]
}

package sqlexport_test

import (
	"fmt"
	"strings"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/sqlexport"
	"github.com/icpengine/icp/train"
)

// The model as SQL: the table it reads and the first lines of the query.
func ExampleQuery() {
	t, _ := synth.Generate(synth.Config{Rows: 2000, Seed: 7})
	s := features.Infer(t, features.InferConfig{})
	p, err := train.Train(s.Clean(t), s, train.Config{Seed: 1, Version: "m-example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := sqlexport.Options{Dialect: sqlexport.DuckDB, Table: "crm.accounts"}
	ddl, _ := sqlexport.CreateTable(p, opts)
	fmt.Print(strings.Join(strings.Split(ddl, "\n")[:4], "\n"), "\n  ...\n")
	q, err := sqlexport.Query(p, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(strings.Split(q, "\n")[:3], "\n"))
	// Output:
	// CREATE TABLE "crm"."accounts" (
	//   "account_id" TEXT,
	//   "industry" TEXT,
	//   "employees" DOUBLE PRECISION,
	//   ...
	// SELECT _icp_id AS account_id,
	//   'm-example' AS model_version,
	//   _icp_score AS score,
}

package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/train"
)

// serve wires the served model as the account checker of the outcome
// route.
var _ server.AccountChecker = (*registry.Live)(nil)

// The contract test checks the score answers of a running serve against
// the OpenAPI document it serves: every field of the documented response
// schemas is looked up in the answers of POST /v1/score, the JSON batch,
// NDJSON and CSV, for an account that matches an anti-ICP rule, one that
// matches a segment, one that matches nothing, and an invalid one. A field
// the document requires must be there (and not null, unless it is
// nullable); a field it leaves optional or nullable must be there where it
// applies and absent or null where it does not. When it applies is the
// one thing the test knows by itself, in contractRules, and a documented
// optional field without a rule fails the test, as does an answer field
// the document does not describe.

// contractCase is one account sent through every route, with what the
// model says of it.
type contractCase struct {
	name    string
	acc     icp.Account
	id      string
	segment string // the id of the segment it matches, "" for none
	rule    bool   // the segment has a readable rule
	anti    string // the id of the anti-ICP rule it matches, "" for none
	invalid bool   // refused with field errors
	value   bool   // the model has a value model
}

// contractRequest is how one request was made.
type contractRequest struct {
	attributions bool
	ignored      bool // the request carried a field the model does not know, ignored
}

// contractRule says whether a field applies to case c, asked by request
// r, in the object parent that holds it.
type contractRule func(c contractCase, r contractRequest, parent map[string]any) bool

// contractRules says when each optional or nullable documented field
// applies, by its path in the schema ("segment.rule", "attributions");
// a score inside a batch answer ("scores[].segment") has the rules of a
// score.
var contractRules = map[string]contractRule{
	// JSON answers: Score and its parts.
	"account_id":   func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.id != "" },
	"segment":      func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.segment != "" },
	"segment.rule": func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.rule },
	"anti_icp":     func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.anti != "" },
	"attributions": func(_ contractCase, r contractRequest, _ map[string]any) bool { return r.attributions },
	// The columns the model uses that the account left out: there when
	// it did not send them all.
	"missing_fields": func(_ contractCase, _ contractRequest, score map[string]any) bool {
		c, _ := score["completeness"].(float64)
		return c < 1
	},
	// An attribution's value is the account's, null when it is missing.
	"attributions[].value": func(c contractCase, _ contractRequest, a map[string]any) bool {
		feature, _ := a["feature"].(string)
		return c.acc[feature] != nil
	},
	// The expected value, where the model has a value model.
	"expected_value":              func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.value },
	"predicted_value":             func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.value },
	"expected_value_attributions": func(c contractCase, r contractRequest, _ map[string]any) bool { return c.value && r.attributions },
	"expected_value_attributions.attributions[].value": func(c contractCase, _ contractRequest, a map[string]any) bool {
		feature, _ := a["feature"].(string)
		return c.acc[feature] != nil
	},
	// StreamError, the NDJSON line of an account refused.
	"fields": func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.invalid },
	"detail": func(contractCase, contractRequest, map[string]any) bool { return false }, // a malformed line or a stopped stream
	"offset": func(contractCase, contractRequest, map[string]any) bool { return false }, // a malformed line
	"limit":  func(contractCase, contractRequest, map[string]any) bool { return false }, // a stream stopped at the body cap
	// CSV rows; their segment and anti_icp cells are ids.
	"csv.account_id":       func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.id != "" },
	"csv.segment":          func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.segment != "" },
	"csv.anti_icp":         func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.anti != "" },
	"csv.top_attributions": func(_ contractCase, r contractRequest, _ map[string]any) bool { return r.attributions },
	"csv.expected_value":   func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.value },
	"csv.predicted_value":  func(c contractCase, _ contractRequest, _ map[string]any) bool { return c.value },
	"csv.top_value_attributions": func(c contractCase, r contractRequest, _ map[string]any) bool {
		return c.value && r.attributions
	},
	// Response headers.
	"header." + server.IgnoredFieldsHeader: func(_ contractCase, r contractRequest, _ map[string]any) bool { return r.ignored },
}

// ruleFor returns the rule of the field at path.
func ruleFor(path string) (contractRule, bool) {
	if r, ok := contractRules[path]; ok {
		return r, true
	}
	if p, ok := strings.CutPrefix(path, "scores[]."); ok {
		r, ok := contractRules[p]
		return r, ok
	}
	return nil, false
}

// openAPI is the served document, with its $refs resolved on demand.
type openAPI struct {
	raw  []byte
	tree map[string]any
}

// node returns the value at a JSON pointer-like path of names, resolving
// $refs on the way.
func (d *openAPI) node(t *testing.T, path ...string) map[string]any {
	t.Helper()
	var cur any = d.tree
	for _, p := range path {
		m := d.deref(t, cur)
		next, ok := m[p]
		if !ok {
			t.Fatalf("openapi.json: no %q under %v", p, path)
		}
		cur = next
	}
	return d.deref(t, cur)
}

// deref returns v as an object, following a $ref.
func (d *openAPI) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("openapi.json: %v is not an object", v)
	}
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var node any = d.tree
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		node = node.(map[string]any)[part]
	}
	return d.deref(t, node)
}

// schemaField is one field of a response schema.
type schemaField struct {
	path     string // "segment.rule", "attributions[].feature"
	required bool   // listed in its object's required
	nullable bool
	empty    bool // a CSV cell that is always empty (maxLength 0)
	object   map[string]any
	array    map[string]any // the item schema, for an array of objects
}

// fields lists the fields of an object schema, depth first; allOf is
// merged.
func (d *openAPI) fields(t *testing.T, schema map[string]any, prefix string) []schemaField {
	t.Helper()
	schema = d.merged(t, schema)
	props, _ := schema["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range asList(schema["required"]) {
		required[r.(string)] = true
	}
	var out []schemaField
	for _, name := range slices.Sorted(mapKeys(props)) {
		p := d.merged(t, d.deref(t, props[name]))
		f := schemaField{path: prefix + name, required: required[name], nullable: p["nullable"] == true}
		for _, alt := range asList(p["oneOf"]) {
			// null is one of the alternatives
			f.nullable = f.nullable || d.deref(t, alt)["nullable"] == true
		}
		if ml, ok := p["maxLength"].(float64); ok && ml == 0 {
			f.empty = true
		}
		if _, ok := p["properties"]; ok {
			f.object = p
			out = append(out, f)
			out = append(out, d.fields(t, p, f.path+".")...)
			continue
		}
		if items, ok := p["items"]; ok {
			if it := d.merged(t, d.deref(t, items)); it["properties"] != nil {
				f.array = it
				out = append(out, f)
				out = append(out, d.fields(t, it, f.path+"[].")...)
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// merged folds the allOf of a schema into one.
func (d *openAPI) merged(t *testing.T, s map[string]any) map[string]any {
	t.Helper()
	all := asList(s["allOf"])
	if len(all) == 0 {
		return s
	}
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	props := map[string]any{}
	var required []any
	for _, part := range all {
		m := d.merged(t, d.deref(t, part))
		for k, v := range asMap(m["properties"]) {
			props[k] = v
		}
		required = append(required, asList(m["required"])...)
	}
	out["properties"], out["required"] = props, required
	return out
}

func asList(v any) []any         { l, _ := v.([]any); return l }
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// orderedKeys returns the property names of the schema at path in
// document order.
func (d *openAPI) orderedKeys(t *testing.T, path ...string) []string {
	t.Helper()
	var cur json.RawMessage = d.raw
	for _, p := range path {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(cur, &m); err != nil {
			t.Fatal(err)
		}
		cur = m[p]
	}
	dec := json.NewDecoder(bytes.NewReader(cur))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// checkObject checks one JSON answer object against the fields of its
// schema for case c.
func checkObject(t *testing.T, where string, obj map[string]any, fields []schemaField, c contractCase, r contractRequest) {
	t.Helper()
	documented := map[string]bool{}
	for _, f := range fields {
		documented[f.path] = true
	}
	var walk func(prefix string, obj map[string]any)
	walk = func(prefix string, obj map[string]any) {
		for k, v := range obj {
			path := prefix + k
			if !documented[path] {
				t.Errorf("%s: field %s = %v is not in the document", where, path, v)
				continue
			}
			switch v := v.(type) {
			case map[string]any:
				walk(path+".", v)
			case []any:
				for _, e := range v {
					if m, ok := e.(map[string]any); ok {
						walk(path+"[].", m)
					}
				}
			}
		}
	}
	walk("", obj)
	for _, f := range fields {
		parents, name := lookupParents(obj, f.path)
		for _, parent := range parents {
			v, present := parent[name]
			got := present && v != nil
			rule, hasRule := ruleFor(f.path)
			switch {
			case f.required && !f.nullable:
				if !got {
					t.Errorf("%s: required field %s is %v (present %v)", where, f.path, v, present)
				}
			case !hasRule:
				t.Errorf("%s: field %s is optional or nullable in the document, and contractRules has no rule for when it applies", where, f.path)
			case rule(c, r, parent) && !got:
				t.Errorf("%s: field %s applies and is missing (present %v, %v)", where, f.path, present, v)
			case !rule(c, r, parent) && got:
				t.Errorf("%s: field %s does not apply and is %v", where, f.path, v)
			case f.required && !present:
				t.Errorf("%s: required field %s is absent, want it present (null)", where, f.path)
			}
		}
	}
}

// lookupParents returns the objects that hold the last name of path
// ("attributions[].feature": every attribution), and that name; a CSV
// row's cells ("csv.segment") are held by the row itself.
func lookupParents(obj map[string]any, path string) ([]map[string]any, string) {
	if strings.HasPrefix(path, "csv.") {
		// A CSV row is flat: its cells sit under their prefixed names.
		return []map[string]any{obj}, path
	}
	parts := strings.Split(path, ".")
	cur := []map[string]any{obj}
	for _, p := range parts[:len(parts)-1] {
		var next []map[string]any
		name, isArray := strings.CutSuffix(p, "[]")
		for _, o := range cur {
			switch v := o[name].(type) {
			case map[string]any:
				next = append(next, v)
			case []any:
				if isArray {
					for _, e := range v {
						if m, ok := e.(map[string]any); ok {
							next = append(next, m)
						}
					}
				}
			}
		}
		cur = next
	}
	return cur, parts[len(parts)-1]
}

// contractCases picks, from the sample the model was trained on, the
// first account that matches an anti-ICP rule, the first that matches a
// segment and no anti-ICP rule, and the first that matches neither, by
// the model's own scores; and an invalid account.
func contractCases(t *testing.T, p *profile.Profile, tab *datasets.Table) []contractCase {
	t.Helper()
	scores, err := p.ScoreTable(tab, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, s := range p.Segments {
		rules[s.ID] = s.RuleText != ""
	}
	var cases []contractCase
	for _, want := range []string{"anti-ICP", "segment", "nothing"} {
		found := false
		for i, sc := range scores {
			c := contractCase{name: want, acc: tab.Account(i), id: sc.AccountID, value: p.HasValueModel()}
			if sc.Segment != nil {
				c.segment, c.rule = sc.Segment.ID, rules[sc.Segment.ID]
			}
			if sc.AntiICP != nil {
				c.anti = sc.AntiICP.ID
			}
			if (want == "anti-ICP") != (c.anti != "") || (want == "segment") != (c.segment != "" && c.anti == "") ||
				(want == "nothing") != (c.segment == "" && c.anti == "") {
				continue
			}
			cases, found = append(cases, c), true
			break
		}
		if !found {
			t.Fatalf("no account of the sample matches %s: the contract test needs one", want)
		}
	}
	bad := tab.Account(0)
	bad["employees"] = json.Number("-5")
	return append(cases, contractCase{name: "invalid", acc: bad, id: cases[0].id, invalid: true, value: p.HasValueModel()})
}

// TestScoreContract runs the contract on a model with a value model (the
// sample has an LTV column) and on one without.
func TestScoreContract(t *testing.T) {
	tab, err := datasets.ReadFile(filepath.Join("..", "..", "datasets", "sample_accounts.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []bool{true, false} {
		t.Run("value model "+strconv.FormatBool(value), func(t *testing.T) {
			p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1, Value: train.ValueConfig{Disable: !value}})
			if err != nil {
				t.Fatal(err)
			}
			if p.HasValueModel() != value {
				t.Fatalf("the model has a value model: %v, want %v (%+v)", p.HasValueModel(), value, p.Value)
			}
			scoreContract(t, tab, p)
		})
	}
}

// scoreContract checks the score answers of a serve of p, trained on tab,
// against the OpenAPI document it serves, and its ICP document's value.
func scoreContract(t *testing.T, tab *datasets.Table, p *profile.Profile) {
	model := filepath.Join(t.TempDir(), "model.json")
	if err := p.WriteFile(model); err != nil {
		t.Fatal(err)
	}
	base := liveServe(t, model)
	cases := contractCases(t, p, tab)

	resp, raw := contractPost(t, http.MethodGet, base+"/openapi.json", "", nil)
	doc := &openAPI{raw: raw}
	if err := json.Unmarshal(raw, &doc.tree); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d: %v", resp.StatusCode, err)
	}
	scoreOp := doc.node(t, "paths", "/v1/score", "post", "responses", "200")
	batchOp := doc.node(t, "paths", "/v1/score/batch", "post", "responses", "200")
	scoreFields := doc.fields(t, doc.node(t, "paths", "/v1/score", "post", "responses", "200", "content", "application/json", "schema"), "")
	batchFields := doc.fields(t, doc.node(t, "paths", "/v1/score/batch", "post", "responses", "200", "content", "application/json", "schema"), "")
	var lineSchemas [2][]schemaField // a score, an error line
	for k, s := range asList(doc.node(t, "paths", "/v1/score/batch", "post", "responses", "200", "content", "application/x-ndjson", "schema")["oneOf"]) {
		lineSchemas[k] = doc.fields(t, doc.deref(t, s), "")
	}
	var rowSchemas [2][]schemaField // ScoreRow, ErrorRow
	var rowNames [2]string
	for k, s := range asList(doc.node(t, "paths", "/v1/score/batch", "post", "responses", "200", "content", "text/csv", "schema", "items")["anyOf"]) {
		rowSchemas[k] = doc.fields(t, doc.deref(t, s), "csv.")
		rowNames[k] = strings.TrimPrefix(s.(map[string]any)["$ref"].(string), "#/components/schemas/")
	}
	if len(scoreFields) == 0 || len(batchFields) == 0 || len(lineSchemas[1]) == 0 || len(rowSchemas[1]) == 0 {
		t.Fatalf("openapi.json: response schemas not found")
	}
	columns := doc.orderedKeys(t, "components", "schemas", rowNames[0], "properties")
	if other := doc.orderedKeys(t, "components", "schemas", rowNames[1], "properties"); !slices.Equal(columns, other) {
		t.Fatalf("openapi.json: %s columns %v, %s columns %v, want the same", rowNames[0], columns, rowNames[1], other)
	}
	headerOf := func(op map[string]any) []string { return slices.Sorted(mapKeys(asMap(op["headers"]))) }
	checkHeaders := func(where string, h http.Header, op map[string]any, c contractCase, r contractRequest) {
		t.Helper()
		for _, name := range headerOf(op) {
			rule, ok := ruleFor("header." + name)
			switch {
			case !ok:
				t.Errorf("%s: header %s is documented, and contractRules has no rule for when it applies", where, name)
			case rule(c, r, nil) != (h.Get(name) != ""):
				t.Errorf("%s: header %s = %q, want it present: %v", where, name, h.Get(name), rule(c, r, nil))
			}
		}
	}
	const unknownField = "crm_owner" // a column the model never saw

	t.Run("GET /v1/icp", func(t *testing.T) {
		resp, body := contractPost(t, http.MethodGet, base+"/v1/icp", "", nil)
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/icp = %d: %v", resp.StatusCode, err)
		}
		served, _ := asMap(doc["value"])["served"].(bool)
		if served != p.HasValueModel() || (doc["value"] != nil) != (p.Value != nil) {
			t.Errorf("/v1/icp value = %v, want it present: %v, served: %v", doc["value"], p.Value != nil, p.HasValueModel())
		}
		if _, ok := doc["channels"]; ok {
			t.Errorf("/v1/icp has channels %v, and the sample has no channel column", doc["channels"])
		}
	})

	valid := slices.DeleteFunc(slices.Clone(cases), func(c contractCase) bool { return c.invalid })
	t.Run("POST /v1/score", func(t *testing.T) {
		for _, c := range valid {
			for _, ignore := range []bool{false, true} {
				acc, url := c.acc, base+"/v1/score"
				if ignore {
					acc = with(acc, unknownField, "Ann")
					url += "?unknown=ignore"
				}
				resp, body := contractPost(t, http.MethodPost, url, "application/json", jsonBody(t, acc))
				where := "POST /v1/score, " + c.name + ", ignoring " + strconv.FormatBool(ignore)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d: %s", where, resp.StatusCode, body)
				}
				var obj map[string]any
				if err := json.Unmarshal(body, &obj); err != nil {
					t.Fatal(err)
				}
				r := contractRequest{attributions: true, ignored: ignore}
				checkObject(t, where, obj, scoreFields, c, r)
				checkHeaders(where, resp.Header, scoreOp, c, r)
				checkIDs(t, where, obj, c)
			}
		}
	})
	t.Run("POST /v1/score/batch, JSON", func(t *testing.T) {
		var accs []icp.Account
		for _, c := range valid {
			accs = append(accs, c.acc)
		}
		for _, query := range []string{"", "?attributions=false"} {
			resp, body := contractPost(t, http.MethodPost, base+"/v1/score/batch"+query, "application/json", jsonBody(t, accs))
			where := "JSON batch" + query
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d: %s", where, resp.StatusCode, body)
			}
			var obj map[string]any
			if err := json.Unmarshal(body, &obj); err != nil {
				t.Fatal(err)
			}
			r := contractRequest{attributions: query == ""}
			scores := asList(obj["scores"])
			if len(scores) != len(valid) {
				t.Fatalf("%s: %d scores, want %d", where, len(scores), len(valid))
			}
			for i, c := range valid {
				// The batch's own fields, then each score as the fields under scores[].
				one := map[string]any{}
				for k, v := range obj {
					one[k] = v
				}
				one["scores"] = []any{scores[i]}
				checkObject(t, where+", "+c.name, one, batchFields, c, r)
				checkIDs(t, where, scores[i].(map[string]any), c)
				checkHeaders(where, resp.Header, batchOp, c, r)
			}
		}
	})
	t.Run("POST /v1/score/batch, NDJSON", func(t *testing.T) {
		var b bytes.Buffer
		for _, c := range cases {
			b.Write(jsonBody(t, with(c.acc, unknownField, "Ann")))
			b.WriteByte('\n')
		}
		resp, body := contractPost(t, http.MethodPost, base+"/v1/score/batch", "application/x-ndjson", b.Bytes())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("NDJSON: status %d: %s", resp.StatusCode, body)
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		r := contractRequest{attributions: true, ignored: true}
		for i, c := range cases {
			if !sc.Scan() {
				t.Fatalf("NDJSON: %d lines, want %d", i, len(cases))
			}
			var obj map[string]any
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				t.Fatal(err)
			}
			where := "NDJSON line " + strconv.Itoa(i+1) + ", " + c.name
			k := 0
			if c.invalid {
				k = 1
				if obj["line"] != float64(i+1) {
					t.Errorf("%s: line %v, want %d", where, obj["line"], i+1)
				}
			} else {
				checkIDs(t, where, obj, c)
			}
			checkObject(t, where, obj, lineSchemas[k], c, r)
			checkHeaders(where, resp.Header, batchOp, c, r)
		}
	})
	t.Run("POST /v1/score/batch, CSV", func(t *testing.T) {
		header := []string{unknownField}
		for _, c := range cases {
			for k := range c.acc {
				if !slices.Contains(header, k) {
					header = append(header, k)
				}
			}
		}
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write(header)
		for _, c := range cases {
			row := []string{"Ann"}
			for _, k := range header[1:] {
				row = append(row, cell(c.acc[k]))
			}
			_ = w.Write(row)
		}
		w.Flush()
		resp, body := contractPost(t, http.MethodPost, base+"/v1/score/batch", "text/csv", b.Bytes())
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if resp.StatusCode != http.StatusOK || err != nil || len(rows) != len(cases)+1 {
			t.Fatalf("CSV: status %d, %d rows, %v: %s", resp.StatusCode, len(rows), err, body)
		}
		if !slices.Equal(rows[0], columns) {
			t.Fatalf("CSV header %v, want the documented columns %v", rows[0], columns)
		}
		r := contractRequest{attributions: true, ignored: true}
		for i, c := range cases {
			obj := map[string]any{}
			for j, col := range columns {
				if rows[i+1][j] != "" {
					obj[col] = rows[i+1][j]
				}
			}
			k := 0
			if c.invalid {
				k = 1
			}
			where := "CSV row " + strconv.Itoa(i+1) + ", " + c.name
			for _, f := range rowSchemas[k] {
				if col := strings.TrimPrefix(f.path, "csv."); f.empty && obj[col] != nil {
					t.Errorf("%s: column %s = %q, want it empty", where, col, obj[col])
				}
			}
			fields := slices.DeleteFunc(slices.Clone(rowSchemas[k]), func(f schemaField) bool { return f.empty })
			checkObject(t, where, prefixed(obj, "csv."), fields, c, r)
			checkHeaders(where, resp.Header, batchOp, c, r)
			if !c.invalid && (obj["segment"] != nilIfEmpty(c.segment) || obj["anti_icp"] != nilIfEmpty(c.anti)) {
				t.Errorf("%s: segment %v, anti_icp %v; want %q, %q", where, obj["segment"], obj["anti_icp"], c.segment, c.anti)
			}
		}
	})
}

// checkIDs checks that a JSON score names the segment and anti-ICP rule
// the model gives the account.
func checkIDs(t *testing.T, where string, obj map[string]any, c contractCase) {
	t.Helper()
	seg, _ := asMap(obj["segment"])["id"].(string)
	anti, _ := asMap(obj["anti_icp"])["id"].(string)
	if seg != c.segment || anti != c.anti || obj["account_id"] != c.id {
		t.Errorf("%s: account %v, segment %q, anti_icp %q; want %q, %q, %q", where, obj["account_id"], seg, anti, c.id, c.segment, c.anti)
	}
}

// contractPost sends a request and returns the answer and its body.
func contractPost(t *testing.T, method, url, ct string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// with returns a copy of acc with field set to v.
func with(acc icp.Account, field string, v any) icp.Account {
	out := make(icp.Account, len(acc)+1)
	for k, x := range acc {
		out[k] = x
	}
	out[field] = v
	return out
}

// cell writes an account value as a CSV cell.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func prefixed(obj map[string]any, prefix string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[prefix+k] = v
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

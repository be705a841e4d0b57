package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/icpengine/icp"
)

// openAPIDoc is the part of an OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
			Required   []string       `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string         `json:"operationId"`
	Security    *[]any         `json:"security"`
	Responses   map[string]any `json:"responses"`
}

func loadOpenAPI(t *testing.T) (openAPIDoc, []byte) {
	t.Helper()
	s, _ := newTestServer(t, Config{})
	rec := serve(s.Handler(), request{method: http.MethodGet, path: "/openapi.json"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != jsonContentType {
		t.Fatalf("GET /openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("decode /openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	return doc, rec.Body.Bytes()
}

// openAPIPath turns a gin pattern into an OpenAPI path template.
func openAPIPath(gin string) string {
	segs := strings.Split(gin, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// TestOpenAPIMatchesRoutes compares the router's routes with the document's
// operations both ways: every route is documented and every documented
// operation is served, with the security the access rules give it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	s, _ := newTestServer(t, Config{})
	served := map[string]bool{}
	for _, r := range s.engine.Routes() {
		op := strings.ToLower(r.Method) + " " + openAPIPath(r.Path)
		served[op] = true
		o, ok := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, r.Path)
			continue
		}
		public := routeAccess(r.Method, r.Path).public
		if declared := o.Security != nil && len(*o.Security) == 0; declared != public {
			t.Errorf("%s %s: openapi.json security: [] is %v, want %v (public routes only)", r.Method, r.Path, declared, public)
		}
		if !public {
			for _, code := range []string{"401", "403", "429", "503"} {
				if _, ok := o.Responses[code]; !ok {
					t.Errorf("%s %s: response %s not documented", r.Method, r.Path, code)
				}
			}
		}
		if o.OperationID == "" {
			t.Errorf("%s %s: no operationId", r.Method, r.Path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !served[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which the router does not serve", strings.ToUpper(method), path)
			}
		}
	}
}

// TestOpenAPIRefsResolve checks that every $ref names a component that
// exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	_, raw := loadOpenAPI(t)
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var node any = tree
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := node.(map[string]any)
					node = m[part]
				}
				if node == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tree)
}

// jsonFields returns the JSON names of a struct's exported fields, and
// those without omitempty or omitzero. The fields of an embedded struct
// without a JSON name sit in the parent's object, as encoding/json puts
// them; those of an embedded pointer are all optional, since a nil one
// writes none.
func jsonFields(typ reflect.Type) (all, required []string) {
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			a, r := jsonFields(et)
			all = append(all, a...)
			if f.Type.Kind() != reflect.Pointer {
				required = append(required, r...)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

// TestOpenAPISchemasMatchTypes keeps the documented schemas in step with
// the Go types the server encodes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	tests := []struct {
		schema string
		typ    reflect.Type
	}{
		{"Score", reflect.TypeFor[icp.Score]()},
		{"SegmentRef", reflect.TypeFor[icp.SegmentRef]()},
		{"Attribution", reflect.TypeFor[icp.Attribution]()},
		{"FieldError", reflect.TypeFor[icp.FieldError]()},
		{"Error", reflect.TypeFor[errorBody]()},
		{"Status", reflect.TypeFor[statusBody]()},
		{"RecordResult", reflect.TypeFor[icp.RecordResult]()},
		{"DriftReport", reflect.TypeFor[icp.DriftReport]()},
		{"Alert", reflect.TypeFor[icp.Alert]()},
		{"Alerts", reflect.TypeFor[alertsBody]()},
		{"AntiICPMatch", reflect.TypeFor[icp.AntiICPMatch]()},
		{"ValueAttributions", reflect.TypeFor[icp.ValueAttributions]()},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			sc, ok := doc.Components.Schemas[tt.schema]
			if !ok {
				t.Fatalf("schema %s missing", tt.schema)
			}
			var props []string
			for p := range sc.Properties {
				props = append(props, p)
			}
			slices.Sort(props)
			all, required := jsonFields(tt.typ)
			if !slices.Equal(props, all) {
				t.Errorf("schema %s properties = %v, want the fields of %v: %v", tt.schema, props, tt.typ, all)
			}
			req := slices.Clone(sc.Required)
			slices.Sort(req)
			if !slices.Equal(req, required) {
				t.Errorf("schema %s required = %v, want %v", tt.schema, req, required)
			}
		})
	}
}

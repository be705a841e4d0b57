package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// minWarmUp is the fewest accounts the trained artifact scores before
// Train returns it; serve's registry warms a model up with 16.
const minWarmUp = 16

// maxWarmUp caps the warm-up accounts: one per category level of the
// widest column, up to this many.
const maxWarmUp = 256

// verify checks the artifact as serve will read it: it encodes the
// profile, decodes it with the code serve loads models with, and scores
// warm-up accounts with it (every level of every category and tag column
// once, up to maxWarmUp), each answer checked (see profile.WarmUp). A
// profile that serve would refuse is an error here, so that train never
// writes it.
func (r *trainRun) verify() error {
	var b bytes.Buffer
	if err := r.p.Encode(&b); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	p, err := profile.Decode(&b)
	if err != nil {
		return fmt.Errorf("verify: serve would refuse the artifact: %w", err)
	}
	n := minWarmUp
	for _, ce := range p.Encoder.Columns {
		n = max(n, len(ce.Levels)+1)
	}
	if err := p.WarmUp(context.Background(), min(n, maxWarmUp)); err != nil {
		return fmt.Errorf("verify: serve would refuse the artifact: %w: %w", err, icp.ErrInvalid)
	}
	return nil
}

// checkFinite returns an error naming the first number of the profile
// that is NaN or infinite, which JSON cannot hold: its path in the
// artifact, with the name of the column or item it belongs to.
func checkFinite(p *profile.Profile) error {
	if path := nonFinite(reflect.ValueOf(p), "profile"); path != "" {
		return fmt.Errorf("%s is not a finite number: %w", path, icp.ErrInvalid)
	}
	return nil
}

// nonFinite walks v and returns the path of its first NaN or infinite
// float ("" when there is none). Struct fields are named by their JSON
// names, and a list element by its index and, when it has one, its name
// ("drift.numeric[3 ltv_usd].mean"). Unexported fields are skipped, as
// JSON skips them.
func nonFinite(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return path + " = " + strconv.FormatFloat(f, 'g', -1, 64)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if got := nonFinite(v.Field(i), path+"."+name); got != "" {
				return got
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			e := v.Index(i)
			label := strconv.Itoa(i)
			if n := itemName(e); n != "" {
				label += " " + n
			}
			if got := nonFinite(e, path+"["+label+"]"); got != "" {
				return got
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return fmt.Sprint(keys[a]) < fmt.Sprint(keys[b]) })
		for _, k := range keys {
			if got := nonFinite(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); got != "" {
				return got
			}
		}
	}
	return ""
}

// itemName returns the name of a list element: its Name, Column, ID or
// Feature field when it has one.
func itemName(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range []string{"Name", "Column", "ID", "Feature"} {
		if fv := v.FieldByName(f); fv.IsValid() && fv.Kind() == reflect.String && fv.String() != "" {
			return strconv.Quote(fv.String())
		}
	}
	return ""
}

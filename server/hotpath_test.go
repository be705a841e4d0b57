package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/icpengine/icp"
)

// TestDecodeAccountDuplicates checks the duplicate detection, which looks
// at the account for kept keys and at a second set for left-out ones.
func TestDecodeAccountDuplicates(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []icp.FieldError
	}{
		{"after a bad value", `{"a":1e999,"a":2}`, []icp.FieldError{{Field: "a", Message: msgFinite}, {Field: "a", Message: msgDuplicate}}},
		{"after a nested value", `{"a":{},"a":"x"}`, []icp.FieldError{{Field: "a", Message: msgNested}, {Field: "a", Message: msgDuplicate}}},
		{"after null", `{"a":null,"a":1}`, []icp.FieldError{{Field: "a", Message: msgDuplicate}}},
		{"three times", `{"a":1,"a":2,"a":3}`, []icp.FieldError{{Field: "a", Message: msgDuplicate}, {Field: "a", Message: msgDuplicate}}},
		{"bad then twice more", `{"a":[1],"a":2,"a":3}`, []icp.FieldError{
			{Field: "a[0]", Message: msgTag}, {Field: "a", Message: msgDuplicate}, {Field: "a", Message: msgDuplicate},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAccount([]byte(tt.give))
			var ve *icp.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("decodeAccount(%q) error = %v, want a *icp.ValidationError", tt.give, err)
			}
			if !reflect.DeepEqual(ve.Fields, tt.want) {
				t.Errorf("decodeAccount(%q) fields = %v, want %v", tt.give, ve.Fields, tt.want)
			}
		})
	}
}

// TestDecodeAccountKeepsFirst checks that a duplicate leaves the first
// value in the account.
func TestDecodeAccountKeepsFirst(t *testing.T) {
	acc, _ := decodeAccount([]byte(`{"a":"first","a":"second","b":true}`))
	want := icp.Account{"a": "first", "b": true}
	if !reflect.DeepEqual(acc, want) {
		t.Errorf("decodeAccount() = %v, want %v", acc, want)
	}
}

func TestIsJSONMediaType(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"application/json; charset=UTF-8", true},
		{"Application/JSON;charset=utf-8", true},
		{"application/json ; charset=\"utf-8\"", true},
		{"application/json; charset=latin1", false},
		{"application/json; boundary=x", false},
		{"text/json", false},
		{"application/jsonx", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isJSONMediaType(tt.give); got != tt.want {
			t.Errorf("isJSONMediaType(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// benchBody is the first account of scripts/load-bench.lua.
const benchBody = `{"account_id":"ACC-0000101","industry":"FinTech","employees":148,"annual_revenue_usd":102976000.0,"country":"MX","region":"LATAM","founded_year":1998,"funding_stage":"Series C+","business_model":"B2B SaaS","tech_stack":"hubspot;aws;stripe;slack;jira;pardot","web_visits_30d":26,"trial_users":0,"support_tickets_90d":1}`

func BenchmarkDecodeAccount(b *testing.B) {
	data := []byte(benchBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decodeAccount(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMetricsObserve counts and times one answered score request.
func BenchmarkMetricsObserve(b *testing.B) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	var c *gin.Context
	e.POST("/v1/score", func(gc *gin.Context) { c = gc.Copy() })
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/score", nil))
	c.Set(modelVersionKey, "m-1")
	b.ReportAllocs()
	for b.Loop() {
		m.observe(c, http.StatusOK, time.Millisecond)
	}
}

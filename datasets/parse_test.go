package datasets

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		give    string
		want    float64
		wantErr bool
		wantIs  error // the error to match, ErrNotNumber when nil
	}{
		{give: "1200", want: 1200},
		{give: "-3.5", want: -3.5},
		{give: "+7", want: 7},
		{give: " 42 ", want: 42},
		{give: ".5", want: 0.5},
		{give: "5.", want: 5},
		{give: "1e6", want: 1e6},
		{give: "2.5E-3", want: 0.0025},
		{give: "1,200,000", want: 1200000},
		{give: "$1,200,000", want: 1200000},
		{give: "1 200", want: 1200},
		{give: "1\u00a0200", want: 1200},
		{give: "1'200.5", want: 1200.5},
		{give: "€3.4", want: 3.4},
		{give: "3.4 €", want: 3.4},
		{give: "£5", want: 5},
		{give: "USD 12", want: 12},
		{give: "-$12", want: -12},
		{give: "$-12", want: -12},
		{give: "12.5%", want: 12.5},
		{give: "(1,234)", want: -1234},
		{give: "($1,234.50)", want: -1234.5},
		{give: "007", want: 7},
		{give: "", wantErr: true},
		{give: " ", wantErr: true},
		{give: "-", wantErr: true},
		{give: "$", wantErr: true},
		{give: "NaN", wantErr: true},
		{give: "Inf", wantErr: true},
		{give: "-Infinity", wantErr: true},
		{give: "1e400", wantErr: true, wantIs: ErrOutOfRange},
		{give: "-$1e400", wantErr: true, wantIs: ErrOutOfRange},
		{give: "1e-400", want: 0},
		{give: "0x1p3", wantErr: true},
		{give: "1_000", wantErr: true},
		{give: "12,5", wantErr: true},
		{give: "1,2345", wantErr: true},
		{give: "1234,567", wantErr: true},
		{give: "1,", wantErr: true},
		{give: "1e", wantErr: true},
		{give: "1.2.3", wantErr: true},
		{give: "abc", wantErr: true},
		{give: "12 apples", wantErr: true},
		{give: "2024-01-02", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := ParseNumber(tt.give)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseNumber(%q) = %v, want an error", tt.give, got)
				}
				wantIs := tt.wantIs
				if wantIs == nil {
					wantIs = ErrNotNumber
				}
				if !errors.Is(err, wantIs) {
					t.Errorf("ParseNumber(%q) error %v does not match %v", tt.give, err, wantIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNumber(%q) error %v", tt.give, err)
			}
			if math.Abs(got-tt.want) > 1e-9*math.Max(1, math.Abs(tt.want)) {
				t.Errorf("ParseNumber(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestParseNumberDecimalComma(t *testing.T) {
	tests := []struct {
		give string
		want float64
	}{
		{give: "12,5", want: 12.5},
		{give: "1.200,50", want: 1200.5},
		{give: "1 200,5", want: 1200.5},
		{give: "€ 3,40", want: 3.4},
		{give: "7", want: 7},
	}
	for _, tt := range tests {
		got, err := parseNumber(tt.give, ',')
		if err != nil || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("parseNumber(%q, ',') = %v, %v, want %v", tt.give, got, err, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	day := func(y int, m time.Month, d int) float64 {
		return float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	jan2 := day(2024, 1, 2)
	tests := []struct {
		give    string
		want    float64
		wantErr bool
	}{
		{give: "2024-01-02", want: jan2},
		{give: "01/02/2024", want: jan2},
		{give: "1/2/2024", want: jan2},
		{give: "2024/01/02", want: jan2},
		{give: "2024-01-02T12:00:00Z", want: jan2 + 0.5},
		{give: "2024-01-02T14:00:00+02:00", want: jan2 + 0.5},
		{give: "2024-01-02T12:00:00.5Z", want: jan2 + (12*3600+0.5)/86400},
		{give: "2024-01-02 06:00:00", want: jan2 + 0.25},
		{give: "2024-01-02 18:00", want: jan2 + 0.75},
		{give: "2024-01-02T06:00:00", want: jan2 + 0.25},
		{give: "2023-07-28 3:00", want: day(2023, 7, 28) + 0.125},
		{give: "12/31/2023 06:00:00", want: day(2023, 12, 31) + 0.25},
		{give: "1969-12-31", want: -1},
		{give: "1900-03-01", want: day(1900, 3, 1)},
		{give: "31/01/2024", wantErr: true},
		{give: "2024-13-01", wantErr: true},
		{give: "2024-02-30", wantErr: true},
		{give: "2024", wantErr: true},
		{give: "2012-06", wantErr: true},
		{give: "Jan 2, 2024", wantErr: true},
		{give: "", wantErr: true},
		{give: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := ParseDate(tt.give)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrNotDate) {
					t.Fatalf("ParseDate(%q) = %v, %v, want ErrNotDate", tt.give, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q) error %v", tt.give, err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		give    string
		want    bool
		wantErr bool
	}{
		{give: "true", want: true},
		{give: "TRUE", want: true},
		{give: "True", want: true},
		{give: "false"},
		{give: "FALSE"},
		{give: "yes", want: true},
		{give: "Yes", want: true},
		{give: "no"},
		{give: "No"},
		{give: "y", want: true},
		{give: "N"},
		{give: "t", want: true},
		{give: "F"},
		{give: " true ", want: true},
		{give: "1", wantErr: true},
		{give: "0", wantErr: true},
		{give: "", wantErr: true},
		{give: "on", wantErr: true},
		{give: "truth", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := ParseBool(tt.give)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrNotBool) {
					t.Fatalf("ParseBool(%q) = %v, %v, want ErrNotBool", tt.give, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseBool(%q) = %v, %v, want %v", tt.give, got, err, tt.want)
			}
		})
	}
}

func TestIsMissing(t *testing.T) {
	tests := []struct {
		give        string
		wantNumeric bool
		wantString  bool
	}{
		{give: "", wantNumeric: true, wantString: true},
		{give: " ", wantNumeric: true, wantString: true},
		{give: "N/A", wantNumeric: true, wantString: true},
		{give: "n/a", wantNumeric: true, wantString: true},
		{give: "#N/A", wantNumeric: true, wantString: true},
		{give: "null", wantNumeric: true, wantString: true},
		{give: "NULL", wantNumeric: true, wantString: true},
		{give: "NaN", wantNumeric: true, wantString: true},
		{give: "nan", wantNumeric: true, wantString: true},
		{give: "-", wantNumeric: true, wantString: true},
		{give: "--", wantNumeric: true, wantString: true},
		{give: "NA", wantNumeric: true},
		{give: "na", wantNumeric: true},
		{give: "None", wantNumeric: true},
		{give: "0"},
		{give: "EMEA"},
		{give: "nano"},
		{give: "---"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if got := IsMissing(tt.give, true); got != tt.wantNumeric {
				t.Errorf("IsMissing(%q, true) = %v, want %v", tt.give, got, tt.wantNumeric)
			}
			if got := IsMissing(tt.give, false); got != tt.wantString {
				t.Errorf("IsMissing(%q, false) = %v, want %v", tt.give, got, tt.wantString)
			}
		})
	}
}

func TestDayTimeRoundTrip(t *testing.T) {
	for _, give := range []float64{0, 1, -1, 19724, 19724.5, 19724.123456, -0.25, 2932896} {
		back := daysSinceEpoch(dayTime(give))
		if math.Abs(back-give) > 1e-9 {
			t.Errorf("daysSinceEpoch(dayTime(%v)) = %v, want %v", give, back, give)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1200", "$1,200,000", "1 200", "(1,234)", "12.5%", "€3.4", "1e400", "NaN", "-", "1,2345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dec := range []byte{'.', ','} {
			v, err := parseNumber(s, dec)
			if err != nil {
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("parseNumber(%q, %q) = %v", s, dec, v)
			}
			back, err := ParseNumber(strconv.FormatFloat(v, 'g', -1, 64))
			if err != nil || back != v {
				t.Fatalf("ParseNumber(FormatFloat(%v)) = %v, %v", v, back, err)
			}
		}
		if v, err := ParseDate(s); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("ParseDate(%q) = %v", s, v)
		}
		_, _ = ParseBool(s)
		_ = IsMissing(s, true)
	})
}

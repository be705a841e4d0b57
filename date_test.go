package icp_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func TestParseDate(t *testing.T) {
	jan2 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		give    string
		want    time.Time
		wantErr bool
	}{
		{give: "2024-01-02", want: jan2},
		{give: " 2024-01-02 ", want: jan2},
		{give: "01/02/2024", want: jan2},
		{give: "1/2/2024", want: jan2},
		{give: "2024/01/02", want: jan2},
		{give: "2024-01-02T12:00:00Z", want: jan2.Add(12 * time.Hour)},
		{give: "2024-01-02T14:00:00+02:00", want: jan2.Add(12 * time.Hour)},
		{give: "2024-01-02T12:00:00.5Z", want: jan2.Add(12*time.Hour + 500*time.Millisecond)},
		{give: "2024-01-02 06:00:00", want: jan2.Add(6 * time.Hour)},
		{give: "2024-01-02 18:00", want: jan2.Add(18 * time.Hour)},
		{give: "2024-01-02T06:00", want: jan2.Add(6 * time.Hour)},
		{give: "2024-01-02 06:00:00+01:00", want: jan2.Add(5 * time.Hour)},
		{give: "12/31/2023 06:00:00", want: time.Date(2023, 12, 31, 6, 0, 0, 0, time.UTC)},
		{give: "3/1/2024 9:30", want: time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)},
		{give: "1900-03-01", want: time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)},
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
			got, err := icp.ParseDate(tt.give)
			if tt.wantErr {
				if !errors.Is(err, icp.ErrNotDate) {
					t.Fatalf("ParseDate(%q) = %v, %v, want ErrNotDate", tt.give, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q) error %v", tt.give, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-01-02", "1/2/2024 3:04", "2024-01-02T12:00:00.5+02:00", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := icp.ParseDate(s)
		if err != nil {
			if !errors.Is(err, icp.ErrNotDate) {
				t.Fatalf("ParseDate(%q) error %v does not wrap ErrNotDate", s, err)
			}
			return
		}
		if d.Location() != time.UTC {
			t.Fatalf("ParseDate(%q) = %v, not in UTC", s, d)
		}
	})
}

func ExampleParseDate() {
	for _, s := range []string{"2024-03-01", "3/1/2024", "2024-03-01T09:30:00+01:00"} {
		d, err := icp.ParseDate(s)
		fmt.Println(d, err)
	}
	_, err := icp.ParseDate("31/01/2024")
	fmt.Println(err)
	// Output:
	// 2024-03-01 00:00:00 +0000 UTC <nil>
	// 2024-03-01 00:00:00 +0000 UTC <nil>
	// 2024-03-01 08:30:00 +0000 UTC <nil>
	// not a date: "31/01/2024"
}

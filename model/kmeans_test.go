package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// kmeansBlobs returns per rows around each of k well separated centres (the
// corners of a cube of side 25 in the first three dimensions; the fourth
// dimension is noise) with unit standard deviation, and the true labels.
func kmeansBlobs(seed uint64, k, per int) (*mat.Dense, []int) {
	const d = 4
	rng := rand.New(rand.NewPCG(seed, 77))
	x := mat.NewDense(k*per, d, nil)
	labels := make([]int, k*per)
	for i := range labels {
		c := i % k
		labels[i] = c
		for j := 0; j < d; j++ {
			centre := 0.0
			if j < 3 {
				centre = 25 * float64((c>>j)&1)
			}
			x.Set(i, j, centre+rng.NormFloat64())
		}
	}
	return x, labels
}

// kmeansInertia recomputes the weighted inertia of labels under centroids.
func kmeansInertia(x *mat.Dense, w []float64, labels []int, centroids [][]float64) float64 {
	var s float64
	for i, c := range labels {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		s += wi * kmeansDist2(x.RawRowView(i), centroids[c])
	}
	return s
}

func TestFitKMeansBlobs(t *testing.T) {
	for _, k := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			x, truth := kmeansBlobs(uint64(k), k, 200)
			km, labels, err := FitKMeans(x, nil, KMeansConfig{K: k, Seed: 42})
			if err != nil {
				t.Fatalf("FitKMeans: %v", err)
			}
			if got := AdjustedRandIndex(labels, truth); got != 1 {
				t.Errorf("AdjustedRandIndex(FitKMeans labels, truth) = %v, want 1", got)
			}
			if len(km.Centroids) != k {
				t.Fatalf("FitKMeans returned %d centroids, want %d", len(km.Centroids), k)
			}
			want := kmeansInertia(x, nil, labels, km.Centroids)
			if math.Abs(km.Inertia-want) > 1e-9*want {
				t.Errorf("FitKMeans inertia = %v, want %v recomputed", km.Inertia, want)
			}
			// Unit variance in 4 dimensions: about 4 per row.
			if per := km.Inertia / float64(len(labels)); per < 3.5 || per > 4.5 {
				t.Errorf("FitKMeans inertia per row = %v, want about 4", per)
			}
			for i := 0; i < len(labels); i += 37 {
				if c, _ := km.Nearest(x.RawRowView(i)); c != labels[i] {
					t.Errorf("Nearest(row %d) = %d, want its label %d", i, c, labels[i])
				}
			}
		})
	}
}

func TestFitKMeansDeterministic(t *testing.T) {
	x, _ := kmeansBlobs(9, 4, 3000) // 12000 rows: several parallel blocks
	// Overlapping blobs make the result depend on the initialization.
	x.Scale(0.05, x)
	a, la, err := FitKMeans(x, nil, KMeansConfig{K: 6, Seed: 1})
	if err != nil {
		t.Fatalf("FitKMeans: %v", err)
	}
	b, lb, err := FitKMeans(x, nil, KMeansConfig{K: 6, Seed: 1})
	if err != nil {
		t.Fatalf("FitKMeans: %v", err)
	}
	if !slices.Equal(la, lb) || a.Inertia != b.Inertia {
		t.Errorf("FitKMeans with equal seeds: inertia %v then %v, want identical results", a.Inertia, b.Inertia)
	}
	for c := range a.Centroids {
		if !slices.Equal(a.Centroids[c], b.Centroids[c]) {
			t.Errorf("FitKMeans centroid %d = %v then %v, want identical", c, a.Centroids[c], b.Centroids[c])
		}
	}
}

func TestFitKMeansWeightsAsDuplication(t *testing.T) {
	x, _ := kmeansBlobs(5, 3, 50)
	n, d := x.Dims()
	w := make([]float64, n)
	var rows [][]float64
	for i := range w {
		w[i] = float64(1 + i%3)
		for range int(w[i]) {
			rows = append(rows, x.RawRowView(i))
		}
	}
	xd := mat.NewDense(len(rows), d, nil)
	for i, r := range rows {
		xd.SetRow(i, r)
	}
	kw, _, err := FitKMeans(x, w, KMeansConfig{K: 3, Seed: 3})
	if err != nil {
		t.Fatalf("FitKMeans(weighted): %v", err)
	}
	kd, _, err := FitKMeans(xd, nil, KMeansConfig{K: 3, Seed: 3})
	if err != nil {
		t.Fatalf("FitKMeans(duplicated): %v", err)
	}
	if math.Abs(kw.Inertia-kd.Inertia) > 1e-9*kd.Inertia {
		t.Errorf("FitKMeans(weighted) inertia = %v, want %v (duplicated rows)", kw.Inertia, kd.Inertia)
	}
	for _, c := range kw.Centroids {
		j, dist := kd.Nearest(c)
		if dist > 1e-9 {
			t.Errorf("weighted centroid %v is %v away from duplicated centroid %v", c, dist, kd.Centroids[j])
		}
	}
}

func TestKMeansRelocatesEmptyCluster(t *testing.T) {
	x := mat.NewDense(6, 1, []float64{0, 1, 2, 10, 11, 12})
	km := &kmeansData{data: x.RawMatrix().Data, n: 6, d: 1, stride: 1}
	// The centroid at 100 attracts no row; it must move to row 5 (value 12,
	// the farthest from its centroid 0) and the run must end with the two
	// natural clusters.
	centers := [][]float64{{0}, {100}}
	labels, inertia := km.lloyd(centers, 100, 0)
	want := []int{0, 0, 0, 1, 1, 1}
	if !slices.Equal(labels, want) {
		t.Errorf("lloyd labels = %v, want %v", labels, want)
	}
	if math.Abs(inertia-4) > 1e-12 {
		t.Errorf("lloyd inertia = %v, want 4", inertia)
	}
	if centers[0][0] != 1 || centers[1][0] != 11 {
		t.Errorf("lloyd centroids = %v, want [[1] [11]]", centers)
	}
}

func TestFitKMeansErrors(t *testing.T) {
	x := mat.NewDense(3, 2, []float64{0, 0, 1, 1, 2, 2})
	bad := mat.DenseCopyOf(x)
	bad.Set(1, 1, math.NaN())
	tests := []struct {
		name string
		x    mat.Matrix
		w    []float64
		k    int
	}{
		{name: "k zero", x: x, k: 0},
		{name: "k above rows", x: x, k: 4},
		{name: "NaN", x: bad, k: 2},
		{name: "short weights", x: x, w: []float64{1}, k: 2},
		{name: "negative weight", x: x, w: []float64{1, -1, 1}, k: 2},
		{name: "zero weights", x: x, w: []float64{0, 0, 0}, k: 2},
		{name: "empty", x: &mat.Dense{}, k: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if km, _, err := FitKMeans(tt.x, tt.w, KMeansConfig{K: tt.k}); err == nil {
				t.Errorf("FitKMeans = %v, nil error; want an error", km)
			}
		})
	}
}

func TestFitKMeansDuplicatePoints(t *testing.T) {
	// Fewer distinct points than clusters must not loop or panic.
	x := mat.NewDense(5, 1, []float64{3, 3, 3, 7, 7})
	km, labels, err := FitKMeans(x, nil, KMeansConfig{K: 4, Seed: 1})
	if err != nil {
		t.Fatalf("FitKMeans: %v", err)
	}
	if km.Inertia != 0 || len(labels) != 5 {
		t.Errorf("FitKMeans inertia = %v with labels %v, want 0", km.Inertia, labels)
	}
}

func TestKMeansNearest(t *testing.T) {
	km := &KMeans{Centroids: [][]float64{{0, 0}, {3, 4}, {3, 4}}}
	tests := []struct {
		give     []float64
		wantC    int
		wantDist float64
	}{
		{give: []float64{0, 1}, wantC: 0, wantDist: 1},
		{give: []float64{6, 8}, wantC: 1, wantDist: 5}, // tie with 2: lowest index
		{give: []float64{1.5, 2}, wantC: 0, wantDist: 2.5},
	}
	for _, tt := range tests {
		c, dist := km.Nearest(tt.give)
		if c != tt.wantC || math.Abs(dist-tt.wantDist) > 1e-12 {
			t.Errorf("Nearest(%v) = %d, %v, want %d, %v", tt.give, c, dist, tt.wantC, tt.wantDist)
		}
	}
}

func TestSilhouette(t *testing.T) {
	tests := []struct {
		name   string
		x      []float64
		labels []int
		want   float64
	}{
		// Clusters {0, 2} and {5, 7}; a = 2 for every point.
		//   0: b = (5+7)/2 = 6, s = 4/6;   2: b = (3+5)/2 = 4, s = 2/4
		//   5: b = (5+3)/2 = 4, s = 2/4;   7: b = (7+5)/2 = 6, s = 4/6
		// mean = (2/3 + 1/2 + 1/2 + 2/3)/4 = 7/12.
		{name: "two pairs", x: []float64{0, 2, 5, 7}, labels: []int{0, 0, 1, 1}, want: 7.0 / 12},
		// Clusters {0, 2} and the singleton {10} (s = 0):
		//   0: a = 2, b = 10, s = 0.8;  2: a = 2, b = 8, s = 0.75
		// mean = (0.8 + 0.75 + 0)/3 = 1.55/3.
		{name: "singleton", x: []float64{0, 2, 10}, labels: []int{4, 4, -1}, want: 1.55 / 3},
		// Wrong assignment: {0, 5} and {2, 7}.
		//   0: a = 5, b = (2+7)/2 = 4.5, s = -0.5/5;  5: a = 5, b = (3+2)/2 = 2.5, s = -2.5/5
		//   2: a = 5, b = (2+3)/2 = 2.5, s = -2.5/5;  7: a = 5, b = (7+2)/2 = 4.5, s = -0.5/5
		// mean = -(0.1 + 0.5 + 0.5 + 0.1)/4 = -0.3.
		{name: "crossed", x: []float64{0, 2, 5, 7}, labels: []int{0, 1, 0, 1}, want: -0.3},
		{name: "one cluster", x: []float64{0, 2, 5}, labels: []int{1, 1, 1}, want: math.NaN()},
		{name: "all singletons", x: []float64{0, 2, 5}, labels: []int{0, 1, 2}, want: math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := mat.NewDense(len(tt.x), 1, tt.x)
			if got := Silhouette(x, tt.labels, 0, 1); !metricsNear(got, tt.want, 1e-12) {
				t.Errorf("Silhouette(%v, %v) = %v, want %v", tt.x, tt.labels, got, tt.want)
			}
		})
	}
}

func TestSilhouetteSample(t *testing.T) {
	x, truth := kmeansBlobs(2, 3, 300)
	exact := Silhouette(x, truth, 0, 0)
	if full := Silhouette(x, truth, 900, 5); full != exact {
		t.Errorf("Silhouette(sample = rows) = %v, want exact %v", full, exact)
	}
	a := Silhouette(x, truth, 200, 5)
	if b := Silhouette(x, truth, 200, 5); a != b {
		t.Errorf("Silhouette(sample 200, seed 5) = %v then %v, want identical", a, b)
	}
	if math.Abs(a-exact) > 0.02 {
		t.Errorf("Silhouette(sample 200) = %v, want within 0.02 of exact %v", a, exact)
	}
}

func TestChooseK(t *testing.T) {
	for _, k := range []int{3, 5} {
		for _, sample := range []int{0, 250} {
			t.Run(fmt.Sprintf("k=%d/sample=%d", k, sample), func(t *testing.T) {
				x, truth := kmeansBlobs(uint64(10+k), k, 80)
				best, labels, scores, err := ChooseK(x, nil, 2, 7, 1, sample)
				if err != nil {
					t.Fatalf("ChooseK: %v", err)
				}
				if got := len(best.Centroids); got != k {
					t.Errorf("ChooseK picked k = %d (scores %v), want %d", got, scores, k)
				}
				if got := AdjustedRandIndex(labels, truth); got != 1 {
					t.Errorf("AdjustedRandIndex(ChooseK labels, truth) = %v, want 1", got)
				}
				if len(scores) != 6 || scores[0].K != 2 || scores[5].K != 7 {
					t.Errorf("ChooseK scores = %v, want k = 2..7", scores)
				}
			})
		}
	}
}

func TestChooseKErrors(t *testing.T) {
	x, _ := kmeansBlobs(1, 2, 3)
	for _, r := range [][2]int{{1, 3}, {3, 2}, {2, 6}} {
		if _, _, _, err := ChooseK(x, nil, r[0], r[1], 1, 0); err == nil {
			t.Errorf("ChooseK(k in [%d, %d]) on 6 rows: nil error, want an error", r[0], r[1])
		}
	}
}

func TestKMeansJSON(t *testing.T) {
	km := &KMeans{Centroids: [][]float64{{1, 2}, {3.5, -4}}, Inertia: 12.25}
	b, err := json.Marshal(km)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var got KMeans
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", b, err)
	}
	if got.Inertia != km.Inertia || len(got.Centroids) != 2 || !slices.Equal(got.Centroids[1], km.Centroids[1]) {
		t.Errorf("JSON round trip = %v, want %v", got, *km)
	}
}

func BenchmarkFitKMeans(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		x, _ := kmeansBlobs(1, 5, n/5)
		b.Run(fmt.Sprintf("rows=%d/cols=4/k=5", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := FitKMeans(x, nil, KMeansConfig{K: 5, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSilhouette(b *testing.B) {
	x, truth := kmeansBlobs(1, 5, 20_000)
	b.Run("rows=100000/sample=2000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Silhouette(x, truth, 2000, 1)
		}
	})
}

func BenchmarkChooseK(b *testing.B) {
	x, _ := kmeansBlobs(1, 5, 4000)
	b.Run("rows=20000/k=2..8/sample=2000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := ChooseK(x, nil, 2, 8, 1, 2000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Package drift detects when recent traffic, or recent winners, move away
// from the data the ICP model was trained on, without crying wolf.
//
// It holds compact reference distributions (NumericRef, CategoricalRef,
// Reference), saved as deterministic JSON inside the model artifact, the
// statistics that compare a window of recent values with them, and a
// concurrency-safe Monitor that keeps the window and evaluates it into an
// icp.DriftResult of verdicts. It imports only package icp and gonum.
//
// # Statistics
//
// Every statistic is a pure, documented function: PSI, KSTwoSample,
// ChiSquare, ChiSquareGoodnessOfFit, Wasserstein1FromQuantiles,
// JensenShannonDistance, CohensW and BinomialTestGreater.
//
// # Which test, when
//
// CompareFeatures picks the test per feature from the reference size:
//
//   - Reference of at most SmallReferenceRows (1,000) rows: the two-sample
//     KS test (numeric, on the raw reference Sample) or the chi-square test
//     of homogeneity (categorical, missing values and unseen levels as their
//     own cells, cells with an expected count below 5 pooled). A feature
//     drifts at p < Alpha/m, where m is the number of features tested
//     (Bonferroni), so that the chance of any false alarm in a window is at
//     most Alpha (0.05).
//   - Larger references: a distance with a scale-free threshold of 0.1.
//     Numeric features use the Wasserstein-1 distance between the reference
//     quantile function (101 stored percentiles, central 98%) and the window,
//     divided by the reference standard deviation: a shift of the whole
//     distribution by s standard deviations reads s. The standard deviation
//     is used rather than the IQR because integer counts with many ties
//     often have a zero IQR.
//
// PSI over the reference deciles (numeric) or levels (categorical) is
// reported for every feature with its band (stable < 0.1 <= watch <= 0.25 <
// alert); it never decides drift on its own, except for the tier mix.
//
// # Sampling noise in the distance tests
//
// A distance computed on a finite window is biased upward by sampling
// noise: with n current and N reference values it is about
// 1/sqrt(n_eff), n_eff = nN/(n+N), times a shape constant, even when
// nothing changed. Comparing it blindly with 0.1 would alert on small
// windows. Three guards keep the distance tests honest:
//
//  1. Below MinWindow (200) current values, or MinReference (50) reference
//     values, a feature reports insufficient_data instead of a verdict.
//  2. Each result carries the expected distance under no drift for its
//     window (NoiseFloor) and a noise p-value: the probability that
//     sampling noise alone reaches the observed distance. For Wasserstein,
//     sqrt(n_eff) times the distance behaves like the integral of |B(F(x))|
//     for a Brownian bridge B (del Barrio, Gine and Matran 1999), a weighted
//     average of half-normal variables with total weight
//     J = integral sqrt(F(1-F)) dx computed from the stored quantiles. The
//     p-value uses the tail of a single half-normal with scale J, which
//     dominates that average in convex order (the perfectly correlated
//     case): an approximation that errs towards larger p-values, not an
//     exact bound. For Cohen's w, n_eff*w^2 is asymptotically chi-square with
//     k-1 degrees of freedom.
//  3. A feature drifts only when the distance exceeds the threshold AND the
//     noise p-value is below Alpha/m. At 1,000 rows against a 10,000-row
//     reference the Wasserstein noise floor is 0.025 to 0.04, well under
//     0.1, so the threshold decides; at 200 rows the noise rule decides and
//     a distance of 0.1 is no longer enough.
//
// # Categorical distance: Cohen's w instead of Jensen-Shannon
//
// The specification asked for the Jensen-Shannon distance (base 2) at 0.1
// on large references. In the simulations of sim_test.go (windows of 1,000
// rows, references of 10,000 rows) it cannot meet the power target: moving
// SaaS from 13% to 23% of accounts (other industries scaled down) gives a
// population JS distance of about 0.12 and a window exceeds 0.1 in only 90%
// to 94% of windows; moving a large level from 45% to 55% gives 0.085, which
// exceeds 0.1 in 12% to 18% of windows. For small shifts JS is about
// w/sqrt(8 ln 2) = w/2.35, so the 0.1 JS threshold asks for a shift of
// about 0.24 standard deviations, against 0.1 for numeric features.
//
// The fix is a normalisation that puts categorical features on the
// numeric scale: Cohen's w (CohensW), the square root of Pearson's
// chi-square divergence. When one level's share moves from p to q and the
// others scale proportionally, w = |q-p|/sqrt(p(1-p)), the shift of that
// level's indicator in reference standard deviations, exactly what the
// Wasserstein statistic measures for a numeric feature. The noise term
// df/n_eff is subtracted from w^2 (the bias correction of Bergsma 2013), the
// threshold stays 0.1 (Cohen's "small" effect), and the noise p-value guard
// applies. Both shifts above are then detected in 99.5% to 100% of windows
// while false alarms stay near 1%. The JS distance is still computed and
// reported (icp.FeatureDrift.JSDistance, alert details).
//
// # Score, tier mix and ICP drift
//
// ScoreDrift tests the fit score distribution like a numeric feature.
// TierMix tests the share of accounts per tier with the chi-square
// goodness-of-fit test and drifts only when PSI also reaches 0.1, because
// with large windows the chi-square test alone flags shifts too small to
// matter. ICPDrift tests whether recent winners land in tier3 or non_fit
// more often than holdout winners did, with the exact one-sided binomial
// test, from 30 winners; it also compares the winners' score distribution
// with the training winners'.
//
// # Alerts
//
// The package measures and never alerts: package watch turns drifted
// results into alerts, with their severity, plain-words text and
// recommended action, and the store deduplicates them.
//
// # Measured rates
//
// sim_test.go draws windows of 1,000 rows from a population with eight
// numeric features (log-normal, zero-inflated and Poisson counts, bimodal,
// bounded, clipped normal) and five categoricals (3 to 12 levels), drawing a
// fresh reference every 20 windows so that the rates average over the luck
// of the reference sample too. With the default seeds:
//
//   - Windows with any feature-drift alert when nothing changed: 1.0% with
//     10,000-row references, 5.3% with 1,000-row references. Bonferroni
//     bounds the latter by 5%; its tests are calibrated (a 3,000-window
//     check gave per-feature rates of 0.1% to 0.6% against 0.38%), so the
//     measured rate sits at the bound within Monte Carlo error (1.3 points).
//   - A 0.5 standard deviation shift of one numeric feature: detected in
//     100% of windows on both paths (log-normal, normal, Poisson counts).
//   - SaaS from 13% to 23%: 100% with Cohen's w (JS distance > 0.1 in
//     90.5%), 98.5% with chi-square over 1,000-row references, whose own
//     sampling noise dilutes the shift (95% to 98.5% across seeds).
//   - A large level from 45% to 55%: 99.5% with Cohen's w (JS distance >
//     0.1 in 14.5%).
//   - ICP drift with 40 winners and 20% expected outside: 4.1% false
//     alarms; 95.7% detection when 45% land outside.
//
// At 1,000 rows against a 10,000-row reference the numeric noise floors are
// 0.025 to 0.04 reference standard deviations.
package drift

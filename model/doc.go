// Package model holds the learners of the ICP engine on plain matrices:
// logistic regression, k-means, decision trees, calibration, metrics and
// exact attributions of linear models; gradient-boosted trees and TreeSHAP
// are in package gbm below it. It imports nothing from this module, only
// gonum, so it is as reusable as gonum/stat.
package model

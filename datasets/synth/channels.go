package synth

import (
	"fmt"
	"math"
	"strings"
)

// The true segments of the channels dialect. The first wins often and is
// worth little; the second wins less often and is worth far more, so that
// ranking by expected value and by probability disagree.
const (
	SegCHSelfServe  = "ch_smb_selfserve"
	SegCHEnterprise = "ch_enterprise_regulated"
)

func chIndustries() []string {
	return []string{"Software", "E-commerce", "Financial Services", "Healthcare", "Manufacturing",
		"Retail", "Education", "Government", "Media", "Logistics"}
}

// Indices into chIndustries.
const (
	chSoftware = iota
	chEcommerce
	chFinance
	chHealth
	chManufacturing
	chRetail
	chEducation
	chGovernment
	chMedia
	chLogistics
)

func chMedianEmployees() []float64 {
	return []float64{60, 80, 600, 900, 400, 250, 200, 1500, 70, 300}
}

// ChannelNames lists the lead sources of the channels dialect, in the
// order of their truth.
func ChannelNames() []string {
	return []string{"Partner Referral", "Inbound Web", "Outbound SDR", "Paid Search", "Events", "Employee Referral"}
}

// Indices into ChannelNames.
const (
	chPartner = iota
	chInbound
	chOutbound
	chPaid
	chEvents
	chEmployee
)

// chChannelOdds and chChannelValue are each channel's effect on the
// log-odds of winning and its factor on the value of a won deal.
func chChannelOdds() []float64  { return []float64{0.5, 0, -0.2, -0.3, 0.1, 0.3} }
func chChannelValue() []float64 { return []float64{1.6, 0.9, 1.1, 0.7, 1.3, 1.0} }

func chTools() []string {
	return []string{"salesforce", "hubspot", "stripe", "shopify", "aws", "azure", "snowflake", "slack", "sap", "zendesk"}
}

const (
	chToolSalesforce = 0
	chToolStripe     = 2
)

// chValueSigma is the spread of a won deal's value around its median, on
// the log scale.
const chValueSigma = 0.35

// chFirm is one account of the channels dialect before missingness.
type chFirm struct {
	ind, cty, src int
	emp           float64
	tools         []bool
	visits        float64
	demo          bool
	seg           string
	anti          bool
	p             float64
	// median is the median value of a won deal; the truth's value is its
	// mean.
	median float64
}

// chSegment applies the true recipes of the channels dialect.
func chSegment(f *chFirm) (string, bool) {
	if f.ind == chGovernment || f.emp < 10 {
		return NoSegment, true
	}
	if inSet(f.ind, chFinance, chHealth) && f.emp >= 1000 && f.tools[chToolSalesforce] {
		return SegCHEnterprise, false
	}
	if inSet(f.ind, chSoftware, chEcommerce) && f.emp >= 10 && f.emp <= 100 && f.tools[chToolStripe] {
		return SegCHSelfServe, false
	}
	return NoSegment, false
}

// drawCHFirm draws an account of the channels dialect: a share is pushed
// into each recipe, the rest drawn freely; the channel mix depends on the
// kind of account (partners and events bring the enterprise accounts, paid
// search the small and the anti-ICP ones).
func drawCHFirm(r xrand) *chFirm {
	f := &chFirm{ind: r.pick(.16, .10, .10, .09, .12, .10, .08, .07, .08, .10), cty: r.pick(.55, .15, .12, .10, .08)}
	f.emp = math.Round(clampf(r.logNormal(chMedianEmployees()[f.ind], 1.2), 1, 50_000))
	f.tools = r.tags([]float64{.30, .30, .25, .10, .45, .25, .15, .55, .10, .20})
	kind := r.pick(.14, .10, .12, .64)
	switch kind {
	case 0: // into ch_smb_selfserve
		f.ind = [2]int{chSoftware, chEcommerce}[r.pick(.6, .4)]
		f.emp = math.Round(r.between(10, 100))
		f.tools[chToolStripe] = true
	case 1: // into ch_enterprise_regulated
		f.ind = [2]int{chFinance, chHealth}[r.pick(.5, .5)]
		f.emp = math.Round(r.between(1000, 20000))
		f.tools[chToolSalesforce] = true
	case 2: // into the anti-ICP
		if r.bern(.5) {
			f.ind = chGovernment
		} else {
			f.emp = float64(1 + r.IntN(9))
		}
	}
	f.seg, f.anti = chSegment(f)
	mix := []float64{.15, .30, .20, .20, .10, .05}
	switch {
	case f.anti:
		mix = []float64{.04, .30, .12, .45, .06, .03}
	case f.seg == SegCHEnterprise:
		mix = []float64{.35, .08, .25, .04, .25, .03}
	case f.seg == SegCHSelfServe:
		mix = []float64{.06, .48, .06, .32, .03, .05}
	}
	f.src = r.pick(mix...)
	f.visits = math.Round(r.logNormal(20*math.Pow(f.emp, 0.25), 0.6))
	f.demo = r.bern(.35)

	lg := logit(.15)
	median := 20000 * math.Pow(f.emp/200, 0.3)
	switch {
	case f.anti:
		lg, median = logit(.04), 6000
	case f.seg == SegCHSelfServe:
		lg, median = logit(.55), 7000
	case f.seg == SegCHEnterprise:
		lg, median = logit(.35), 140000*math.Pow(f.emp/3000, 0.2)
	}
	lg += chChannelOdds()[f.src]
	if f.demo {
		lg += 0.3
	}
	lg += 0.25 * r.NormFloat64()
	f.p = sigmoidx(lg)
	f.median = median * chChannelValue()[f.src]
	return f
}

// channelsExport draws the channels dialect: one deal per account in a
// CRM deals export with a lead source and the contract value of won deals.
func channelsExport(cfg Config) *Export {
	header := []string{"Account ID", "Company", "Industry", "Employees", "Country", "Lead Source", "Tech Stack",
		"Web Visits (30d)", "Demo Requested", "Deal Stage", "Close Date", "Contract Value"}
	inds, tools, srcs := chIndustries(), chTools(), ChannelNames()
	ctys := [...]string{"United States", "United Kingdom", "Germany", "Canada", "Australia"}
	open := [...]string{"Discovery", "Proposal", "Negotiation"}
	start := windowStart()
	e := &Export{Sheets: []Sheet{{Name: "deals", Header: header, Rows: make([][]string, cfg.Rows)}},
		Truth: make([]AccountTruth, cfg.Rows)}
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltChannels, i)
		f := drawCHFirm(r)
		id := fmt.Sprintf("CH-%06d", i+1)
		won := r.bern(f.p)
		isOpen := r.bern(.08)
		closeDate := start.AddDate(0, 0, r.outcomeDay())
		value := math.Round(f.median*math.Exp(chValueSigma*r.NormFloat64())/100) * 100
		miss := r.tags([]float64{.03, .04, .05, .06})
		row := make([]string, len(header))
		row[0] = id
		row[1] = r.companyName()
		if !miss[0] {
			row[2] = inds[f.ind]
		}
		if !miss[1] {
			row[3] = num(f.emp)
		}
		row[4] = ctys[f.cty]
		if !miss[2] {
			row[5] = srcs[f.src]
		}
		if !miss[3] {
			var on []string
			for k, x := range f.tools {
				if x {
					on = append(on, tools[k])
				}
			}
			row[6] = strings.Join(on, ";")
		}
		row[7] = num(f.visits)
		row[8] = map[bool]string{true: "Yes", false: "No"}[f.demo]
		switch {
		case isOpen:
			row[9] = open[r.IntN(len(open))]
		case won:
			row[9], row[10], row[11] = "Closed Won", closeDate.Format("2006-01-02"), dollars(value)
		default:
			row[9], row[10] = "Closed Lost", closeDate.Format("2006-01-02")
		}
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: id, Segment: f.seg, AntiICP: f.anti, WinProb: f.p,
			Value: f.median * math.Exp(chValueSigma*chValueSigma/2), Channel: srcs[f.src]}
	}
	return e
}

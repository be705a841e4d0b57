package synth

import (
	"fmt"
	"math"
)

// The true segments of the twotable dialect.
const (
	SegTTIndustrialPublic = "tt_industrial_public"
	SegTTTechGrowth       = "tt_tech_growth"
)

func ttTools() []string {
	return []string{"sap", "oracle", "snowflake", "aws", "azure", "jira", "slack", "salesforce", "workday", "tableau"}
}

const (
	ttSAP       = 0
	ttSnowflake = 2
	ttAWS       = 3
	ttJira      = 5
)

// ttAccount is one account of the twotable dialect.
type ttAccount struct {
	ind, cty, own, src int
	emp, rev           float64
	tools              []bool
	seg                string
	anti               bool
	p                  float64
}

// ttSegment applies the true recipes of the twotable dialect.
func ttSegment(a *ttAccount) (string, bool) {
	if a.ind == sfGovernment || a.emp < 10 {
		return NoSegment, true
	}
	if a.ind == sfTech && a.rev >= 10e6 && a.rev <= 500e6 && a.tools[ttAWS] && a.tools[ttJira] {
		return SegTTTechGrowth, false
	}
	if inSet(a.ind, sfManufacturing, sfEnergy) && a.emp >= 500 && a.emp <= 10_000 &&
		(a.tools[ttSAP] || a.tools[ttSnowflake]) && a.own == ownPublic {
		return SegTTIndustrialPublic, false
	}
	return NoSegment, false
}

func drawTTAccount(r xrand) *ttAccount {
	a := &ttAccount{
		ind: r.pick(sfIndustryWeights()...), cty: r.pick(sfCountryWeights()...),
		own: r.pick(.18, .62, .15, .05), src: r.pick(.30, .15, .12, .25, .10, .08),
	}
	a.emp = math.Round(clampf(r.logNormal(sfMedianEmployees()[a.ind], 1.3), 1, 100_000))
	a.tools = r.tags([]float64{.15, .15, .15, .45, .25, .35, .55, .30, .12, .20})
	switch r.pick(.10, .12, .12, .66) {
	case 0:
		a.ind = [2]int{sfManufacturing, sfEnergy}[r.pick(.6, .4)]
		a.emp = math.Round(r.between(500, 10_000))
		a.own = ownPublic
		if !a.tools[ttSAP] && !a.tools[ttSnowflake] {
			a.tools[[2]int{ttSAP, ttSnowflake}[r.pick(.6, .4)]] = true
		}
	case 1:
		a.ind = sfTech
		a.emp = math.Round(r.between(60, 2500))
		a.tools[ttAWS], a.tools[ttJira] = true, true
	case 2:
		if r.bern(.5) {
			a.ind = sfGovernment
		} else {
			a.emp = float64(1 + r.IntN(9))
		}
	}
	a.rev = math.Round(a.emp*r.logNormal(180e3, 0.5)/1000) * 1000
	a.seg, a.anti = ttSegment(a)
	lg := logit(.16)
	switch {
	case a.anti:
		lg = logit(.04)
	case a.seg == SegTTIndustrialPublic:
		lg = logit(.55)
	case a.seg == SegTTTechGrowth:
		lg = logit(.60)
	}
	if a.src == srcPartner {
		lg += 0.4
	}
	lg += 0.3 * r.NormFloat64()
	a.p = sigmoidx(lg)
	return a
}

// twoTableExport draws the twotable dialect: an accounts table and an
// opportunities table that refers to it by "AccountId".
func twoTableExport(cfg Config) *Export {
	accHeader := []string{"Account ID", "Account Name", "Industry", "Employees", "Annual Revenue",
		"Billing Country", "Ownership", "Tech Stack", "Account Source", "Created Date"}
	oppHeader := []string{"Opportunity ID", "AccountId", "Opportunity Name", "Stage", "Amount",
		"Close Date", "Created Date", "Type", "Forecast Category", "Next Step"}
	inds, ctys, owns, srcs, tools := sfIndustries(), sfCountries(), sfOwnerships(), sfLeadSources(), ttTools()
	stages, _ := openStages()
	steps := [...]string{"Send proposal", "Schedule demo", "Legal review", "Follow up after QBR", "Intro to CFO", ""}
	start := windowStart()
	e := &Export{
		Sheets: []Sheet{
			{Name: "accounts", Header: accHeader, Rows: make([][]string, cfg.Rows)},
			{Name: "opportunities", Header: oppHeader},
		},
		Truth: make([]AccountTruth, cfg.Rows),
	}
	opp := 0
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltTwoTable, i)
		a := drawTTAccount(r)
		id := fmt.Sprintf("001T%010d", i+1)
		name := r.companyName()
		miss := r.tags([]float64{.04, .08, .02, .03, .07})
		row := make([]string, len(accHeader))
		row[0], row[1] = id, name
		if !miss[2] {
			row[2] = inds[a.ind]
		}
		if !miss[0] {
			row[3] = num(a.emp)
		}
		if !miss[1] {
			row[4] = num(a.rev)
		}
		if !miss[3] {
			row[5] = ctys[a.cty]
		}
		row[6] = owns[a.own]
		if !miss[4] {
			row[7] = joinTags(a.tools, tools, ";")
		}
		row[8] = srcs[a.src]
		first := r.IntN(windowDays - 60)
		row[9] = start.AddDate(0, 0, max(0, first-r.IntN(200))).Format("2006-01-02")
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: id, Segment: a.seg, AntiICP: a.anti, WinProb: a.p}

		// The deals: each wins with the account's probability; after a
		// win come renewals and upsells.
		deals := 1 + r.pick(.55, .25, .12, .08)
		day := first
		won := false
		for k := range deals {
			opp++
			cycle := int(math.Round(clampf(r.logNormal(50, 0.5), 5, 400)))
			amount := math.Round(r.logNormal(15000*math.Sqrt(a.emp/100+1), 0.5)/100) * 100
			typ := "New Business"
			if won {
				typ = [2]string{"Renewal", "Upsell"}[r.IntN(2)]
			}
			d := []string{fmt.Sprintf("006T%010d", opp), id, name + " - " + typ, "", num(amount), "", "", typ, "",
				steps[r.IntN(len(steps))]}
			closeDay := day + cycle
			last := k == deals-1
			switch {
			case closeDay >= windowDays || last && r.bern(.12):
				s := r.IntN(len(stages))
				d[3] = stages[s]
				d[5] = start.AddDate(0, 0, windowDays+r.IntN(120)).Format("2006-01-02")
				d[8] = [...]string{"Pipeline", "Pipeline", "Best Case", "Commit", "Commit"}[s]
			case r.bern(a.p):
				d[3], d[5], d[8] = "Closed Won", start.AddDate(0, 0, closeDay).Format("2006-01-02"), "Closed"
				won = true
			default:
				d[3], d[5], d[8] = "Closed Lost", start.AddDate(0, 0, closeDay).Format("2006-01-02"), "Omitted"
			}
			d[6] = start.AddDate(0, 0, min(day, windowDays-1)).Format("2006-01-02")
			e.Sheets[1].Rows = append(e.Sheets[1].Rows, d)
			if closeDay >= windowDays {
				break
			}
			day = closeDay + r.IntN(120)
		}
	}
	return e
}

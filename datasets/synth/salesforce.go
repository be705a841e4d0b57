package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Vocabularies of the Salesforce-style dialects (salesforce, twotable).
func sfIndustries() []string {
	return []string{"Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing",
		"Education", "Government", "Media", "Transportation", "Consulting", "Nonprofit", "Energy"}
}

// Indices into sfIndustries.
const (
	sfTech = iota
	sfFinServ
	sfHealth
	sfRetail
	sfManufacturing
	sfEducation
	sfGovernment
	sfMedia
	sfTransport
	sfConsulting
	sfNonprofit
	sfEnergy
)

func sfIndustryWeights() []float64 {
	return []float64{.16, .09, .10, .09, .10, .06, .06, .06, .07, .11, .04, .06}
}

// sfMedianEmployees is the median head count of each industry.
func sfMedianEmployees() []float64 {
	return []float64{120, 300, 500, 250, 400, 200, 1500, 80, 300, 30, 40, 800}
}

func sfCountries() []string {
	return []string{"United States", "Canada", "United Kingdom", "Germany", "France", "Netherlands",
		"India", "Australia", "Brazil", "Mexico", "Singapore"}
}

func sfCountryWeights() []float64 {
	return []float64{.38, .06, .10, .08, .05, .03, .09, .05, .07, .05, .04}
}

func sfOwnerships() []string { return []string{"Public", "Private", "Subsidiary", "Other"} }

const (
	ownPublic = iota
	ownPrivate
	ownSubsidiary
	ownOther
)

func sfLeadSources() []string {
	return []string{"Web", "Partner Referral", "Trade Show", "Outbound", "Advertisement", "Employee Referral"}
}

const (
	srcWeb = iota
	srcPartner
	srcTradeShow
	srcOutbound
	srcAdvertisement
	srcEmployee
)

func sfTools() []string {
	return []string{"Salesforce", "HubSpot", "AWS", "Azure", "GCP", "Snowflake", "Slack", "Zendesk",
		"Jira", "Marketo", "Stripe", "Workday"}
}

const (
	toolSFSalesforce = iota
	toolSFHubSpot
	toolSFAWS
	toolSFAzure
	toolSFGCP
	toolSFSnowflake
	toolSFSlack
	toolSFZendesk
	toolSFJira
	toolSFMarketo
	toolSFStripe
	toolSFWorkday
)

func sfToolRates() []float64 {
	return []float64{.30, .25, .45, .25, .15, .15, .55, .20, .35, .10, .20, .12}
}

func sfReps() []string {
	return []string{"Dana Whitfield", "Marco Alvarez", "Priya Nair", "Tom Becker", "Aisha Okafor",
		"Liam O'Connor", "Sofia Rossi", "Kenji Watanabe"}
}

// openStages lists the open opportunity stages with their default
// probabilities.
func openStages() ([]string, []string) {
	return []string{"Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"},
		[]string{"10%", "20%", "25%", "60%", "80%"}
}

// The true segments of the salesforce dialect.
const (
	SegSFFinServMidmarket = "sf_finserv_midmarket"
	SegSFHealthPublic     = "sf_health_public"
)

// sfFirm is one account of the salesforce dialect before missingness.
type sfFirm struct {
	ind, cty, own, src int
	emp, rev           float64
	tools              []bool
	meetings           float64
	seg                string
	anti               bool
	p                  float64
}

// sfSegment applies the true recipes of the salesforce dialect.
func sfSegment(f *sfFirm) (string, bool) {
	if f.ind == sfGovernment || f.ind == sfNonprofit || f.emp < 15 {
		return NoSegment, true
	}
	if f.ind == sfHealth && f.own == ownPublic && f.rev >= 50e6 && f.rev <= 2e9 &&
		f.tools[toolSFAWS] && f.tools[toolSFSnowflake] {
		return SegSFHealthPublic, false
	}
	if inSet(f.ind, sfTech, sfFinServ) && f.emp >= 100 && f.emp <= 2000 &&
		(f.tools[toolSFSalesforce] || f.tools[toolSFHubSpot]) && f.cty <= 2 {
		return SegSFFinServMidmarket, false
	}
	return NoSegment, false
}

// drawSFFirm draws a firm of the Salesforce-style vocabulary from a
// mixture: a share is pushed into each recipe, the rest is drawn freely,
// and the truth is then read from the recipes.
func drawSFFirm(r xrand) *sfFirm {
	f := &sfFirm{
		ind: r.pick(sfIndustryWeights()...), cty: r.pick(sfCountryWeights()...),
		own: r.pick(.15, .65, .15, .05), src: r.pick(.30, .15, .12, .25, .10, .08),
	}
	f.emp = math.Round(clampf(r.logNormal(sfMedianEmployees()[f.ind], 1.3), 1, 100_000))
	f.tools = r.tags(sfToolRates())
	switch r.pick(.14, .08, .12, .66) {
	case 0: // into sf_finserv_midmarket
		f.ind = sfFinServ
		if r.bern(.6) {
			f.ind = sfTech
		}
		f.emp = math.Round(r.between(100, 2000))
		f.cty = r.pick(.75, .10, .15)
		if !f.tools[toolSFSalesforce] && !f.tools[toolSFHubSpot] {
			f.tools[r.pick(.6, .4)] = true
		}
	case 1: // into sf_health_public
		f.ind, f.own = sfHealth, ownPublic
		f.tools[toolSFAWS], f.tools[toolSFSnowflake] = true, true
		f.emp = math.Round(r.between(400, 8000))
	case 2: // into the anti-ICP
		if r.bern(.5) {
			f.ind = sfGovernment
			if r.bern(.3) {
				f.ind = sfNonprofit
			}
		} else {
			f.emp = float64(1 + r.IntN(14))
		}
	}
	f.rev = math.Round(f.emp*r.logNormal(180e3, 0.5)/1000) * 1000
	f.meetings = float64(poisson(r.Rand, math.Exp(0.9+0.5*r.NormFloat64())))
	f.seg, f.anti = sfSegment(f)

	lg := logit(.17)
	switch {
	case f.anti:
		lg = logit(.04)
	case f.seg == SegSFFinServMidmarket:
		lg = logit(.62)
	case f.seg == SegSFHealthPublic:
		lg = logit(.55)
	}
	switch f.src {
	case srcPartner:
		lg += 0.5
	case srcEmployee:
		lg += 0.3
	case srcAdvertisement:
		lg -= 0.3
	}
	if f.tools[toolSFSlack] {
		lg += 0.2
	}
	lg += 0.25*(f.meetings-2.5)/1.5 + 0.25*r.NormFloat64()
	f.p = sigmoidx(lg)
	return f
}

// salesforceExport draws the salesforce dialect: one opportunity per
// account in a Salesforce opportunity report.
func salesforceExport(cfg Config) *Export {
	header := []string{"", "Opportunity ID", "Opportunity Name", "Account ID", "Account Name",
		"Opportunity Owner", "Stage", "Probability (%)", "Close Date", "Created Date", "Amount",
		"Annual Revenue", "Employees", "Industry", "Billing Country", "Ownership", "Lead Source",
		"Tech Stack", "Meetings Held", "Contract Signed", "Customer Since", "Lifetime Value", "Description"}
	inds, ctys, owns, srcs, tools, reps := sfIndustries(), sfCountries(), sfOwnerships(), sfLeadSources(), sfTools(), sfReps()
	stages, stageProb := openStages()
	start := windowStart()
	e := &Export{Sheets: []Sheet{{Name: "opportunities", Header: header, Rows: make([][]string, cfg.Rows)}},
		Truth: make([]AccountTruth, cfg.Rows)}
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltSalesforce, i)
		f := drawSFFirm(r)
		accID := fmt.Sprintf("001Q%011d", i+1)
		name := r.companyName()
		rep := reps[r.IntN(len(reps))]
		won := r.bern(f.p)
		open := r.bern(.10)
		day := r.outcomeDay()
		cycle := math.Round(clampf(r.logNormal(45, 0.5), 5, 400))
		closeDate := start.AddDate(0, 0, day)
		created := closeDate.AddDate(0, 0, -int(cycle))
		acv := math.Round(r.logNormal(20000*math.Sqrt(f.emp/100), 0.4)/100) * 100
		life := r.between(1.5, 6)
		miss := r.tags([]float64{.04, .08, .02, .03, .07, .05, .15})

		row := make([]string, len(header))
		row[0] = strconv.Itoa(i)
		row[1] = fmt.Sprintf("006Q%011d", i+1)
		row[2] = name + " - New Business"
		row[3] = accID
		row[4] = name
		row[5] = rep
		row[9] = usDate(created)
		switch {
		case open:
			k := r.IntN(len(stages))
			row[6], row[7] = stages[k], stageProb[k]
			if r.bern(.6) { // a planned close date in the future
				row[8] = usDate(start.AddDate(0, 0, windowDays+r.IntN(180)))
			}
			row[9] = usDate(start.AddDate(0, 0, windowDays-r.IntN(120)))
		case won:
			row[6], row[7], row[8] = "Closed Won", "100%", usDate(closeDate)
			row[10] = dollars(acv)
			row[19], row[20] = "Yes", usDate(closeDate)
			row[21] = dollars(math.Round(acv * life))
		default:
			row[6], row[7], row[8] = "Closed Lost", "0%", usDate(closeDate)
		}
		if !miss[1] {
			row[11] = dollars(f.rev)
		}
		if !miss[0] {
			row[12] = num(f.emp)
		}
		if !miss[2] {
			row[13] = inds[f.ind]
		}
		if !miss[3] {
			row[14] = ctys[f.cty]
		}
		row[15] = owns[f.own]
		if !miss[5] {
			row[16] = srcs[f.src]
		}
		if !miss[4] {
			var parts []string
			for k, on := range f.tools {
				if on {
					parts = append(parts, r.messyCase(tools[k]))
				}
			}
			sep := ", "
			if r.bern(.2) {
				sep = ","
			}
			row[17] = strings.Join(parts, sep)
		}
		row[18] = num(f.meetings)
		if !miss[6] {
			row[22] = sfNote(r, rep, name, f)
		}
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: accID, Segment: f.seg, AntiICP: f.anti, WinProb: f.p}
	}
	return e
}

// sfNote writes a free-text note as reps type them.
func sfNote(r xrand, rep, name string, f *sfFirm) string {
	first, _, _ := strings.Cut(rep, " ")
	topics := [...]string{
		"asked about pricing tiers", "wants an SSO demo", "evaluating two other vendors",
		"budget review next quarter", "sent the security questionnaire", "champion is the VP Ops",
		"procurement needs a W-9", "interested in the API, follow up",
	}
	note := fmt.Sprintf("%s met %d people from %s; %s.", first, 1+int(f.meetings), name, topics[r.IntN(len(topics))])
	if r.bern(.3) {
		note += fmt.Sprintf("\nNext call %d/%d, re: %s", 1+r.IntN(12), 1+r.IntN(28), topics[r.IntN(len(topics))])
	}
	return note
}

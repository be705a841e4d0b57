package synth

import (
	"math"
	"strconv"
	"time"
)

// The true segments of the hubspot dialect.
const (
	SegHSSoftwareSMB  = "hs_software_smb"
	SegHSRetailPublic = "hs_retail_public"
)

func hsIndustries() []string {
	return []string{"COMPUTER_SOFTWARE", "INTERNET", "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE",
		"RETAIL", "CONSUMER_GOODS", "MARKETING_AND_ADVERTISING", "EDUCATION_MANAGEMENT",
		"GOVERNMENT_ADMINISTRATION", "NON_PROFIT_ORGANIZATION_MANAGEMENT", "LOGISTICS_AND_SUPPLY_CHAIN",
		"MANAGEMENT_CONSULTING"}
}

const (
	hsSoftware = iota
	hsInternet
	hsFinance
	hsHealth
	hsRetail
	hsConsumer
	hsMarketing
	hsEducation
	hsGovernment
	hsNonprofit
	hsLogistics
	hsConsulting
)

func hsSources() []string {
	return []string{"ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
		"DIRECT_TRAFFIC", "OFFLINE", "OTHER_CAMPAIGNS"}
}

const (
	hsOrganic  = 0
	hsReferral = 4
)

func hsTechnologies() []string {
	return []string{"google_analytics", "hubspot", "stripe", "segment", "shopify", "wordpress",
		"salesforce", "intercom", "zendesk", "google_tag_manager", "facebook_pixel", "aws"}
}

const (
	hsTechGA      = 0
	hsTechStripe  = 2
	hsTechSegment = 3
	hsTechShopify = 4
)

// hsFirm is one company of the hubspot dialect before missingness.
type hsFirm struct {
	ind, cty, src int
	public        bool
	emp, rev      float64
	tech          []bool
	sessions      float64
	seg           string
	anti          bool
	p             float64
}

// hsSegment applies the true recipes of the hubspot dialect.
func hsSegment(f *hsFirm) (string, bool) {
	if f.ind == hsGovernment || f.ind == hsNonprofit || f.emp < 5 {
		return NoSegment, true
	}
	if inSet(f.ind, hsRetail, hsConsumer) && f.public && f.tech[hsTechShopify] && f.tech[hsTechGA] &&
		f.rev >= 20e6 && f.rev <= 5e9 {
		return SegHSRetailPublic, false
	}
	if inSet(f.ind, hsSoftware, hsInternet) && f.emp >= 20 && f.emp <= 200 &&
		(f.tech[hsTechStripe] || f.tech[hsTechSegment]) && inSet(f.src, hsOrganic, hsReferral) {
		return SegHSSoftwareSMB, false
	}
	return NoSegment, false
}

func drawHSFirm(r xrand) *hsFirm {
	f := &hsFirm{
		ind: r.pick(.14, .08, .08, .08, .09, .07, .09, .07, .05, .05, .08, .12),
		cty: r.pick(sfCountryWeights()...),
		src: r.pick(.25, .15, .12, .10, .10, .15, .08, .05),
	}
	f.emp = math.Round(clampf(r.logNormal(60, 1.4), 1, 50_000))
	f.public = r.bern(.12)
	f.tech = r.tags([]float64{.70, .30, .25, .12, .08, .35, .20, .12, .15, .50, .35, .30})
	switch r.pick(.15, .08, .12, .65) {
	case 0:
		f.ind = hsSoftware
		if r.bern(.35) {
			f.ind = hsInternet
		}
		f.emp = math.Round(r.between(20, 200))
		if !f.tech[hsTechStripe] && !f.tech[hsTechSegment] {
			f.tech[[2]int{hsTechStripe, hsTechSegment}[r.pick(.6, .4)]] = true
		}
		f.src = [2]int{hsOrganic, hsReferral}[r.pick(.6, .4)]
	case 1:
		f.ind = [2]int{hsRetail, hsConsumer}[r.pick(.6, .4)]
		f.public = true
		f.tech[hsTechShopify], f.tech[hsTechGA] = true, true
		f.emp = math.Round(r.between(150, 20000))
	case 2:
		if r.bern(.55) {
			f.ind = [2]int{hsGovernment, hsNonprofit}[r.pick(.5, .5)]
		} else {
			f.emp = float64(1 + r.IntN(4))
		}
	}
	f.rev = math.Round(f.emp*r.logNormal(150e3, 0.6)/1000) * 1000
	eng := r.NormFloat64()
	f.sessions = math.Round(r.logNormal(12*math.Exp(0.5*eng), 0.4))
	f.seg, f.anti = hsSegment(f)
	lg := logit(.15)
	switch {
	case f.anti:
		lg = logit(.03)
	case f.seg == SegHSSoftwareSMB:
		lg = logit(.58)
	case f.seg == SegHSRetailPublic:
		lg = logit(.52)
	}
	if f.src == hsReferral {
		lg += 0.3
	}
	lg += 0.45*eng + 0.25*r.NormFloat64()
	f.p = sigmoidx(lg)
	return f
}

// hubspotExport draws the hubspot dialect: a HubSpot companies export.
func hubspotExport(cfg Config) *Export {
	header := []string{"Record ID", "Company name", "Company Domain Name", "Company owner", "Create Date",
		"Lifecycle Stage", "Lead Status", "Close Date", "Became a Customer Date", "Number of Employees",
		"Annual Revenue", "Industry", "Country/Region", "Is Public", "Original Source", "Technologies",
		"Number of Sessions", "Number of Pageviews", "Total Revenue", "Days to Close"}
	inds, ctys, srcs, techs, reps := hsIndustries(), sfCountries(), hsSources(), hsTechnologies(), sfReps()
	openStages := [...]string{"Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity"}
	start := windowStart()
	e := &Export{Sheets: []Sheet{{Name: "companies", Header: header, Rows: make([][]string, cfg.Rows)}},
		Truth: make([]AccountTruth, cfg.Rows)}
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltHubSpot, i)
		f := drawHSFirm(r)
		id := strconv.FormatInt(int64(9_000_000_000+13*i+r.IntN(13)), 10)
		name := r.companyName()
		won := r.bern(f.p)
		open := r.bern(.12)
		closeAt := start.Add(time.Duration(r.IntN(windowDays*86400)) * time.Second)
		cycle := math.Round(clampf(r.logNormal(40, 0.6), 3, 500))
		created := closeAt.Add(-time.Duration(cycle*24*3600+float64(r.IntN(86400))) * time.Second)
		deal := math.Round(r.logNormal(8000*math.Sqrt(f.emp/20), 0.5))
		miss := r.tags([]float64{.06, .15, .02, .04, .08, .03})

		row := make([]string, len(header))
		row[0] = id
		row[1] = name
		row[2] = hsDomain(name)
		if r.bern(.9) {
			row[3] = reps[r.IntN(len(reps))]
		}
		row[4] = created.Format("2006-01-02 15:04")
		stamp := closeAt.Format("2006-01-02T15:04:05.000Z")
		switch {
		case open:
			row[5] = openStages[r.IntN(len(openStages))]
			row[6] = [...]string{"New", "Open", "In Progress", "Attempted to Contact"}[r.IntN(4)]
			row[4] = start.AddDate(0, 0, windowDays-r.IntN(90)).Add(time.Duration(r.IntN(86400)) * time.Second).Format("2006-01-02 15:04")
		case won:
			row[5] = "Customer"
			if r.bern(.1) {
				row[5] = "Evangelist"
			}
			row[7], row[8] = stamp, stamp
			row[18], row[19] = num(deal), num(cycle)
		default:
			row[5] = "Other"
			row[6] = [...]string{"Unqualified", "Bad Timing"}[r.IntN(2)]
			row[7] = stamp
		}
		if !miss[0] {
			row[9] = num(f.emp)
		}
		if !miss[1] {
			row[10] = num(f.rev)
		}
		if !miss[2] {
			row[11] = inds[f.ind]
		}
		if !miss[3] {
			row[12] = ctys[f.cty]
		}
		row[13] = strconv.FormatBool(f.public)
		if !miss[5] {
			row[14] = srcs[f.src]
		}
		if !miss[4] {
			row[15] = joinTags(f.tech, techs, ";")
		}
		row[16] = num(f.sessions)
		row[17] = num(math.Round(f.sessions * r.between(1.5, 5)))
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: id, Segment: f.seg, AntiICP: f.anti, WinProb: f.p}
	}
	return e
}

// hsDomain derives a web domain from a company name.
func hsDomain(name string) string {
	var b []byte
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == ' ':
			return string(b) + ".com"
		}
	}
	return string(b) + ".com"
}

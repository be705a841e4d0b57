package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The true segments of the subscription dialect: customers who stay.
const (
	SegSubAnnualCRM     = "sub_annual_crm"
	SegSubSSOEnterprise = "sub_sso_enterprise"
)

const (
	planStarter = iota
	planGrowth
	planPro
	planEnterprise
)

func subIndustries() []string {
	return []string{"saas", "ecommerce", "agency", "education", "healthcare", "finance", "nonprofit",
		"media", "manufacturing"}
}

const (
	subSaaS       = 0
	subHealthcare = 4
	subFinance    = 5
)

func subIntegrations() []string {
	return []string{"slack", "zapier", "salesforce", "hubspot", "google_workspace", "microsoft_teams",
		"jira", "github", "stripe"}
}

const (
	intSlack      = 0
	intSalesforce = 2
	intHubSpot    = 3
	intJira       = 6
)

// subCustomer is one customer of the subscription dialect.
type subCustomer struct {
	plan, ind  int
	annual     bool
	sso        bool
	seats, emp float64
	ints       []bool
	logins     float64
	tickets    float64
	seg        string
	anti       bool
	p          float64 // probability of staying
}

// subSegment applies the true recipes of the subscription dialect.
func subSegment(c *subCustomer) (string, bool) {
	if c.plan == planStarter && !c.annual && c.seats <= 2 {
		return NoSegment, true
	}
	if c.sso && c.plan == planEnterprise && inSet(c.ind, subFinance, subHealthcare, subSaaS) &&
		c.ints[intSlack] && c.ints[intJira] {
		return SegSubSSOEnterprise, false
	}
	if c.annual && c.seats >= 10 && c.seats <= 200 && (c.ints[intSalesforce] || c.ints[intHubSpot]) &&
		inSet(c.plan, planGrowth, planPro) {
		return SegSubAnnualCRM, false
	}
	return NoSegment, false
}

// subSeats draws the seats of a plan.
func subSeats(r xrand, plan int) float64 {
	lo := [...]float64{1, 3, 10, 50}[plan]
	hi := [...]float64{5, 25, 150, 2000}[plan]
	return math.Round(r.between(lo, hi))
}

func drawCustomer(r xrand) *subCustomer {
	c := &subCustomer{plan: r.pick(.40, .30, .20, .10), ind: r.pick(.22, .14, .14, .08, .08, .10, .07, .09, .08)}
	c.annual = r.bern([...]float64{.15, .30, .45, .75}[c.plan])
	c.sso = r.bern([...]float64{.01, .05, .25, .70}[c.plan])
	c.seats = subSeats(r, c.plan)
	c.ints = r.tags([]float64{.60, .30, .15, .20, .45, .25, .25, .20, .15})
	switch r.pick(.15, .07, .15, .63) {
	case 0:
		c.annual = true
		c.plan = [2]int{planGrowth, planPro}[r.pick(.6, .4)]
		c.seats = math.Round(r.between(10, 200))
		if !c.ints[intSalesforce] && !c.ints[intHubSpot] {
			c.ints[[2]int{intSalesforce, intHubSpot}[r.pick(.5, .5)]] = true
		}
	case 1:
		c.plan, c.sso = planEnterprise, true
		c.ind = [3]int{subFinance, subHealthcare, subSaaS}[r.IntN(3)]
		c.ints[intSlack], c.ints[intJira] = true, true
		c.seats = subSeats(r, planEnterprise)
	case 2:
		c.plan, c.annual = planStarter, false
		c.seats = float64(1 + r.IntN(2))
	}
	c.emp = math.Round(c.seats * r.between(1.2, 12))
	eng := r.NormFloat64()
	c.logins = float64(poisson(r.Rand, math.Min(c.seats*math.Exp(1+0.5*eng), 5000)))
	c.tickets = float64(poisson(r.Rand, math.Exp(-0.5+0.3*math.Log(c.seats)+0.4*r.NormFloat64())))
	c.seg, c.anti = subSegment(c)
	lg := logit(.62)
	switch {
	case c.anti:
		lg = logit(.25)
	case c.seg == SegSubAnnualCRM:
		lg = logit(.88)
	case c.seg == SegSubSSOEnterprise:
		lg = logit(.90)
	}
	lg += 0.45*eng - 0.1*(c.tickets-1) + 0.25*r.NormFloat64()
	c.p = sigmoidx(lg)
	return c
}

// subscriptionExport draws the subscription dialect: a subscription and
// churn table of a SaaS product.
func subscriptionExport(cfg Config) *Export {
	header := []string{"customer_id", "company", "signup_date", "plan", "billing_cycle", "seats", "mrr",
		"industry", "company_size", "country", "integrations", "has_sso", "logins_30d",
		"support_tickets_90d", "nps_score", "churned", "churn_date", "cancellation_reason", "lifetime_value"}
	plans := [...]string{"Starter", "Growth", "Pro", "Enterprise"}
	price := [...]float64{12, 25, 45, 70}
	inds, ints := subIndustries(), subIntegrations()
	countries := [...]string{"US", "GB", "DE", "CA", "AU", "FR", "IN", "BR", "NL", "ES"}
	reasons := [...]string{"too expensive", "missing features", "switched to competitor", "business closed", "not using it"}
	start := windowStart()
	end := start.AddDate(0, 0, windowDays) // the day of the export
	e := &Export{Sheets: []Sheet{{Name: "customers", Header: header, Rows: make([][]string, cfg.Rows)}},
		Truth: make([]AccountTruth, cfg.Rows)}
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltSubscription, i)
		c := drawCustomer(r)
		id := fmt.Sprintf("CUS-%06d", i+1)
		signup := start.AddDate(0, 0, r.IntN(windowDays-30))
		stays := r.bern(c.p)
		months := end.Sub(signup).Hours() / 24 / 30.4
		if !stays {
			months = math.Max(1, math.Round(months*r.Float64()))
		}
		mrr := c.seats * price[c.plan]
		if c.annual {
			mrr *= 0.85
		}
		mrr = math.Round(mrr*r.between(0.9, 1.1)*100) / 100
		row := make([]string, len(header))
		row[0] = id
		row[1] = r.companyName()
		row[2] = signup.Format("2006-01-02")
		row[3] = plans[c.plan]
		row[4] = map[bool]string{true: "annual", false: "monthly"}[c.annual]
		row[5] = num(c.seats)
		row[6] = strconv.FormatFloat(mrr, 'f', 2, 64)
		if r.bern(.97) {
			row[7] = inds[c.ind]
		}
		row[8] = subSize(c.emp)
		if r.bern(.95) {
			row[9] = countries[r.pick(.40, .12, .10, .08, .06, .06, .08, .05, .03, .02)]
		}
		var on []string
		for k, x := range c.ints {
			if x {
				on = append(on, ints[k])
			}
		}
		row[10] = strings.Join(on, ",")
		row[11] = strconv.FormatBool(c.sso)
		row[12] = num(c.logins)
		row[13] = num(c.tickets)
		// The NPS question is asked in the cancellation flow (an exit
		// survey, answered by nine churners in ten) and of one retained
		// customer in twenty: it is filled after the outcome.
		if !stays && r.bern(.9) || stays && r.bern(.05) {
			nps := 7 + 2*r.NormFloat64()
			if !stays {
				nps -= 1.5
			}
			row[14] = num(math.Round(clampf(nps, 0, 10)))
		}
		row[15] = "no"
		if !stays {
			row[15] = "yes"
			churn := signup.AddDate(0, 0, int(months*30.4))
			if churn.After(end) {
				churn = end
			}
			row[16] = churn.Format("2006-01-02")
			row[17] = reasons[r.IntN(len(reasons))]
		}
		row[18] = strconv.FormatFloat(math.Round(mrr*months*100)/100, 'f', 2, 64)
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: id, Segment: c.seg, AntiICP: c.anti, WinProb: c.p}
	}
	return e
}

// subSize writes a head count as a size band.
func subSize(emp float64) string {
	switch {
	case emp <= 10:
		return "1-10"
	case emp <= 50:
		return "11-50"
	case emp <= 200:
		return "51-200"
	case emp <= 1000:
		return "201-1000"
	case emp <= 5000:
		return "1001-5000"
	}
	return "5000+"
}

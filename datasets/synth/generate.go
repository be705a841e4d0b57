package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp/datasets"
)

// The ground-truth segments of generated tables.
const (
	SegmentSaaSMidmarket    = "icp_saas_midmarket"
	SegmentEcomScale        = "icp_ecom_scale"
	SegmentHealthEnterprise = "icp_health_enterprise"
	SegmentAntiICP          = "anti_icp"
	SegmentOther            = "other"
	// SegmentEmerging exists only in tables generated with
	// Config.Emerging, and only after Config.EmergingFrom.
	SegmentEmerging = "emerging_logistics_enterprise"
)

// Segments lists the ground-truth segments in a fixed order: the four of
// the base mixture, "other", then the emerging segment.
func Segments() []string {
	return []string{SegmentSaaSMidmarket, SegmentEcomScale, SegmentHealthEnterprise,
		SegmentAntiICP, SegmentOther, SegmentEmerging}
}

// AccountColumns lists the columns of a generated table, in order. They
// match the Python reference generator gen_accounts.py.
func AccountColumns() []string {
	return []string{"account_id", "industry", "employees", "annual_revenue_usd", "country",
		"region", "founded_year", "funding_stage", "business_model", "tech_stack",
		"web_visits_30d", "trial_users", "support_tickets_90d", "outcome", "close_date",
		"sales_cycle_days", "ltv_usd", "churned"}
}

// Config configures Generate. The zero value of every field but
// Rows has a documented default.
type Config struct {
	// Rows is the number of accounts.
	Rows int
	// Seed seeds the random streams; the same configuration always yields
	// the same table.
	Seed uint64
	// Start is the first close date. Zero means 2022-01-01 UTC.
	Start time.Time
	// Days is the length of the close-date window. Zero means 1096 (three
	// years).
	Days int
	// Emerging adds the segment "emerging_logistics_enterprise" (Logistics,
	// employees >= 1000, snowflake in tech_stack, base p(win) .55), which
	// exists only for deals closing on or after EmergingFrom: a tenth of
	// those accounts are drawn from it, and any account matching its rule
	// from then on belongs to it. Every other account is the same as
	// without Emerging.
	Emerging bool
	// EmergingFrom is the first close date of the emerging segment. Zero
	// means the start of the last quarter of the window.
	EmergingFrom time.Time
}

// Truth is the hidden ground truth of one generated account.
type Truth struct {
	AccountID string
	// Segment is the segment whose rule the account's true (pre-missingness)
	// values satisfy; see Segments.
	Segment string
	// WinProb is the probability with which the deal was won.
	WinProb float64
}

// generation constants, following gen_accounts.py.
const (
	chunkRows      = 10_000
	emergingShare  = 0.10
	emergingBaseP  = 0.55
	emergingChurnP = 0.10
)

// Indices into the category lists below.
const (
	indSaaS = iota
	indFinTech
	indHealthcare
	indEcommerce
	indManufacturing
	indEducation
	indRetail
	indMedia
	indLogistics
	indGovernment
	indNonprofit
	indConsulting
)

const (
	bmB2BSaaS = iota
	bmB2C
	bmMarketplace
	bmServices
	bmHardware
)

const (
	toolHubspot = iota
	toolSalesforce
	toolAWS
	toolGCP
	toolAzure
	toolSnowflake
	toolSegment
	toolStripe
	toolZendesk
	toolIntercom
	toolShopify
	toolSlack
	toolJira
	toolMarketo
	toolPardot
	numTools
)

const (
	segS = iota // icp_saas_midmarket
	segE        // icp_ecom_scale
	segH        // icp_health_enterprise
	segA        // anti_icp
	segO        // other
	segM        // emerging
)

// model holds the tables of the generative model. It is built per call so
// that the package keeps no mutable state.
type model struct {
	industries   [12]string
	indW         [12]float64
	indMedEmp    [12]float64
	indRevPerEmp [12]float64
	indStageAdj  [12]float64
	countries    [11]string
	countryW     [11]float64
	countryNAEU  [11]float64 // countryW restricted to NA and EMEA
	regionOf     [11]string
	stages       [6]string
	stageCuts    [5]float64
	bmodels      [5]string
	bmByInd      [12][5]float64
	tools        [numTools]string
	toolB0       [numTools]float64
	toolBSize    [numTools]float64
	toolBInd     [numTools][12]float64
	toolBBM      [numTools][5]float64
	segPrior     [4]float64 // the last component, other, takes the rest
	segBaseP     [6]float64
	segChurnP    [6]float64
}

func newModel() *model {
	m := &model{
		industries: [12]string{"SaaS", "FinTech", "Healthcare", "E-commerce", "Manufacturing",
			"Education", "Retail", "Media", "Logistics", "Government", "Nonprofit", "Consulting"},
		indW:         [12]float64{0.13, 0.07, 0.09, 0.10, 0.10, 0.07, 0.09, 0.06, 0.07, 0.05, 0.05, 0.12},
		indMedEmp:    [12]float64{80, 120, 400, 150, 300, 250, 200, 60, 250, 1500, 40, 25},
		indRevPerEmp: [12]float64{180e3, 300e3, 150e3, 250e3, 220e3, 90e3, 200e3, 160e3, 210e3, 120e3, 70e3, 140e3},
		indStageAdj:  [12]float64{0.8, 0.8, 0.0, 0.3, -0.6, -1.0, -0.4, 0.0, -0.5, -4.0, -4.0, -1.5},
		countries:    [11]string{"US", "CA", "GB", "DE", "FR", "NL", "IN", "AU", "SG", "BR", "MX"},
		countryW:     [11]float64{0.36, 0.05, 0.10, 0.08, 0.05, 0.03, 0.09, 0.05, 0.04, 0.10, 0.05},
		regionOf:     [11]string{"NA", "NA", "EMEA", "EMEA", "EMEA", "EMEA", "APAC", "APAC", "APAC", "LATAM", "LATAM"},
		stages:       [6]string{"Bootstrapped", "Seed", "Series A", "Series B", "Series C+", "Public"},
		stageCuts:    [5]float64{1.8, 2.6, 3.4, 4.2, 5.0},
		bmodels:      [5]string{"B2B SaaS", "B2C subscription", "Marketplace", "Services", "Hardware"},
		bmByInd: [12][5]float64{
			{0.85, 0.07, 0.05, 0.03, 0.00}, // SaaS
			{0.50, 0.20, 0.20, 0.10, 0.00}, // FinTech
			{0.25, 0.05, 0.05, 0.45, 0.20}, // Healthcare
			{0.05, 0.30, 0.50, 0.05, 0.10}, // E-commerce
			{0.05, 0.00, 0.05, 0.20, 0.70}, // Manufacturing
			{0.30, 0.25, 0.05, 0.40, 0.00}, // Education
			{0.02, 0.20, 0.38, 0.10, 0.30}, // Retail
			{0.20, 0.50, 0.20, 0.10, 0.00}, // Media
			{0.15, 0.00, 0.20, 0.60, 0.05}, // Logistics
			{0.05, 0.00, 0.00, 0.90, 0.05}, // Government
			{0.05, 0.10, 0.00, 0.85, 0.00}, // Nonprofit
			{0.05, 0.00, 0.05, 0.90, 0.00}, // Consulting
		},
		tools: [numTools]string{"hubspot", "salesforce", "aws", "gcp", "azure", "snowflake",
			"segment", "stripe", "zendesk", "intercom", "shopify", "slack", "jira", "marketo", "pardot"},
		segPrior:  [4]float64{0.10, 0.07, 0.05, 0.13},
		segBaseP:  [6]float64{0.60, 0.52, 0.45, 0.03, 0.13, emergingBaseP},
		segChurnP: [6]float64{0.10, 0.12, 0.08, 0.45, 0.25, emergingChurnP},
	}
	for k, r := range m.regionOf {
		if r == "NA" || r == "EMEA" {
			m.countryNAEU[k] = m.countryW[k]
		}
	}
	// Tool adoption logit: b0 + bsize*(log(emp)-5) + industry + business model.
	type coef struct {
		b0, bsize float64
		ind       map[int]float64
		bm        map[int]float64
	}
	coefs := map[int]coef{
		toolHubspot: {-0.9, -0.3, map[int]float64{indSaaS: 1.0, indFinTech: 0.8, indMedia: 0.8,
			indEcommerce: 0.5, indConsulting: 0.4, indGovernment: -1.5}, map[int]float64{bmB2BSaaS: 0.6}},
		toolSalesforce: {-1.1, 0.6, map[int]float64{indHealthcare: 0.5, indFinTech: 0.5,
			indManufacturing: 0.5, indSaaS: 0.3}, nil},
		toolSnowflake: {-2.4, 0.6, map[int]float64{indSaaS: 0.8, indFinTech: 0.9, indEcommerce: 0.8,
			indRetail: 0.4}, nil},
		toolSegment: {-2.4, 0.1, map[int]float64{indSaaS: 1.2, indFinTech: 1.0, indEcommerce: 1.0,
			indMedia: 1.0}, map[int]float64{bmB2BSaaS: 0.5, bmB2C: 0.5}},
		toolStripe: {-1.6, 0.0, map[int]float64{indSaaS: 1.5, indEcommerce: 1.5, indFinTech: 1.2,
			indMedia: 1.0, indRetail: 0.8, indGovernment: -2.0},
			map[int]float64{bmB2C: 1.0, bmMarketplace: 1.0, bmB2BSaaS: 1.0}},
		toolZendesk: {-1.4, 0.3, map[int]float64{indEcommerce: 0.6, indRetail: 0.6, indSaaS: 0.6}, nil},
		toolIntercom: {-2.2, -0.1, map[int]float64{indSaaS: 1.3, indFinTech: 1.0, indMedia: 0.5},
			map[int]float64{bmB2BSaaS: 0.4}},
		toolShopify: {-3.6, -0.2, map[int]float64{indEcommerce: 3.2, indRetail: 2.8},
			map[int]float64{bmB2C: 0.8, bmMarketplace: 0.8}},
		toolSlack: {0.3, 0.1, map[int]float64{indSaaS: 1.0, indFinTech: 1.0, indMedia: 1.0,
			indGovernment: -1.2, indManufacturing: -1.0}, nil},
		toolJira: {-0.6, 0.3, map[int]float64{indSaaS: 1.2, indFinTech: 1.2, indRetail: -0.8,
			indNonprofit: -0.8, indConsulting: -0.3}, nil},
		toolMarketo: {-3.1, 0.6, map[int]float64{indSaaS: 0.5, indHealthcare: 0.5}, nil},
		toolPardot:  {-3.2, 0.4, nil, nil},
	}
	for t, c := range coefs {
		m.toolB0[t], m.toolBSize[t] = c.b0, c.bsize
		for i, v := range c.ind {
			m.toolBInd[t][i] = v
		}
		for b, v := range c.bm {
			m.toolBBM[t][b] = v
		}
	}
	return m
}

// isCloud reports whether tool t is one of the clouds, which are drawn
// separately.
func isCloud(t int) bool { return t == toolAWS || t == toolGCP || t == toolAzure }

// account is one generated account before missingness.
type account struct {
	seg                 int
	p                   float64
	ind, cty, stage, bm int
	emp, rev, founded   float64
	tools               [numTools]bool
	web, trial, tickets float64
	won, churned        bool
	day                 int
	cycle, ltv          float64
	miss                [9]float64
}

// Generate returns a synthetic table of B2B accounts with the columns of
// AccountColumns and the ground truth of every account, following the
// model of the Python reference generator gen_accounts.py: a mixture of
// ICP segments, an anti-ICP and "other", firmographics and tech stacks
// drawn given the segment, latent engagement and friction partly visible
// through web visits, trial users and support tickets, a mild downward
// drift of the win rate over time outside the ICP segments, and missing
// cells at fixed rates.
//
// Row i is drawn from its own PCG stream seeded with Seed and a hash of i,
// so a table is a prefix of any longer table with the same configuration,
// the rows can be generated in parallel (in chunks of 10,000), and turning
// Emerging on leaves every account it does not concern unchanged. The same
// configuration always yields the same table. Account ids run ACC-0000001,
// ACC-0000002, and so on. The table has no Lines.
func Generate(cfg Config) (*datasets.Table, []Truth) {
	if cfg.Rows < 0 {
		panic("synth: negative Config.Rows")
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Days <= 0 {
		cfg.Days = 1096
	}
	start := time.Date(cfg.Start.Year(), cfg.Start.Month(), cfg.Start.Day(), 0, 0, 0, 0, time.UTC)
	emFrom := cfg.Days - cfg.Days/4
	if !cfg.EmergingFrom.IsZero() {
		emFrom = int(math.Floor(cfg.EmergingFrom.Sub(start).Hours() / 24))
	}
	endYear := start.AddDate(0, 0, cfg.Days-1).Year()

	m := newModel()
	n := cfg.Rows
	accts := make([]account, n)
	chunks := (n + chunkRows - 1) / chunkRows
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			src := rand.NewPCG(0, 0)
			g := rowGen{m: m, r: rand.New(src), days: cfg.Days, emerging: cfg.Emerging, emFrom: emFrom, endYear: endYear}
			for i := c * chunkRows; i < min(n, (c+1)*chunkRows); i++ {
				src.Seed(cfg.Seed, rowSeed(i))
				g.account(&accts[i])
			}
			<-sem
		}()
	}
	wg.Wait()
	return m.table(accts, start), m.truth(accts)
}

// rowSeed spreads row indices over the PCG seed space (the SplitMix64
// finaliser), so that neighbouring rows start far apart.
func rowSeed(i int) uint64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// rowGen draws accounts from a random stream.
type rowGen struct {
	m        *model
	r        *rand.Rand
	days     int
	emerging bool
	emFrom   int
	endYear  int
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// pick draws an index from the unnormalised weights w.
func (g *rowGen) pick(w []float64) int {
	total := 0.0
	for _, v := range w {
		total += v
	}
	u := g.r.Float64() * total
	acc := 0.0
	last := 0
	for k, v := range w {
		if v == 0 {
			continue
		}
		acc += v
		last = k
		if u < acc {
			return k
		}
	}
	return last
}

func (g *rowGen) normal(mu, sigma float64) float64 { return mu + sigma*g.r.NormFloat64() }

func (g *rowGen) uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.r.Float64() }

func (g *rowGen) bernoulli(p float64) bool { return g.r.Float64() < p }

// account draws one account into a. The draws are unconditional where the
// model allows it so that switching Emerging on changes only the accounts
// it concerns.
func (g *rowGen) account(a *account) {
	m := g.m
	u := g.r.Float64()
	seg0 := segO
	acc := 0.0
	for k, p := range m.segPrior {
		acc += p
		if u < acc {
			seg0 = k
			break
		}
	}
	tpos := g.r.Float64() // position in the close-date window
	a.day = min(int(tpos*float64(g.days)), g.days-1)
	if g.bernoulli(emergingShare) && g.emerging && a.day >= g.emFrom {
		seg0 = segM
	}
	isS, isE, isH, isA, isM := seg0 == segS, seg0 == segE, seg0 == segH, seg0 == segA, seg0 == segM
	antiGov := isA && g.bernoulli(0.45)
	antiTiny := isA && !antiGov

	// Industry.
	ind := g.pick(m.indW[:])
	switch {
	case isS:
		ind = indFinTech
		if g.bernoulli(0.7) {
			ind = indSaaS
		}
	case isE:
		ind = indRetail
		if g.bernoulli(0.75) {
			ind = indEcommerce
		}
	case isH:
		ind = indHealthcare
	case antiGov:
		ind = indGovernment
	case antiTiny:
		ind = g.pick(m.indW[:])
		if g.bernoulli(0.7) {
			ind = indConsulting
		}
	case isM:
		ind = indLogistics
	}

	// Country.
	cty := g.pick(m.countryW[:])
	switch {
	case isS:
		cty = g.pick(m.countryNAEU[:])
	case isH:
		cty = 1 // CA
		if g.bernoulli(0.85) {
			cty = 0 // US
		}
	}

	// Employees: log-normal by industry, clipped to 1..50000, and kept
	// inside the segment definitions.
	le := math.Log(m.indMedEmp[ind]) + g.normal(0, 1.5)
	switch {
	case isS:
		le = g.uniform(math.Log(50), math.Log(500))
	case isE:
		le = math.Max(g.normal(math.Log(1500), 0.9), math.Log(200))
	case isH, isM:
		le = g.uniform(math.Log(1000), math.Log(20000))
	case antiTiny:
		le = math.Log(float64(1 + g.r.IntN(19)))
	}
	emp := clamp(math.RoundToEven(math.Exp(le)), 1, 50000)
	switch {
	case isS:
		emp = clamp(emp, 50, 500)
	case isE:
		emp = math.Max(emp, 200)
	case isH, isM:
		emp = clamp(emp, 1000, 20000)
	}
	le = math.Log(emp)

	// Revenue correlated with employees.
	rev := math.Exp(le + math.Log(m.indRevPerEmp[ind]) + g.normal(0, 0.6))
	rev = math.Max(math.RoundToEven(rev/1000)*1000, 10000)

	// Founded year: bigger is older; government much older.
	age := math.Exp(math.Log(8) + 0.25*(le-4) + g.normal(0, 0.7))
	if ind == indGovernment {
		age += 30
	}
	founded := clamp(math.RoundToEven(float64(g.endYear)-age), 1850, float64(g.endYear))

	// Funding stage from size, VC friendliness and noise.
	score := 0.55*le + m.indStageAdj[ind] + g.normal(0, 1)
	stage := 0
	for _, cut := range m.stageCuts {
		if score >= cut {
			stage++
		}
	}
	switch {
	case isH:
		stage = 5
		if g.bernoulli(0.4) {
			stage = 4
		}
	case antiTiny:
		stage = 0
	}

	// Business model given the industry.
	bm := g.pick(m.bmByInd[ind][:])
	if antiTiny {
		bm = bmServices
	}

	// Tech stack.
	var tools [numTools]bool
	for t := range numTools {
		if isCloud(t) {
			continue
		}
		logit := m.toolB0[t] + m.toolBSize[t]*(le-5) + m.toolBInd[t][ind] + m.toolBBM[t][bm]
		tools[t] = g.bernoulli(sigmoid(logit))
	}
	// Pardot mostly rides on Salesforce.
	if g.bernoulli(0.18) && tools[toolSalesforce] {
		tools[toolPardot] = true
	}
	// Clouds: one primary (none for some tiny firms) and an occasional second.
	cloudW := [3]float64{0.55, 0.20, 0.25}
	if ind == indGovernment {
		cloudW = [3]float64{0.30, 0.10, 0.60}
	}
	prim := g.pick(cloudW[:])
	noCloud := g.bernoulli(0.4) && emp < 10
	sec := (prim + 1 + g.r.IntN(2)) % 3
	secOn := g.bernoulli(0.12)
	for k, t := range [3]int{toolAWS, toolGCP, toolAzure} {
		tools[t] = !noCloud && (prim == k || secOn && sec == k)
	}
	// Segment-defining overrides.
	pickHub := g.bernoulli(0.6)
	switch {
	case isS && !tools[toolHubspot] && !tools[toolSegment]:
		if pickHub {
			tools[toolHubspot] = true
		} else {
			tools[toolSegment] = true
		}
	case isE:
		tools[toolShopify], tools[toolStripe] = true, true
	case isH:
		tools[toolSalesforce] = true
	case isM:
		tools[toolSnowflake] = true
	}

	// Latent engagement and friction, and the signals they leak into.
	eng := g.r.NormFloat64()
	fric := g.r.NormFloat64()
	web := math.RoundToEven(math.Exp(2.0 + 0.45*le + 0.5*eng + g.normal(0, 0.5)))
	b2bSaaS := bm == bmB2BSaaS
	lamT := -1.0 + 0.25*le + 0.6*eng
	if b2bSaaS {
		lamT += 1.0
	}
	if ind == indSaaS || ind == indFinTech {
		lamT += 0.4
	}
	trial := poisson(g.r, math.Min(math.Exp(lamT), 300))
	if g.bernoulli(0.5) && !b2bSaaS {
		trial = 0
	}
	lamK := math.Exp(-1.2 + 0.3*le + 0.5*fric + 0.2*math.Log1p(float64(trial)))
	tickets := poisson(g.r, math.Min(lamK, 500))

	// Ground-truth segment from the true values.
	region := m.regionOf[cty]
	seg := g.m.segmentOf(ind, emp, stage, bm, region, &tools)
	if seg == segO && g.emerging && a.day >= g.emFrom && emergingRule(ind, emp, &tools) {
		seg = segM
	}

	// Outcome.
	base := m.segBaseP[seg]
	lg := math.Log(base/(1-base)) + 0.55*eng - 0.35*fric
	if seg == segO {
		if b2bSaaS {
			lg += 0.5
		}
		if region == "APAC" {
			lg -= 0.4
		}
		if tools[toolSalesforce] && emp >= 200 && emp <= 2000 {
			lg += 0.5
		}
		if ind == indMedia && tools[toolIntercom] {
			lg += 0.6
		}
		if tools[toolHubspot] && emp > 5000 {
			lg -= 0.3
		}
	}
	if seg == segO || seg == segA {
		lg -= 0.4 * (tpos - 0.5) // mild drift: harder over time
	}
	lg += g.normal(0, 0.25)
	p := sigmoid(lg)
	won := g.bernoulli(p)

	cycLog := math.Log(30) + 0.18*(le-4) + g.normal(0, 0.45)
	if ind == indGovernment {
		cycLog += 0.8
	}
	if seg == segH {
		cycLog += 0.3
	}
	if !won {
		cycLog += 0.15
	}
	cycle := clamp(math.RoundToEven(math.Exp(cycLog)), 3, 720)

	acv := math.Exp(math.Log(8000) + 0.55*(le-4) + g.normal(0, 0.4))
	churnP := clamp(m.segChurnP[seg]+0.08*fric, 0.01, 0.95)
	churned := g.bernoulli(churnP) && won
	shortLife := g.uniform(0.5, 2.0)
	longLife := g.uniform(2.5, 6.0)
	ltv := 0.0
	if won {
		life := longLife
		if churned {
			life = shortLife
		}
		ltv = math.RoundToEven(acv * life)
	}

	*a = account{
		seg: seg, p: p, ind: ind, cty: cty, stage: stage, bm: bm,
		emp: emp, rev: rev, founded: founded, tools: tools,
		web: web, trial: float64(trial), tickets: float64(tickets),
		won: won, churned: churned, day: a.day, cycle: cycle, ltv: ltv,
	}
	for k := range a.miss {
		a.miss[k] = g.r.Float64() // drawn last: used for missingness
	}
}

// segmentOf applies the ground-truth rules of the base segments; later
// rules win, as in gen_accounts.py.
func (m *model) segmentOf(ind int, emp float64, stage, bm int, region string, tools *[numTools]bool) int {
	seg := segO
	if ind == indHealthcare && emp >= 1000 && tools[toolSalesforce] && stage >= 4 && region == "NA" {
		seg = segH
	}
	if (ind == indEcommerce || ind == indRetail) && emp >= 200 && tools[toolShopify] && tools[toolStripe] {
		seg = segE
	}
	if (ind == indSaaS || ind == indFinTech) && emp >= 50 && emp <= 500 &&
		(tools[toolHubspot] || tools[toolSegment]) && (region == "NA" || region == "EMEA") {
		seg = segS
	}
	if ind == indGovernment ||
		emp < 20 && stage == 0 && (ind == indConsulting || bm == bmServices) {
		seg = segA
	}
	return seg
}

// emergingRule is the rule of the emerging segment, without its date.
func emergingRule(ind int, emp float64, tools *[numTools]bool) bool {
	return ind == indLogistics && emp >= 1000 && tools[toolSnowflake]
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// poisson draws from a Poisson distribution with mean lam: by
// multiplication of uniforms below 10, else by the transformed rejection
// method PTRS of Hörmann (1993).
func poisson(r *rand.Rand, lam float64) int {
	if lam <= 0 {
		return 0
	}
	if lam < 10 {
		limit := math.Exp(-lam)
		k := 0
		prod := r.Float64()
		for prod > limit {
			k++
			prod *= r.Float64()
		}
		return k
	}
	slam := math.Sqrt(lam)
	loglam := math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || us < 0.013 && v > us {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -lam+k*loglam-lg {
			return int(k)
		}
	}
}

// table applies missingness and builds the typed table.
func (m *model) table(accts []account, start time.Time) *datasets.Table {
	n := len(accts)
	names := AccountColumns()
	cols := make([]*datasets.Column, len(names))
	for j, name := range names {
		c := &datasets.Column{Name: name, Kind: datasets.Number}
		switch name {
		case "account_id", "industry", "country", "region", "funding_stage",
			"business_model", "tech_stack", "outcome":
			c.Kind = datasets.String
		case "close_date":
			c.Kind = datasets.Date
		case "churned":
			c.Kind = datasets.Bool
		}
		if c.Kind == datasets.String {
			c.Str = make([]string, n)
		} else {
			c.Num = make([]float64, n)
		}
		cols[j] = c
	}
	col := func(j int) *datasets.Column { return cols[j] }
	startDay := float64(start.Unix() / 86400) // start is a UTC midnight
	// The tech stack strings repeat; build each combination once.
	stacks := make(map[[numTools]bool]string)
	nan := math.NaN()
	orNaN := func(v float64, missing bool) float64 {
		if missing {
			return nan
		}
		return v
	}
	var b strings.Builder
	for i := range accts {
		a := &accts[i]
		mu := a.miss
		missCty := mu[0] < 0.02
		col(0).Str[i] = "ACC-" + fmt.Sprintf("%07d", i+1)
		if mu[1] >= 0.01 {
			col(1).Str[i] = m.industries[a.ind]
		}
		col(2).Num[i] = orNaN(a.emp, mu[5] < 0.03)
		col(3).Num[i] = orNaN(a.rev, mu[6] < 0.05 || a.emp < 20 && mu[4] < 0.10)
		if !missCty {
			col(4).Str[i] = m.countries[a.cty]
			col(5).Str[i] = m.regionOf[a.cty]
		}
		col(6).Num[i] = orNaN(a.founded, mu[7] < 0.05)
		if mu[2] >= 0.04 {
			col(7).Str[i] = m.stages[a.stage]
		}
		col(8).Str[i] = m.bmodels[a.bm]
		if mu[3] >= 0.06 {
			s, ok := stacks[a.tools]
			if !ok {
				b.Reset()
				for t, on := range a.tools {
					if on {
						if b.Len() > 0 {
							b.WriteByte(';')
						}
						b.WriteString(m.tools[t])
					}
				}
				s = b.String()
				stacks[a.tools] = s
			}
			col(9).Str[i] = s
		}
		col(10).Num[i] = orNaN(a.web, mu[8] < 0.04)
		col(11).Num[i] = a.trial
		col(12).Num[i] = a.tickets
		col(13).Str[i] = "lost"
		col(17).Num[i] = nan
		if a.won {
			col(13).Str[i] = "won"
			col(17).Num[i] = 0
			if a.churned {
				col(17).Num[i] = 1
			}
		}
		col(14).Num[i] = startDay + float64(a.day)
		col(15).Num[i] = a.cycle
		col(16).Num[i] = a.ltv
	}
	return &datasets.Table{Columns: cols}
}

// truth lists the ground truth of accts.
func (m *model) truth(accts []account) []Truth {
	segs := Segments()
	out := make([]Truth, len(accts))
	for i := range accts {
		out[i] = Truth{AccountID: "ACC-" + fmt.Sprintf("%07d", i+1), Segment: segs[accts[i].seg], WinProb: accts[i].p}
	}
	return out
}

// WriteTruthCSV writes the ground truth as CSV with the header
// account_id,true_segment,true_win_prob, probabilities rounded to six
// decimals as gen_accounts.py writes them.
func WriteTruthCSV(w io.Writer, truth []Truth) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"account_id", "true_segment", "true_win_prob"}); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	rec := make([]string, 3)
	for _, t := range truth {
		rec[0], rec[1] = t.AccountID, t.Segment
		rec[2] = strconv.FormatFloat(math.Round(t.WinProb*1e6)/1e6, 'f', -1, 64)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

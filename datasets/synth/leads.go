package synth

import (
	"fmt"
	"math"
	"strconv"
)

// The true segments of the leads dialect.
const (
	SegLDWorkingPro    = "ld_working_pro"
	SegLDReferenceForm = "ld_reference_form"
)

// Vocabularies of the leads dialect.
func ldOrigins() []string {
	return []string{"API", "Landing Page Submission", "Lead Add Form", "Lead Import"}
}

const ldAddForm = 2

func ldSources() []string {
	return []string{"Google", "Direct Traffic", "Olark Chat", "Organic Search", "Reference",
		"Welingak Website", "Referral Sites", "Facebook"}
}

const (
	ldOlark     = 2
	ldReference = 4
	ldWelingak  = 5
)

func ldOccupations() []string {
	return []string{"Unemployed", "Working Professional", "Student", "Businessman", "Housewife", "Other"}
}

const (
	ldWorking     = 1
	ldBusinessman = 3
)

func ldInterests() []string {
	return []string{"MBA", "Data Science", "Finance", "Marketing", "HR", "Operations", "Design"}
}

// ldLead is one lead of the leads dialect before missingness.
type ldLead struct {
	origin, source, occupation int
	occupationKnown            bool
	doNotEmail                 bool
	visits, seconds            float64
	interests                  []bool
	seg                        string
	anti                       bool
	p                          float64
}

// ldSegment applies the true recipes of the leads dialect.
func ldSegment(l *ldLead) (string, bool) {
	if l.doNotEmail || l.source == ldOlark && l.seconds < 100 {
		return NoSegment, true
	}
	if l.origin == ldAddForm && inSet(l.source, ldReference, ldWelingak) && (l.interests[0] || l.interests[1]) {
		return SegLDReferenceForm, false
	}
	if l.occupationKnown && inSet(l.occupation, ldWorking, ldBusinessman) && l.seconds >= 600 && l.seconds <= 2000 {
		return SegLDWorkingPro, false
	}
	return NoSegment, false
}

func drawLead(r xrand) *ldLead {
	l := &ldLead{
		origin:     r.pick(.39, .53, .07, .01),
		source:     r.pick(.31, .28, .19, .12, .05, .015, .013, .012),
		occupation: r.pick(.60, .15, .05, .02, .01, .02),
		doNotEmail: r.bern(.08),
	}
	l.occupationKnown = r.bern(.75)
	l.interests = r.tags([]float64{.25, .25, .20, .20, .10, .10, .05})
	eng := r.NormFloat64()
	l.visits = float64(poisson(r.Rand, math.Exp(1.0+0.4*eng)))
	l.seconds = 0
	if l.visits > 0 {
		l.seconds = math.Round(clampf(r.logNormal(450*math.Exp(0.5*eng), 0.8), 1, 2400))
	}
	switch r.pick(.12, .06, .14, .68) {
	case 0:
		l.occupation, l.occupationKnown = [2]int{ldWorking, ldBusinessman}[r.pick(.8, .2)], true
		l.seconds = math.Round(600 + r.Float64()*1400)
		l.visits = math.Max(l.visits, 1)
		l.doNotEmail = false
	case 1:
		l.origin = ldAddForm
		l.source = [2]int{ldReference, ldWelingak}[r.pick(.8, .2)]
		if !l.interests[0] && !l.interests[1] {
			l.interests[r.IntN(2)] = true
		}
		l.doNotEmail = false
	case 2:
		if r.bern(.4) {
			l.doNotEmail = true
		} else {
			l.source = ldOlark
			l.seconds = math.Round(r.Float64() * 99)
		}
	}
	l.seg, l.anti = ldSegment(l)
	lg := logit(.30)
	switch {
	case l.anti:
		lg = logit(.08)
	case l.seg == SegLDWorkingPro:
		lg = logit(.80)
	case l.seg == SegLDReferenceForm:
		lg = logit(.85)
	}
	lg += 0.35*eng + 0.2*r.NormFloat64()
	l.p = sigmoidx(lg)
	return l
}

// leadsExport draws the leads dialect: a lead-scoring table as the public
// B2B lead-conversion tables are.
func leadsExport(cfg Config) *Export {
	header := []string{"Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Do Not Email",
		"Do Not Call", "Converted", "TotalVisits", "Total Time Spent on Website", "Page Views Per Visit",
		"Last Activity", "Country", "Specialization", "How did you hear about us",
		"What is your current occupation", "Course Interests", "Tags", "Lead Quality", "Lead Profile",
		"City", "Asymmetrique Activity Index", "Asymmetrique Activity Score",
		"A free copy of Mastering The Interview", "Last Notable Activity"}
	origins, sources, occs, interests := ldOrigins(), ldSources(), ldOccupations(), ldInterests()
	activities := [...]string{"Email Opened", "SMS Sent", "Olark Chat Conversation", "Page Visited on Website",
		"Converted to Lead", "Email Bounced", "Email Link Clicked", "Form Submitted on Website", "Unreachable"}
	specs := [...]string{"Finance Management", "Human Resource Management", "Marketing Management",
		"Operations Management", "IT Projects Management", "Business Administration",
		"Banking, Investment And Insurance", "Media and Advertising", "Supply Chain Management"}
	heard := [...]string{"Online Search", "Word Of Mouth", "Student of SomeSchool", "Other", "Multiple Sources",
		"Advertisements", "Social Media", "Email"}
	countries := [...]string{"India", "United States", "United Arab Emirates", "Singapore", "Saudi Arabia",
		"United Kingdom", "Australia", "Qatar"}
	cities := [...]string{"Mumbai", "Thane & Outskirts", "Other Cities", "Other Cities of Maharashtra",
		"Other Metro Cities", "Tier II Cities"}
	profiles := [...]string{"Potential Lead", "Other Leads", "Student of SomeSchool", "Lateral Student",
		"Dual Specialization Student"}
	// Sales sets Tags after the first contact, and some tags only come
	// with one outcome ("Closed by Horizzon" with a converted lead,
	// "Already a student" with a lost one), as in the public lead tables.
	tags := [...]string{"Will revert after reading the email", "Closed by Horizzon", "Lost to EINS", "Busy",
		"Ringing", "Interested in other courses", "Already a student", "switched off",
		"Not doing further education", "invalid number", "wrong number given", "Interested  in full time MBA"}
	// Shares of each tag (then of no tag) among converted and lost leads.
	tagsWon := []float64{.56, .10, .05, .03, .01, .002, .001, .002, .001, .001, .001, .002, .24}
	tagsLost := []float64{.011, .0005, .001, .015, .21, .09, .08, .04, .025, .015, .008, .02, .4845}
	quality := [...]string{"High in Relevance", "Might be", "Not Sure", "Worst", "Low in Relevance"}
	// Shares of each Lead Quality (then of none) among converted and lost
	// leads: sales grades a lead after talking to it.
	qualityWon := []float64{.18, .33, .07, .003, .13, .287}
	qualityLost := []float64{.003, .07, .15, .135, .02, .622}

	e := &Export{Sheets: []Sheet{{Name: "leads", Header: header, Rows: make([][]string, cfg.Rows)}},
		Truth: make([]AccountTruth, cfg.Rows)}
	for i := range cfg.Rows {
		r := newRow(cfg.Seed, saltLeads, i)
		l := drawLead(r)
		id := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff,
			0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
		converted := r.bern(l.p)
		row := make([]string, len(header))
		row[0] = id
		row[1] = strconv.Itoa(580_000 + i)
		row[2] = origins[l.origin]
		if r.bern(.99) {
			row[3] = sources[l.source]
		}
		row[4], row[5] = yesNo(l.doNotEmail), yesNo(r.bern(.005))
		row[6] = "0"
		if converted {
			row[6] = "1"
		}
		if r.bern(.985) {
			row[7] = num(l.visits)
			if l.visits > 0 {
				row[9] = strconv.FormatFloat(math.Round(r.between(1, 6)*100)/100, 'f', -1, 64)
			} else {
				row[9] = "0"
			}
		}
		row[8] = num(l.seconds)
		act := r.pick(.37, .30, .10, .07, .05, .035, .03, .03, .015)
		if r.bern(.99) {
			row[10] = activities[act]
		}
		if k := r.pick(.70, .04, .25); k == 0 {
			row[11] = "India"
		} else if k == 1 {
			row[11] = countries[1+r.IntN(len(countries)-1)]
		}
		switch r.pick(.63, .21, .16) {
		case 0:
			row[12] = specs[r.IntN(len(specs))]
		case 1:
			row[12] = "Select"
		}
		switch r.pick(.21, .55, .24) {
		case 0:
			row[13] = heard[r.IntN(len(heard))]
		case 1:
			row[13] = "Select"
		}
		if l.occupationKnown {
			row[14] = occs[l.occupation]
		}
		if r.bern(.9) {
			row[15] = joinTags(l.interests, interests, "|")
		}
		// Sales fills Tags, Lead Quality and the Asymmetrique scores after
		// contact: they leak the outcome.
		tw := tagsLost
		if converted {
			tw = tagsWon
		}
		if k := r.pick(tw...); k < len(tags) {
			row[16] = tags[k]
		}
		qw := qualityLost
		if converted {
			qw = qualityWon
		}
		if k := r.pick(qw...); k < len(quality) {
			row[17] = quality[k]
		}
		switch r.pick(.26, .45, .29) {
		case 0:
			row[18] = profiles[r.IntN(len(profiles))]
		case 1:
			row[18] = "Select"
		}
		switch r.pick(.61, .24, .15) {
		case 0:
			row[19] = cities[r.IntN(len(cities))]
		case 1:
			row[19] = "Select"
		}
		// The Asymmetrique score is computed once sales has worked a lead:
		// for every converted lead, and for two in five of the others.
		if converted && r.bern(.998) || !converted && r.bern(.4) {
			score := 14 + r.NormFloat64()*1.5
			if converted {
				score += 2.2
			}
			score = math.Round(clampf(score, 7, 20))
			row[21] = num(score)
			switch {
			case score >= 16:
				row[20] = "01.High"
			case score < 13:
				row[20] = "03.Low"
			default:
				row[20] = "02.Medium"
			}
		}
		row[22] = yesNo(r.bern(.31))
		row[23] = activities[act]
		if r.bern(.2) {
			row[23] = "Modified"
		}
		e.Sheets[0].Rows[i] = row
		e.Truth[i] = AccountTruth{AccountID: id, Segment: l.seg, AntiICP: l.anti, WinProb: l.p}
	}
	return e
}

// yesNo writes a flag as the lead tables do.
func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

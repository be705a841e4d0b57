package features

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/icpengine/icp/datasets"
)

// channelNames are the names CRMs and analytics tools give the channel a
// lead or deal came from, strongest first.
var channelNames = []*regexp.Regexp{
	regexp.MustCompile(`^(lead_?source|leadsource|lead_?channel|deal_?source|opportunity_?source|opp_?source|account_?source|original_?source|referral_?source|acquisition_?(channel|source)|marketing_?(channel|source)|sales_?channel|source_?channel)$`),
	regexp.MustCompile(`^(source|channel|utm_?source|utm_?medium|traffic_?source|first_?touch_?(channel|source)|original_?traffic_?source|referr?er|campaign_?source)$`),
	regexp.MustCompile(`^(lead_?origin|origin|how_?did_?you_?hear(_?about_?us)?|how_?heard)$`),
}

// channelWords are words that name a channel in the values of a column:
// partner and referral programmes, inbound and outbound, paid and organic
// search, social, email, events.
var channelWords = map[string]bool{
	"partner": true, "partners": true, "referral": true, "referrals": true, "referred": true, "reseller": true,
	"affiliate": true, "inbound": true, "outbound": true, "web": true, "website": true, "webform": true,
	"organic": true, "seo": true, "search": true, "paid": true, "ppc": true, "cpc": true, "ads": true,
	"advertisement": true, "advertising": true, "adwords": true, "google": true, "bing": true,
	"facebook": true, "linkedin": true, "twitter": true, "social": true, "email": true, "newsletter": true,
	"event": true, "events": true, "tradeshow": true, "trade": true, "conference": true, "webinar": true,
	"expo": true, "cold": true, "direct": true, "mouth": true, "chat": true, "content": true, "blog": true,
	"marketplace": true, "sdr": true, "bdr": true, "campaign": true, "display": true, "podcast": true,
	"community": true, "offline": true, "online": true, "telemarketing": true, "outreach": true,
}

// Bounds of a channel column: at least two channels, few enough to read
// by channel, filled for a fair share of rows; found by content alone, most
// rows must hold channel words.
const (
	maxChannels        = 60
	minChannelFill     = 0.2
	minChannelWordRows = 0.6
	maxContentChannels = 30
)

// detectChannel names the lead source or channel column (Schema.Channel):
// the override's, else the first text column named like a channel (see
// channelNames) with 2 to 60 values filled for at least a fifth of the
// rows, else a categorical column with at most 30 values most of whose
// rows hold words that name channels (partner, referral, inbound, paid,
// events...). The channel keeps its role: it is a feature like any other,
// and besides that the report breaks the ICP down by it.
func (s *Schema) detectChannel(t *datasets.Table, ph placeholders, o *Override) []error {
	if o != nil && o.Channel != nil {
		return s.setChannel(*o.Channel)
	}
	for _, re := range channelNames {
		for k := range s.Columns {
			sc, c := &s.Columns[k], t.Columns[k]
			if c.Kind != datasets.String || sc.Role == RoleID || sc.Role == RoleOutcome || !re.MatchString(normName(sc.Name)) {
				continue
			}
			st := statText(c.Str, ph)
			if n := len(st.distinct); n < 2 || n > maxChannels || float64(st.present) < minChannelFill*float64(c.Len()) {
				continue
			}
			s.Channel = sc.Name
			sc.Reason += fmt.Sprintf("; the channel by name (%d values): the report breaks the ICP down by it", len(st.distinct))
			return nil
		}
	}
	best, bestShare := -1, 0.0
	for k := range s.Columns {
		sc, c := &s.Columns[k], t.Columns[k]
		if c.Kind != datasets.String || sc.Role != RoleCategorical {
			continue
		}
		st := statText(c.Str, ph)
		if n := len(st.distinct); n < 2 || n > maxContentChannels || float64(st.present) < minChannelFill*float64(c.Len()) {
			continue
		}
		rows, levels := 0, 0
		for v, n := range st.distinct {
			if namesChannel(v) {
				rows += n
				levels++
			}
		}
		if share := float64(rows) / float64(st.present); levels >= 2 && share >= minChannelWordRows && share > bestShare {
			best, bestShare = k, share
		}
	}
	if best >= 0 {
		sc := &s.Columns[best]
		s.Channel = sc.Name
		sc.Reason += fmt.Sprintf("; the channel by content (%.0f%% of its values name channels): the report breaks the ICP down by it", 100*bestShare)
	}
	return nil
}

// namesChannel reports whether a value holds a word that names a channel.
func namesChannel(v string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if channelWords[w] {
			return true
		}
	}
	return false
}

// setChannel makes the named column the channel, as the override asks; ""
// says there is none.
func (s *Schema) setChannel(name string) []error {
	if name == "" {
		s.Channel = ""
		return nil
	}
	sc := s.Column(name)
	switch {
	case sc == nil:
		return []error{fmt.Errorf("channel column %q: not in the table", name)}
	case sc.Kind != datasets.String.String():
		return []error{fmt.Errorf("channel column %q: needs text, the column holds %ss", name, sc.Kind)}
	}
	s.Channel = name
	sc.Reason += "; the channel, set by the schema override"
	return nil
}

// ChannelOf returns the channel of row i of t: the value of the schema's
// channel column with placeholders read as missing ("" when missing, or
// when there is no channel column).
func (s *Schema) ChannelOf(t *datasets.Table, i int) string {
	c := t.Column(s.Channel)
	if s.Channel == "" || c == nil || c.Kind != datasets.String {
		return ""
	}
	v := strings.TrimSpace(c.Str[i])
	if placeholders(s.Placeholders).has(v) {
		return ""
	}
	return v
}

// Package synth generates seeded synthetic CRM exports with a known ground
// truth: the engine's own account table (Generate) and export dialects
// written the way CRMs and public tables write them (GenerateExport), the
// conformance corpus of the engine. The same configuration always gives
// the same bytes.
//
// Each dialect has its own column names, its own true recipes and its own
// mess. A recipe is a conjunction over the account's true values (before
// cells go missing); an account matching the anti-ICP recipe belongs to no
// segment, and otherwise the first matching segment in the order below is
// its segment. The truth file (WriteExportTruthCSV) gives, per account,
// the true segment id or "none", the anti-ICP flag and the true win
// probability (the probability to stay, for subscription). Rows are drawn
// from their own random streams, so a table is a prefix of a longer one of
// the same seed (twotable's deals included).
//
// # default
//
// Generate's table (AccountColumns): industry, employees, revenue, country,
// region, founding year, funding stage, business model, a ';' tech stack,
// engagement, outcome won/lost, close date, sales cycle, LTV and churn
// (the last three known after the sale). Truth: WriteTruthCSV's
// account_id,true_segment,true_win_prob, with the segments of Segments.
//
// # salesforce
//
// A Salesforce opportunity report, one opportunity per account. Columns: a
// row number with an empty header (as pandas writes its index), Opportunity
// ID, Opportunity Name, Account ID, Account Name, Opportunity Owner, Stage
// (Closed Won, Closed Lost, or an open stage: Prospecting ... Negotiation/
// Review, about 10% of rows), Probability (%) ("100%", "0%" or the stage's
// default), Close Date (US m/d/yyyy; blank or in the future for open deals),
// Created Date, Amount ("$19,500.00"), Annual Revenue (currency string),
// Employees, Industry, Billing Country (full names), Ownership (Public,
// Private, Subsidiary, Other), Lead Source, Tech Stack (comma-separated
// tags in one quoted cell, in mixed case: "HUBSPOT, aws, Snowflake"),
// Meetings Held, Contract Signed, Customer Since, Lifetime Value and
// Description (free-text notes, some on two lines). Cells go missing at
// 2-15% per column.
//
// Recipes:
//   - anti-ICP: Industry in {Government, Nonprofit} or Employees < 15.
//   - sf_health_public: Industry = Healthcare and Ownership = Public and
//     $50M <= Annual Revenue <= $2B and Tech Stack has all of {AWS,
//     Snowflake}.
//   - sf_finserv_midmarket: Industry in {Technology, Financial Services}
//     and 100 <= Employees <= 2000 and Tech Stack has any of {Salesforce,
//     HubSpot} and Billing Country in {United States, Canada, United
//     Kingdom}.
//
// Partner and employee referrals, Slack and more meetings raise the odds
// a little. Leaks: Amount, Contract Signed (Yes), Customer Since and
// Lifetime Value are filled only for Closed Won; Probability (%) is set by
// the stage. Not features: the row number, the ids and names, Description.
//
// # hubspot
//
// A HubSpot companies export. Columns: Record ID (large, increasing), Company
// name, Company Domain Name, Company owner, Create Date ("2006-01-02
// 15:04"), Lifecycle Stage (Customer or Evangelist: won; Other: lost; Lead,
// Marketing Qualified Lead, Sales Qualified Lead, Opportunity: open, about
// 12%), Lead Status, Close Date (ISO timestamp with milliseconds, for
// closed companies), Became a Customer Date, Number of Employees, Annual
// Revenue, Industry (HubSpot's ALL_CAPS enum: COMPUTER_SOFTWARE, INTERNET,
// RETAIL, ...), Country/Region, Is Public (true/false), Original Source
// (ORGANIC_SEARCH, REFERRALS, ...), Technologies (';'-separated, lower
// case), Number of Sessions, Number of Pageviews, Total Revenue and Days
// to Close.
//
// Recipes:
//   - anti-ICP: Industry in {GOVERNMENT_ADMINISTRATION,
//     NON_PROFIT_ORGANIZATION_MANAGEMENT} or Number of Employees < 5.
//   - hs_retail_public: Industry in {RETAIL, CONSUMER_GOODS} and Is Public
//     and Technologies has all of {shopify, google_analytics} and $20M <=
//     Annual Revenue <= $5B.
//   - hs_software_smb: Industry in {COMPUTER_SOFTWARE, INTERNET} and 20 <=
//     Number of Employees <= 200 and Technologies has any of {stripe,
//     segment} and Original Source in {ORGANIC_SEARCH, REFERRALS}.
//
// Sessions carry a latent engagement. Leaks: Became a Customer Date, Total
// Revenue and Days to Close are filled only for customers; Lead Status
// (Unqualified, Bad Timing) only for lost and open companies.
//
// # leads
//
// A lead-scoring table shaped like the public B2B lead-conversion tables.
// Columns: Prospect ID (a UUID), Lead Number (sequential), Lead Origin, Lead
// Source, Do Not Email, Do Not Call (Yes/No), Converted (0/1, the outcome),
// TotalVisits, Total Time Spent on Website (seconds), Page Views Per Visit,
// Last Activity, Country, Specialization, How did you hear about us, What
// is your current occupation, Course Interests ('|'-separated), Tags, Lead
// Quality, Lead Profile, City, Asymmetrique Activity Index and Score, A free
// copy of Mastering The Interview, Last Notable Activity. Specialization,
// How did you hear about us, Lead Profile and City hold the placeholder
// level "Select" beside blanks. There is no date: split at random.
//
// Recipes:
//   - anti-ICP: Do Not Email = Yes, or Lead Source = Olark Chat and Total
//     Time Spent on Website < 100.
//   - ld_reference_form: Lead Origin = Lead Add Form and Lead Source in
//     {Reference, Welingak Website} and Course Interests has any of {MBA,
//     Data Science}.
//   - ld_working_pro: What is your current occupation in {Working
//     Professional, Businessman} and 600 <= Total Time Spent on Website <=
//     2000.
//
// Leaks, set by sales after contact as in the public lead tables: Tags
// (blank for a quarter of converted and about half of lost leads; "Will
// revert after reading the email", "Closed by Horizzon" and "Lost to EINS"
// come almost only with converted leads, "Ringing", "Already a student",
// "switched off" and the like almost only with lost ones), Lead Quality
// ("High in Relevance" almost only converted, "Worst" almost only lost),
// and the Asymmetrique score (2.2 points higher for converted leads) and
// its index, computed once sales has worked a lead: filled for every
// converted lead and two lost leads in five. Not features: Prospect ID,
// Lead Number.
//
// # subscription
//
// A SaaS subscription and churn table; the positive outcome is to stay.
// Columns: customer_id, company, signup_date (ISO; the date to split on),
// plan (Starter, Growth, Pro, Enterprise), billing_cycle (monthly,
// annual), seats, mrr, industry (lower case), company_size (bands such as
// "51-200"), country (ISO 3166 codes), integrations (comma-separated in one
// quoted cell), has_sso (true/false), logins_30d, support_tickets_90d,
// nps_score (an exit survey: filled for nine churned customers in ten
// and one retained customer in twenty, lower for churners), churned
// (yes/no),
// churn_date, cancellation_reason and lifetime_value.
//
// Recipes:
//   - anti-ICP (churners): plan = Starter and billing_cycle = monthly and
//     seats <= 2.
//   - sub_sso_enterprise: has_sso and plan = Enterprise and industry in
//     {finance, healthcare, saas} and integrations has all of {slack, jira}.
//   - sub_annual_crm: billing_cycle = annual and 10 <= seats <= 200 and
//     integrations has any of {salesforce, hubspot} and plan in {Growth,
//     Pro}.
//
// Leaks: churn_date and cancellation_reason are filled only for churned
// customers, nps_score mostly for them; lifetime_value grows with the
// months a customer stayed.
//
// # twotable
//
// Two files, for the two-table join: accounts (Account ID, Account Name,
// Industry, Employees, Annual Revenue, Billing Country, Ownership, Tech
// Stack (';'), Account Source, Created Date) and opportunities
// (Opportunity ID, AccountId (the key, named differently), Opportunity
// Name, Stage, Amount, Close Date (ISO), Created Date, Type, Forecast
// Category, Next Step), one to four deals per account. Every deal of an
// account wins with the account's probability; an account is won when any
// deal closed won, lost when it has closed deals and none won, open
// otherwise. The truth is at the account level.
//
// Recipes:
//   - anti-ICP: Industry = Government or Employees < 10.
//   - tt_tech_growth: Industry = Technology and $10M <= Annual Revenue <=
//     $500M and Tech Stack has all of {aws, jira}.
//   - tt_industrial_public: Industry in {Manufacturing, Energy} and 500 <=
//     Employees <= 10000 and Tech Stack has any of {sap, snowflake} and
//     Ownership = Public.
//
// Leaks, at the deal level: a Renewal or Upsell deal comes only after a won
// deal; Forecast Category is Closed for won deals and Omitted for lost.
//
// # channels
//
// A CRM deals export, one deal per account, with a lead source and the
// contract value of won deals: Account ID, Company, Industry, Employees,
// Country, Lead Source (Partner Referral, Inbound Web, Outbound SDR, Paid
// Search, Events, Employee Referral), Tech Stack (';'), Web Visits (30d),
// Demo Requested (Yes/No), Deal Stage (Closed Won, Closed Lost, or an open
// stage for about 8%), Close Date (ISO, closed deals) and Contract Value
// ("$45,000.00", won deals only). The truth adds true_channel and
// true_value, the mean contract value of the account's deal if won.
//
// Recipes:
//   - anti-ICP: Industry = Government or Employees < 10 (p(win) .04).
//   - ch_enterprise_regulated: Industry in {Financial Services,
//     Healthcare} and Employees >= 1000 and Tech Stack has salesforce
//     (p(win) .35, a median contract of $140k growing with size).
//   - ch_smb_selfserve: Industry in {Software, E-commerce} and 10 <=
//     Employees <= 100 and Tech Stack has stripe (p(win) .55, a median
//     contract of $7k).
//
// Others win at .15 with a median contract of $20k growing with size. The
// channel moves both: Partner Referral +0.5 on the log-odds and ×1.6 on
// the value, Employee Referral +0.3 and ×1.0, Events +0.1 and ×1.3,
// Outbound SDR −0.2 and ×1.1, Paid Search −0.3 and ×0.7, Inbound Web 0 and
// ×0.9; a requested demo adds 0.3. Partners and events bring most
// enterprise accounts, inbound and paid search the self-serve ones, paid
// search most of the anti-ICP. Values spread around their median with a
// log-scale deviation of 0.35. Ranking by probability fills tier 1 with
// small self-serve deals; ranking by expected value with enterprise ones.
// Leak: Contract Value (the value outcome).
//
// # Reference figures
//
// scripts/reference-fixtures.py generates every dialect at a fixed size
// and seed, fits scikit-learn's HistGradientBoostingClassifier and XGBoost
// on the legitimate features, and writes testdata/reference.json (ROC AUC
// and log loss on the newest 20%, or a seeded random 20% for leads); for
// channels it adds a log-value regression against the median and the value
// tier 1 captures by expected value and by probability; a test checks that
// the generator still writes the files of those figures.
package synth

-- wrk script of scripts/load-bench.sh: POST /v1/score with eight accounts
-- taken from datasets/sample_accounts.csv, in turn, and the API key of the
-- ICP_KEY environment variable when it is set. Servers without
-- authentication ignore the header.
--
-- With BATCH=N in the environment every request is instead one JSON array
-- of N accounts for POST /v1/score/batch: the eight accounts repeated, each
-- copy with its own account_id.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("ICP_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
local bodies = {
  [[{"account_id":"ACC-0000101","industry":"FinTech","employees":148,"annual_revenue_usd":102976000.0,"country":"MX","region":"LATAM","founded_year":1998,"funding_stage":"Series C+","business_model":"B2B SaaS","tech_stack":"hubspot;aws;stripe;slack;jira;pardot","web_visits_30d":26,"trial_users":0,"support_tickets_90d":1}]],
  [[{"account_id":"ACC-0000301","industry":"FinTech","employees":877,"annual_revenue_usd":251652000.0,"country":"IN","region":"APAC","founded_year":2003,"funding_stage":"Series B","business_model":"B2B SaaS","tech_stack":"gcp;azure;stripe;intercom;slack","web_visits_30d":84,"trial_users":12,"support_tickets_90d":6}]],
  [[{"account_id":"ACC-0000501","industry":"Healthcare","employees":3,"annual_revenue_usd":792000.0,"country":"DE","region":"EMEA","founded_year":2023,"funding_stage":"Bootstrapped","business_model":"Services","tech_stack":"hubspot;aws","web_visits_30d":8,"trial_users":0,"support_tickets_90d":0}]],
  [[{"account_id":"ACC-0000701","industry":"E-commerce","employees":352,"annual_revenue_usd":86008000.0,"country":"US","region":"NA","founded_year":2012,"funding_stage":"Series A","business_model":"Hardware","tech_stack":"salesforce;aws;snowflake;slack","web_visits_30d":208,"trial_users":1,"support_tickets_90d":5}]],
  [[{"account_id":"ACC-0000901","industry":"Nonprofit","employees":78,"annual_revenue_usd":8059000.0,"country":"FR","region":"EMEA","founded_year":2016,"funding_stage":"Bootstrapped","business_model":"Services","tech_stack":"hubspot;aws;zendesk;slack","web_visits_30d":31,"trial_users":1,"support_tickets_90d":1}]],
  [[{"account_id":"ACC-0001101","industry":"Consulting","employees":12,"annual_revenue_usd":1498000.0,"country":"FR","region":"EMEA","founded_year":2007,"funding_stage":"Bootstrapped","business_model":"Services","tech_stack":"aws;slack","web_visits_30d":22,"trial_users":0,"support_tickets_90d":1}]],
  [[{"account_id":"ACC-0001301","industry":"SaaS","employees":null,"annual_revenue_usd":14057000.0,"country":"FR","region":"EMEA","founded_year":2013,"funding_stage":"Series A","business_model":"B2B SaaS","tech_stack":"hubspot;azure;snowflake;stripe;slack","web_visits_30d":38,"trial_users":5,"support_tickets_90d":1}]],
  [[{"account_id":"ACC-0001501","industry":"Consulting","employees":21,"annual_revenue_usd":null,"country":"US","region":"NA","founded_year":2018,"funding_stage":"Bootstrapped","business_model":"Services","tech_stack":"hubspot;aws;azure","web_visits_30d":16,"trial_users":0,"support_tickets_90d":1}]],
}
local batch = tonumber(os.getenv("BATCH") or "")
if batch and batch > 0 then
  local accounts = {}
  for k = 1, batch do
    local b = bodies[(k - 1) % #bodies + 1]
    accounts[k] = (b:gsub('"account_id":"[^"]*"', '"account_id":"B-' .. k .. '"', 1))
  end
  bodies = { "[" .. table.concat(accounts, ",") .. "]" }
end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

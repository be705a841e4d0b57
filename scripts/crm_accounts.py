#!/usr/bin/env python3
"""Join the CRM Sales Opportunities tables into one row per account.

Usage: scripts/crm_accounts.py DIR > datasets/crm_accounts.csv

DIR holds accounts.csv and sales_pipeline.csv of the Maven Analytics "CRM
Sales Opportunities" data set (public domain; see datasets/README.md).

Each output row is one account with its firmographics (sector,
year_established, revenue in USD millions, employees, office_location,
subsidiary_of) and the outcome of its most recent closed deal:

- outcome: Won or Lost, the deal_stage of the account's latest closed deal
  (by close_date, then opportunity_id);
- close_date: that deal's close date;
- sales_cycle_days: days from engage_date to close_date of that deal;
- ltv_usd: the sum of close_value over all of the account's won deals, the
  revenue the account brought in.

Open deals (Engaging, Prospecting) and deals without an account are left
out. The sector typo "technolgy" is kept as it is in the source: the
engine must cope with real exports.
"""
import csv
import sys
from datetime import date


def main(d):
    with open(f"{d}/accounts.csv", newline="") as f:
        accounts = list(csv.DictReader(f))
    deals = {}
    with open(f"{d}/sales_pipeline.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["account"] and r["deal_stage"] in ("Won", "Lost"):
                deals.setdefault(r["account"], []).append(r)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["account", "sector", "year_established", "revenue", "employees",
                  "office_location", "subsidiary_of", "outcome", "close_date",
                  "sales_cycle_days", "ltv_usd"])
    for a in accounts:
        ds = deals.get(a["account"], [])
        if not ds:
            continue
        last = max(ds, key=lambda r: (r["close_date"], r["opportunity_id"]))
        cycle = (date.fromisoformat(last["close_date"]) - date.fromisoformat(last["engage_date"])).days
        ltv = sum(float(r["close_value"] or 0) for r in ds if r["deal_stage"] == "Won")
        out.writerow([a["account"], a["sector"], a["year_established"], a["revenue"],
                      a["employees"], a["office_location"], a["subsidiary_of"],
                      last["deal_stage"], last["close_date"], cycle, f"{ltv:.0f}"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

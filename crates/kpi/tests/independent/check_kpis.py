#!/usr/bin/env python3
"""Independent check of the kpi engine: recompute every KPI by rep x month with plain SQL
(SQLite from the Python standard library) from the CSV facts written by
`cargo run --release -p kpi --example export_check -- DIR`, and compare with the engine's table.

Usage: python3 crates/kpi/tests/independent/check_kpis.py DIR
The definitions follow docs/kpis.md; this file shares no code with the engine."""

import csv
import sqlite3
import sys
from decimal import Decimal

directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kpi-check"
db = sqlite3.connect(":memory:")

for table in ["opportunities", "activities", "quotes", "orders", "leads", "quotas", "engine"]:
    with open(f"{directory}/{table}.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    db.execute(f"create table {table} ({', '.join(header)})")
    body = [[None if v == "" else v for v in row] for row in body]
    db.executemany(f"insert into {table} values ({', '.join('?' for _ in header)})", body)

db.executescript("""
create table months as
  with recursive m(start) as (select '2015-01-01' union all select date(start, '+1 month') from m where start < '2017-12-01')
  select substr(start, 1, 7) as month, start, date(start, '+1 month', '-1 day') as last from m;
create table reps as select distinct rep from engine;
create table grid as select rep, month, start, last from reps cross join months;
create index o_rep on opportunities(rep);
create index q_opportunity on quotes(opportunity);
create index o_position on opportunities(position);
""")

# Each query returns (rep, month, numerator, denominator); denominator NULL for counts and money.
def q(sql):
    return {(int(r[0]), r[1]): (r[2], r[3]) for r in db.execute(sql)}

def per_month(select, source, date_column, where="1"):
    return q(f"""select g.rep, g.month, {select} from grid g left join {source} x
                 on x.rep = g.rep and substr(x.{date_column}, 1, 7) = g.month and ({where})
                 group by g.rep, g.month""")

opportunity = "(select o.*, o.rep as rep from opportunities o)"
quote = "(select q.*, o.rep as rep, o.created_on as opportunity_created from quotes q join opportunities o on o.position = q.opportunity)"
order = "(select r.*, o.rep as rep from orders r join opportunities o on o.position = r.opportunity)"

expected = {
    "opportunities_created": per_month("count(x.rep), null", opportunity, "created_on"),
    "deals_closed": per_month("count(x.rep), null", opportunity, "closed_on", "x.outcome = 'won'"),
    "deals_lost": per_month("count(x.rep), null", opportunity, "closed_on", "x.outcome = 'lost'"),
    "revenue": per_month("coalesce(sum(x.amount), 0), null", opportunity, "closed_on", "x.outcome = 'won'"),
    "win_rate": per_month("coalesce(sum(x.outcome = 'won'), 0), count(x.rep)", opportunity, "closed_on", "x.outcome != 'open'"),
    "deal_closing_rate": per_month("coalesce(sum(x.outcome = 'won'), 0), count(x.rep)", opportunity, "created_on"),
    "sales_cycle_length": per_month(
        "coalesce(sum(cast(julianday(x.closed_on) - julianday(x.cycle_start) as integer)), 0), count(x.rep)",
        opportunity, "closed_on", "x.outcome = 'won'"),
    "open_pipeline": q("""select g.rep, g.month, coalesce(sum(o.amount), 0), null from grid g left join opportunities o
        on o.rep = g.rep and o.created_on <= g.last and (o.outcome = 'open' or o.closed_on > g.last)
        group by g.rep, g.month"""),
    "leads_generated": per_month("count(x.rep), null", "leads", "created_on"),
    "lead_qualification_rate": per_month("coalesce(sum(x.qualified = '1'), 0), count(x.rep)", "leads", "created_on"),
    "lead_follow_up_time": per_month("coalesce(sum(x.follow_up_minutes), 0), count(x.follow_up_minutes)", "leads", "created_on"),
    "calls_placed": per_month("count(x.rep), null", "activities", "on_day", "x.kind = 'call'"),
    "talk_time": per_month("coalesce(sum(x.duration_seconds), 0), null", "activities", "on_day", "x.kind = 'call'"),
    "emails_sent": per_month("count(x.rep), null", "activities", "on_day", "x.kind = 'email'"),
    "meetings_held": per_month("count(x.rep), null", "activities", "on_day", "x.kind = 'meeting'"),
    "visits": per_month("count(x.rep), null", "activities", "on_day", "x.kind = 'visit'"),
    "visits_per_sale": per_month("count(x.rep), coalesce(sum(x.sale = '1'), 0)", "activities", "on_day", "x.kind = 'visit'"),
    "field_conversion": per_month("coalesce(sum(x.sale = '1'), 0), count(x.rep)", "activities", "on_day", "x.kind = 'visit'"),
    "proposal_rate": per_month(
        "coalesce(sum(exists (select 1 from quotes q where q.opportunity = x.position and q.sent_on is not null)), 0), count(x.rep)",
        opportunity, "created_on"),
    "quote_response_time": per_month(
        "coalesce(sum((x.sent_at - x.created_at) / 60), 0), count(x.sent_at)", quote, "sent_on"),
    "conversion_on_quotes": per_month("coalesce(sum(x.status = 'accepted'), 0), count(x.rep)", quote, "sent_on"),
    "cancel_rate": per_month("coalesce(sum(x.cancelled_on is not null), 0), count(x.rep)", order, "ordered_on"),
    "pre_installation_cancellation": per_month(
        "coalesce(sum(x.cancelled_on is not null and (x.installed_on is null or x.cancelled_on < x.installed_on)), 0), count(x.rep)",
        order, "ordered_on"),
    "first_time_right": per_month("coalesce(sum(x.failed = '0'), 0), count(x.rep)", order, "installed_on"),
}
quota = per_month("coalesce(sum(x.amount), 0), null", "quotas", "starts_on")
revenue = expected["revenue"]
active = q("""select g.rep, g.month, count(o.rep) > 0, null from grid g left join opportunities o on o.rep = g.rep
              and (substr(o.created_on, 1, 7) = g.month or (o.outcome != 'open' and substr(o.closed_on, 1, 7) = g.month))
              group by g.rep, g.month""")
months = [m for (m,) in db.execute("select month from months order by month")]
expected["quota_attainment"] = {k: (revenue[k][0], quota[k][0]) for k in revenue}
expected["average_revenue_per_rep"] = {k: (revenue[k][0], active[k][0]) for k in revenue}
expected["revenue_growth"] = {}
for (rep, month), (value, _) in revenue.items():
    i = months.index(month)
    if i > 0:
        before = revenue[(rep, months[i - 1])][0]
        expected["revenue_growth"][(rep, month)] = (value - before, before)

MONEY = {"revenue", "open_pipeline"}
MONEY_NUMERATOR = {"quota_attainment", "average_revenue_per_rep", "revenue_growth"}
MONEY_BOTH = {"quota_attainment", "revenue_growth"}

checked, mismatches = 0, []
for rep, month, kpi, kind, numerator, denominator in db.execute("select * from engine"):
    key = (int(rep), month)
    if kpi not in expected:
        mismatches.append((kpi, key, "not recomputed"))
        continue
    if key not in expected[kpi]:
        if kind == "no_data" and not numerator:
            checked += 1
            continue
        mismatches.append((kpi, key, "engine has a value the SQL does not"))
        continue
    want_n, want_d = expected[kpi][key]
    scale = Decimal(100)
    want_n = Decimal(want_n) / scale if kpi in MONEY | MONEY_NUMERATOR else Decimal(want_n)
    if want_d is not None:
        want_d = Decimal(want_d) / scale if kpi in MONEY_BOTH else Decimal(want_d)
    got_n = Decimal(numerator) if numerator else Decimal(0)
    got_d = Decimal(denominator) if denominator else None
    if want_d is not None and want_d == 0:
        ok = kind == "no_data" and got_n == want_n
    elif want_d is None:
        ok = kind in ("count", "money") and got_n == want_n
    else:
        ok = kind == "ratio" and got_n == want_n and got_d == want_d
    checked += 1
    if not ok:
        mismatches.append((kpi, key, f"engine {kind} {numerator}/{denominator}, SQL {want_n}/{want_d}"))

print(f"checked {checked} cells of {len(expected)} KPIs: {len(mismatches)} mismatches")
for m in mismatches[:20]:
    print("  ", m)
sys.exit(1 if mismatches else 0)

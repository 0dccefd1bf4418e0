"""Customer lifetime value from transactions: BG/NBD (and Pareto/NBD) for how often
customers buy and whether they are still alive, Gamma-Gamma for how much they spend.

The per-customer summary is computed in the engine, following the published CDNOW
analyses: purchases on the same day are one purchase (their amounts summed); ``x`` is
the number of purchase days after the first, ``t_x`` the time from the first to the
last purchase day, ``T`` the time from the first purchase day to the end of
observation, in weeks by default; the spend of a customer is the mean amount of their
repeat purchase days (the first purchase is left out, as in Fader, Hardie & Lee).

CLV over a horizon sums, month by month, the expected purchases of that month times the
expected spend per purchase, discounted at a monthly rate derived from the annual one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from journeymap.engine.scope import persona_attribute, persona_customers
from journeymap.errors import JourneymapError
from journeymap.metrics import clv_models as models
from journeymap.metrics.common import num
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress, report

TimeUnit = Literal["day", "week", "month"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


class ClvError(JourneymapError):
    """The transactions cannot support a CLV model (none, or no repeat purchases)."""


@dataclass(frozen=True)
class ClvOptions:
    time_unit: TimeUnit = "week"
    observation_end: dt.date | None = None  # default: the last transaction's day
    horizon_months: int = 12
    discount_rate_annual: float = 0.10
    model: Literal["bgnbd", "pareto_nbd"] = "bgnbd"
    compare: bool = True  # also fit the other count model (Pareto/NBD is the slower one)


@dataclass
class ClvResult:
    options: ClvOptions
    observation_end: dt.date
    fits: dict[str, models.Fit]
    customers: pa.Table  # customer_id, x, t_x, T, monetary, expected_purchases, p_alive, spend, clv
    notes: list[str] = field(default_factory=list)
    spend_correlation: float | None = None


def summarise(transactions: ir.Table, *, time_unit: TimeUnit = "week",
              observation_end: dt.date | None = None) -> tuple[pa.Table, dt.date]:
    """Per customer: x, t_x, T (in ``time_unit``) and the mean repeat spend, computed in
    the engine from (customer_id, timestamp, amount)."""
    if time_unit not in DAYS_PER_UNIT:
        raise ClvError(f"time unit must be one of {', '.join(DAYS_PER_UNIT)}")
    tx = transactions.filter(transactions.amount.notnull())
    if observation_end is None:
        last = tx.timestamp.max().to_pyarrow().as_py()
        if last is None:
            raise ClvError("no transactions to model")
        observation_end = last.date()
    end_day = (observation_end - dt.date(1970, 1, 1)).days
    day = (tx.timestamp.truncate("D").epoch_seconds() // 86400).cast("int64")
    # sums rounded to 1e-6: a parallel sum's last bits depend on the order the threads
    # add in, and the models' fits are sensitive enough for that to move the CLV (an
    # amount has far fewer decimals, so the rounding never moves a true sum)
    days = tx.mutate(day=day).filter(lambda t: t.day <= end_day) \
        .group_by(["customer_id", "day"]).aggregate(amount=lambda t: t.amount.sum().round(6))
    per = days.group_by("customer_id").aggregate(
        first=days.day.min(), last=days.day.max(), n_days=days.count(),
        total=days.amount.sum().round(6), first_amount=days.amount.argmin(days.day),
    )
    unit = DAYS_PER_UNIT[time_unit]
    x = per.n_days - 1
    summary = per.select(
        "customer_id",
        x=x.cast("float64"),
        t_x=(per.last - per.first).cast("float64") / unit,
        T=(ibis.literal(end_day) - per.first).cast("float64") / unit,
        monetary=ibis.ifelse(x > 0, (per.total - per.first_amount) / x.cast("float64"), 0.0),
    ).order_by("customer_id")
    return summary.to_pyarrow(), observation_end


def fit_clv(summary: pa.Table, options: ClvOptions = ClvOptions(), *, observation_end: dt.date,
            progress: Progress | None = None) -> ClvResult:
    """Fit the models on a summary (see :func:`summarise`) and predict per customer."""
    x = summary.column("x").to_numpy().astype(float)
    if len(x) == 0:
        raise ClvError("no customers with a purchase before the observation end")
    if not (x > 0).any():
        raise ClvError("no customer bought twice: repeat-purchase models need repeat purchases")
    t_x = summary.column("t_x").to_numpy().astype(float)
    T = summary.column("T").to_numpy().astype(float)
    m = summary.column("monetary").to_numpy().astype(float)
    keep = T > 0  # a customer first seen on the last day has no observed time yet
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} customers first bought on the observation end day; "
                     "they get population-level predictions")
    report(progress, "Fitting BG/NBD", 0, 3)
    fits = {"bgnbd": models.fit_bgnbd(x[keep], t_x[keep], T[keep])}
    if options.model == "pareto_nbd" or options.compare:
        report(progress, "Fitting Pareto/NBD", 1, 3)
        bg = fits["bgnbd"].params
        fits["pareto_nbd"] = models.fit_pnbd(x[keep], t_x[keep], T[keep], start=(bg["r"], bg["alpha"]))
    report(progress, "Fitting Gamma-Gamma", 2, 3)
    fits["gamma_gamma"] = models.fit_gamma_gamma(x, m)
    report(progress, "Fitting Gamma-Gamma", 3, 3)
    repeat = (x > 0) & (m > 0)
    corr = float(np.corrcoef(x[repeat], m[repeat])[0, 1]) if repeat.sum() > 2 else None
    if corr is not None and abs(corr) > 0.3:
        notes.append(f"frequency and spend correlate (r = {corr:.2f}); Gamma-Gamma assumes they do not")
    for f in fits.values():
        if f.at_bound:
            notes.append(f"{f.model}: {', '.join(f.at_bound)} at the edge of the search range — the data do not "
                         "identify it (for subscriptions billed on a schedule, expect no sign of dropout)")
    if fits["gamma_gamma"].params["q"] <= 1:
        notes.append("Gamma-Gamma q <= 1: the population mean spend is undefined; spend of one-time buyers is unknown")

    fit = fits[options.model]
    expected, alive = _predictors(options.model)
    unit_days = DAYS_PER_UNIT[options.time_unit]
    month = (365.25 / 12) / unit_days
    horizon = options.horizon_months
    spend = models.gg_expected_spend(fits["gamma_gamma"].params, x, m)
    if not np.isfinite(spend).all():
        fallback = float(np.mean(m[repeat])) if repeat.any() else 0.0
        spend = np.where(np.isfinite(spend), spend, fallback)
        notes.append(f"one-time buyers are given the observed mean repeat spend ({fallback:.2f})")
    monthly_rate = (1 + options.discount_rate_annual) ** (1 / 12) - 1
    cumulative = [np.zeros_like(x)] + [expected(fit.params, k * month, x, t_x, T) for k in range(1, horizon + 1)]
    clv = np.zeros_like(x)
    for k in range(1, horizon + 1):  # months of the horizon, vectorised over customers
        clv += (cumulative[k] - cumulative[k - 1]) * spend / (1 + monthly_rate) ** k
    purchases_year = expected(fit.params, 12 * month, x, t_x, T)
    table = summary.append_column("expected_purchases_12m", pa.array(purchases_year)) \
        .append_column("p_alive", pa.array(alive(fit.params, x, t_x, T))) \
        .append_column("expected_spend", pa.array(spend)) \
        .append_column("clv", pa.array(clv))
    return ClvResult(options, observation_end, fits, table, notes, corr)


def _predictors(model: str) -> tuple[Any, Any]:
    if model == "pareto_nbd":
        return models.pnbd_expected, models.pnbd_p_alive
    return models.bgnbd_expected, models.bgnbd_p_alive


def customer_clv(con: ibis.BaseBackend, options: ClvOptions = ClvOptions(), *,
                 progress: Progress | None = None) -> ClvResult:
    """Fit CLV models on the store's ``transactions`` table and predict per customer."""
    transactions = con.table("transactions")
    report(progress, "Summarising transactions", 0, None)
    summary, end = summarise(transactions, time_unit=options.time_unit, observation_end=options.observation_end)
    result = fit_clv(summary, options, observation_end=end, progress=progress)
    currencies = transactions.select("currency").distinct().to_pyarrow().column("currency").to_pylist()
    if len([c for c in currencies if c]) > 1:
        result.notes.append(f"amounts are in several currencies ({', '.join(sorted(c for c in currencies if c))}) "
                            "and are summed as they are")
    return result


def _metrics(table: ir.Table) -> dict[str, ir.Value]:
    return dict(
        customers=table.count(), clv_total=table.clv.sum(), clv_mean=table.clv.mean(),
        clv_median=table.clv.median(), expected_purchases_12m_mean=table.expected_purchases_12m.mean(),
        p_alive_mean=table.p_alive.mean(), repeat_customers=(table.x > 0).cast("int64").sum(),
    )


def _aggregate(table: ir.Table) -> ir.Table:
    return table.aggregate(**_metrics(table))


def _agg_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"customers": int(row["customers"]), "repeat_customers": int(row["repeat_customers"] or 0),
            "clv_total": num(row["clv_total"], 2), "clv_mean": num(row["clv_mean"], 2),
            "clv_median": num(row["clv_median"], 2),
            "expected_purchases_12m_mean": num(row["expected_purchases_12m_mean"]),
            "p_alive_mean": num(row["p_alive_mean"])}


def result_json(con: ibis.BaseBackend | None, result: ClvResult, *, segment_by: str | None = None,
                maps: list[JourneyMap] | None = None, top: int = 10) -> dict[str, Any]:
    """The fitted models, the CLV summary, per value of the customer attribute
    ``segment_by`` (when given and loaded) and per persona of ``maps``, JSON-ready."""
    per = ibis.memtable(result.customers)
    o = result.options
    out: dict[str, Any] = {
        "time_unit": o.time_unit, "observation_end": result.observation_end.isoformat(),
        "model": o.model, "horizon_months": o.horizon_months, "discount_rate_annual": o.discount_rate_annual,
        "models": {name: {"params": {k: num(v, 4) for k, v in f.params.items()},
                          "log_likelihood": num(f.log_likelihood, 2), "customers": f.n, "converged": f.converged,
                          "at_bound": list(f.at_bound)}
                   for name, f in result.fits.items()},
        "frequency_spend_correlation": num(result.spend_correlation),
        "notes": list(result.notes),
    }
    if con is not None:
        out["summary"] = _agg_json(_run_one(con, _aggregate(per)))
        customers = con.table("customers")
        if segment_by and segment_by in customers.columns:
            seg = customers.select("customer_id", segment=customers[segment_by].cast("string"))
            joined = per.left_join(seg, "customer_id")
            rows = con.to_pyarrow(joined.group_by("segment").aggregate(**_metrics(joined))
                                  .order_by("segment")).to_pylist()
            out["segment_by"] = segment_by
            out["segments"] = {("(none)" if r["segment"] is None else r["segment"]): _agg_json(r) for r in rows}
        personas = {}
        for jmap in maps or []:
            selected, notice = persona_customers(con, jmap)
            subset = per if selected is None else per.semi_join(selected, "customer_id")
            personas[jmap.id] = {"persona": jmap.persona.name, **_agg_json(_run_one(con, _aggregate(subset)))}
            if notice:
                personas[jmap.id]["notice"] = notice
        out["personas"] = personas
        top_rows = con.to_pyarrow(per.order_by([ibis.desc("clv"), "customer_id"]).limit(top)).to_pylist()
    else:
        out["summary"] = _agg_json(_summary_numpy(result.customers))
        top_rows = result.customers.sort_by([("clv", "descending"), ("customer_id", "ascending")]) \
            .slice(0, top).to_pylist()
    out["top_customers"] = [{"customer_id": r["customer_id"], "clv": num(r["clv"], 2),
                             "p_alive": num(r["p_alive"]), "x": int(r["x"]),
                             "expected_purchases_12m": num(r["expected_purchases_12m"])} for r in top_rows]
    return out


def _run_one(con: ibis.BaseBackend, expr: ir.Table) -> dict[str, Any]:
    return con.to_pyarrow(expr).to_pylist()[0]  # type: ignore[no-any-return]


def _summary_numpy(t: pa.Table) -> dict[str, Any]:
    clv = t.column("clv").to_numpy()
    return {"customers": len(clv), "clv_total": clv.sum(), "clv_mean": clv.mean() if len(clv) else None,
            "clv_median": float(np.median(clv)) if len(clv) else None,
            "expected_purchases_12m_mean": t.column("expected_purchases_12m").to_numpy().mean(),
            "p_alive_mean": t.column("p_alive").to_numpy().mean(),
            "repeat_customers": int((t.column("x").to_numpy() > 0).sum())}


def clv_section(con: ibis.BaseBackend, jmap: JourneyMap, options: ClvOptions = ClvOptions(compare=False), *,
                segment_by: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The ``clv`` key of ``analyze --json``: models fitted on every customer, CLV of the
    map's persona, per segment — per value of ``segment_by`` (``--by``), by default the
    attribute the persona's rule reads; ``available: false`` with a reason when data is
    lacking."""
    segment_by = segment_by or persona_attribute(jmap)
    if int(con.table("transactions").count().to_pyarrow().as_py()) == 0:
        return {"available": False, "reason": "no transactions loaded"}
    try:
        result = customer_clv(con, options, progress=progress)
    except ClvError as exc:
        return {"available": False, "reason": str(exc)}
    out = result_json(con, result, segment_by=segment_by, maps=[jmap])
    out["persona"] = out.pop("personas")[jmap.id]
    return {"available": True, **out}

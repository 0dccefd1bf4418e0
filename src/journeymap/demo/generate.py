"""The demo company: deterministic synthetic B2B SaaS data with planted effects.

``generate_demo(out_dir)`` writes a workspace's worth of customer data for Lumetra,
a reporting SaaS sold to Enterprise accounts (through sales) and SMEs (self-serve):

* ``data/events.parquet``, ``data/customers.csv``, ``data/feedback.csv``,
  ``data/transactions.csv``, ``data/transcripts.jsonl`` — the five data kinds of the
  customer data contract, sorted by customer and time;
* ``ground_truth.json`` — the planted effects, their parameters, the values they are
  expected to show and the values this sample shows, with the SQL that measures them;
* ``maps/*.yaml`` — three example journey maps tied to the generated event names.

Everything is drawn with numpy from one ``np.random.default_rng(seed)``: the same
seed writes byte-identical files.  No step loops over customers or events.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from journeymap.demo.billing import Transactions, billing
from journeymap.demo.catalog import (
    ACQUISITION,
    CHANNEL_CODE,
    CHANNELS,
    COUNTRIES,
    CURRENCIES,
    END_S,
    EVENT_NAMES,
    INDUSTRIES,
    PLANS,
    ROLES,
    SEGMENTS,
)
from journeymap.demo.core import NEVER, EventLog, id_strings
from journeymap.demo.feedback import feedback_table, surveys, transcripts
from journeymap.demo.funnel import People, Presale, make_people, presale
from journeymap.demo.postsale import BILLING, Subscription, subscribe
from journeymap.demo.support import support
from journeymap.demo.truth import ground_truth
from journeymap.demo.usage import usage
from journeymap.progress import Progress

MAP_FILES = ("sme-onboarding-churn.yaml", "enterprise-acquisition.yaml", "day-in-the-life.yaml")
SESSION_GAP_S = 30 * 60
_STEPS = 8


@dataclass(frozen=True)
class DemoFiles:
    """Paths written by :func:`generate_demo`."""

    root: Path
    events: Path
    customers: Path
    feedback: Path
    transactions: Path
    transcripts: Path
    ground_truth: Path
    maps: tuple[Path, ...]


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype="datetime64[s]").astype("datetime64[us]"), pa.timestamp("us", tz="UTC"))


def _iso_texts(seconds: np.ndarray) -> pa.Array:
    stamps = pa.array(np.asarray(seconds, dtype="datetime64[s]"), pa.timestamp("s", tz="UTC"))
    return pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ")


def _events_table(log: EventLog, ids: pa.Array, stop: np.ndarray) -> pa.Table:
    cust, ts, code, channel, props = log.columns()
    keep = ts <= np.minimum(stop[cust], END_S)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((code[order], ts[order], cust[order]))]
    cust, ts, code, channel = cust[order], ts[order], code[order], channel[order]
    # web and app events are sessionised: a new session after 30 minutes of silence
    online = np.flatnonzero(np.isin(channel, (CHANNEL_CODE["web"], CHANNEL_CODE["app"])))
    oc, ot = cust[online], ts[online]
    new = np.ones(len(online), dtype=bool)
    new[1:] = (oc[1:] != oc[:-1]) | (ot[1:] - ot[:-1] > SESSION_GAP_S)
    session = np.full(len(cust), -1)
    session[online] = np.cumsum(new)
    sid = id_strings("S", np.maximum(session, 0), 8)
    sid = pc.if_else(pa.array(session >= 0), sid, pa.scalar(None, pa.string()))
    return pa.table({
        "customer_id": ids.take(pa.array(cust)),
        "timestamp": _ts(ts),
        "event": pa.array(EVENT_NAMES, pa.string()).take(pa.array(code.astype(np.int64))),
        "channel": pa.array(CHANNELS, pa.string()).take(pa.array(channel.astype(np.int64))),
        "session_id": sid,
        "properties": props.take(pa.array(order)),
    })


def _customers_table(p: People, pre: Presale, sub: Subscription, ids: pa.Array) -> pa.Table:
    cust = sub.customer
    status = np.where(~cust, "prospect", np.where(sub.cancel_ts != NEVER, "cancelled", "active"))
    signup = pc.utf8_slice_codeunits(_iso_texts(np.where(cust, sub.account_ts, 0)), 0, 10)

    def pick(values: tuple[str, ...], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        arr = pa.array(values, pa.string()).take(pa.array(np.maximum(idx, 0)))
        return arr if mask is None else pc.if_else(pa.array(mask), arr, pa.scalar(None, pa.string()))

    return pa.table({
        "customer_id": ids,
        "segment": pick(SEGMENTS, p.seg.astype(np.int64)),
        "company_size": pa.array(p.size),
        "industry": pick(INDUSTRIES, p.industry),
        "country": pick(tuple(c[0] for c in COUNTRIES), p.country),
        "plan": pick(PLANS, sub.plan_final, cust),
        "billing_period": pick(BILLING, sub.billing, cust),
        "signup_date": pc.if_else(pa.array(cust), signup, pa.scalar(None, pa.string())),
        "role": pick(ROLES, p.role),
        "acquisition_channel": pick(ACQUISITION, p.acquisition),
        "status": pa.array(status),
    })


def _with_ids(table: pa.Table, ids: pa.Array) -> pa.Table:
    """Replace the ``cust`` index and ``ts`` seconds by customer_id and an ISO timestamp."""
    rest = table.drop_columns(["cust", "ts"])
    cust = table.column("cust").to_numpy()
    ts = table.column("ts").to_numpy()
    return pa.table({"customer_id": ids.take(pa.array(cust)), "timestamp": _iso_texts(ts),
                     **{name: rest.column(name) for name in rest.column_names}})


def _write_csv(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def _write_jsonl(table: pa.Table, path: Path) -> None:
    pieces: list[object] = []
    for i, name in enumerate(table.column_names):
        pieces.append(("{" if i == 0 else ", ") + f'"{name}": "')
        pieces.append(table.column(name).combine_chunks())
        pieces.append('"')
    pieces.append("}")
    lines = pc.binary_join_element_wise(*pieces, "") if table.num_rows else pa.array([], pa.string())
    text = "\n".join(lines.to_pylist())
    path.write_text(text + ("\n" if text else ""), encoding="utf-8")


def copy_maps(dest: Path) -> tuple[Path, ...]:
    """Copy the example maps shipped with the package into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    source = resources.files("journeymap.demo") / "maps"
    out = []
    for name in MAP_FILES:
        target = dest / name
        with resources.as_file(source / name) as path:
            shutil.copyfile(path, target)
        out.append(target)
    return tuple(out)


def generate_demo(
    out_dir: Path, customers: int = 50_000, seed: int = 7, progress: Progress | None = None
) -> DemoFiles:
    """Write the demo company's data, ground truth and maps under ``out_dir``."""
    if customers < 1:
        raise ValueError("customers must be at least 1")

    def step(done: int, what: str) -> None:
        if progress is not None:
            progress(what, done, _STEPS)

    out_dir = Path(out_dir)
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    log = EventLog()
    step(0, "Drawing accounts")
    people = make_people(rng, customers)
    pre = presale(rng, people, log)
    step(1, "Onboarding and renewals")
    sub = subscribe(rng, people, pre, log)
    step(2, "Product usage")
    usage(rng, people, sub, log)
    tickets = support(rng, people, sub, log)
    step(3, "Billing")
    tx: Transactions = billing(rng, people, pre, sub, log)
    step(4, "Surveys and transcripts")
    stop = sub.stop_ts
    fb = feedback_table(rng, surveys(rng, people, pre, sub, tickets), stop)
    tr = transcripts(rng, tickets, stop)

    step(5, "Writing events")
    ids = id_strings("C", np.arange(1, customers + 1), max(6, len(str(customers))))
    events = _events_table(log, ids, stop)
    files = DemoFiles(
        root=out_dir, events=data / "events.parquet", customers=data / "customers.csv",
        feedback=data / "feedback.csv", transactions=data / "transactions.csv",
        transcripts=data / "transcripts.jsonl", ground_truth=out_dir / "ground_truth.json",
        maps=copy_maps(out_dir / "maps"),
    )
    pq.write_table(events, files.events, compression="zstd", row_group_size=256 * 1024)
    step(6, "Writing customers, feedback, transactions, transcripts")
    customers_t = _customers_table(people, pre, sub, ids)
    _write_csv(customers_t, files.customers)
    feedback_t = _with_ids(fb, ids)
    _write_csv(feedback_t, files.feedback)
    transactions_t = pa.table({
        "customer_id": ids.take(pa.array(tx.cust)), "timestamp": _iso_texts(tx.ts), "amount": pa.array(tx.amount),
        "currency": pa.array(CURRENCIES, pa.string()).take(pa.array(tx.currency)), "order_id": tx.order_id,
    })
    _write_csv(transactions_t, files.transactions)
    transcripts_t = _with_ids(tr, ids)
    _write_jsonl(transcripts_t, files.transcripts)

    step(7, "Measuring the planted effects")
    truth = ground_truth(seed, customers, events, customers_t, feedback_t, transactions_t, transcripts_t)
    files.ground_truth.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    step(_STEPS, "Done")
    return files

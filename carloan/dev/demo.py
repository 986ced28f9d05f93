"""A deterministic, realistic car-loan book for demos, tests and benchmarks.

`generate_book` returns one UTF-8 CSV (header row first, columns as in contract section 2) per
import kind. The same arguments and seed always give the same bytes. Everything is simulated day
by day with `random.Random` streams seeded from the seed and the kind, so asking for a subset of
kinds gives the same rows as asking for all of them.

The book's story:

- six regions of different sizes and risk (`DEFAULT_REGIONS`); leads arrive daily through five
  channels with weekday seasonality and slow growth;
- about 45 % of leads apply; credit scores (300-900) drive an approval rate of about 65 %;
  decisions come 0-5 days after the application (recent ones may still be pending);
- approved applications are funded 1-10 days later (principal 50k-400k CNY, 12-60 months,
  5-12 % a year), each with its vehicle, appraised value and collateral valuation;
- every loan has a snapshot when funded and then one on a grid of days ending on the end date
  (weekly by default): outstanding principal amortises, days past due follow a per-region risk
  level, some loans are paid off early, a few are charged off after a long delinquency;
- in the demo, one region (`SOUTH-01`) sees its delinquencies surge over the last weeks, so its
  overdue rate jumps well above the previous month's level;
- daily marketing spend per region and channel, complaints at a few per 10k active loans a day,
  the six technical sample series, and used-vehicle sales priced along a depreciation curve.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from carloan.loanbook.kinds import KINDS

DEFAULT_SEED = 20260601

# The order that makes sense for an import: the funnel first, then what hangs off it.
IMPORT_ORDER: tuple[str, ...] = (
    "leads",
    "applications",
    "loans",
    "loan_snapshots",
    "valuations",
    "marketing_spend",
    "complaints",
    "samples",
    "vehicle_sales",
    "blacklist",
    "calls",
)


@dataclass(frozen=True)
class Region:
    """A sales region: its size (leads a day at scale 1), credit risk and used-car market."""

    code: str
    leads_per_day: float
    risk: float = 1.0  # multiplies the daily hazard of falling behind
    score_shift: float = 0.0  # shifts the mean credit score
    price_factor: float = 1.0  # regional supply and demand for used cars
    branches: int = 3


DEFAULT_REGIONS: tuple[Region, ...] = (
    Region("EAST-01", 36, risk=0.8, score_shift=15, price_factor=1.04, branches=5),
    Region("EAST-02", 26, risk=0.9, score_shift=8, price_factor=1.03, branches=4),
    Region("NORTH-01", 22, risk=1.1, score_shift=-5, price_factor=0.98, branches=3),
    Region("SOUTH-01", 30, risk=1.0, score_shift=0, price_factor=1.01, branches=4),
    Region("WEST-01", 15, risk=1.3, score_shift=-18, price_factor=0.95, branches=2),
    Region("CENTRAL-01", 24, risk=1.0, score_shift=-2, price_factor=1.0, branches=3),
)

# channel: (share of leads, share of leads that apply, cost per lead in CNY)
CHANNELS: dict[str, tuple[float, float, float]] = {
    "online_ads": (0.28, 0.32, 720.0),
    "dealer_partner": (0.30, 0.56, 1150.0),
    "referral": (0.12, 0.55, 420.0),
    "branch_walk_in": (0.12, 0.50, 260.0),
    "wechat": (0.18, 0.38, 500.0),
}

# Monday .. Sunday: people shop for cars at the weekend.
WEEKDAY_FACTOR = (0.95, 1.0, 1.0, 0.97, 0.93, 1.15, 1.08)

COMPLAINT_CATEGORIES = (
    ("collection_practices", 0.30),
    ("fee_transparency", 0.22),
    ("service_quality", 0.20),
    ("early_repayment", 0.12),
    ("data_privacy", 0.08),
    ("mis_selling", 0.08),
)

# make, model, new price (CNY), fuel types, make retention effect
VEHICLE_MODELS: tuple[tuple[str, str, float, tuple[str, ...], float], ...] = (
    ("BYD", "Han", 230_000, ("ev", "hybrid"), 0.97),
    ("BYD", "Qin PLUS", 115_000, ("hybrid", "ev"), 0.97),
    ("BYD", "Song PLUS", 165_000, ("hybrid", "ev"), 0.98),
    ("BYD", "Seal", 200_000, ("ev",), 0.96),
    ("Toyota", "Camry", 200_000, ("petrol", "hybrid"), 1.06),
    ("Toyota", "Corolla", 120_000, ("petrol", "hybrid"), 1.06),
    ("Toyota", "RAV4", 190_000, ("petrol", "hybrid"), 1.05),
    ("Volkswagen", "Lavida", 110_000, ("petrol",), 1.0),
    ("Volkswagen", "Sagitar", 140_000, ("petrol",), 1.0),
    ("Volkswagen", "Passat", 200_000, ("petrol",), 0.99),
    ("Volkswagen", "Tiguan L", 230_000, ("petrol",), 0.99),
    ("Honda", "Accord", 190_000, ("petrol", "hybrid"), 1.05),
    ("Honda", "Civic", 130_000, ("petrol",), 1.04),
    ("Honda", "CR-V", 200_000, ("petrol", "hybrid"), 1.04),
    ("Nissan", "Sylphy", 110_000, ("petrol",), 1.0),
    ("Geely", "Boyue", 120_000, ("petrol",), 0.94),
    ("Geely", "Emgrand", 80_000, ("petrol",), 0.93),
    ("Changan", "CS75 PLUS", 115_000, ("petrol",), 0.93),
    ("Haval", "H6", 125_000, ("petrol", "diesel"), 0.94),
    ("Great Wall", "Poer", 150_000, ("diesel",), 0.98),
    ("Tesla", "Model 3", 250_000, ("ev",), 1.0),
    ("Tesla", "Model Y", 270_000, ("ev",), 1.01),
    ("Li Auto", "L7", 320_000, ("hybrid",), 0.97),
    ("NIO", "ET5", 300_000, ("ev",), 0.9),
    ("BMW", "3 Series", 320_000, ("petrol",), 0.97),
    ("BMW", "5 Series", 450_000, ("petrol",), 0.96),
    ("Mercedes-Benz", "C-Class", 330_000, ("petrol",), 0.97),
    ("Audi", "A4L", 320_000, ("petrol",), 0.96),
    ("Buick", "Regal", 180_000, ("petrol",), 0.95),
    ("Wuling", "Hongguang MINI EV", 40_000, ("ev",), 0.92),
)

GRADE_EFFECT = {"A": 1.06, "B": 1.0, "C": 0.94, "D": 0.86, "E": 0.75}
FUEL_EFFECT = {"petrol": 1.0, "diesel": 0.97, "hybrid": 1.02, "ev": 0.93}
MONTH_EFFECT = {1: 1.03, 2: 1.02, 3: 1.0, 4: 0.99, 5: 0.99, 6: 0.98, 7: 0.98, 8: 0.99, 9: 1.02,
                10: 1.02, 11: 1.0, 12: 1.01}  # fmt: skip

GOLDEN = (math.sqrt(5) - 1) / 2
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def depreciation(age_years: float) -> float:
    """Share of the new price a typical car keeps at this age: ~85 % after a year, ~54 % at 5."""
    return 0.97 * math.exp(-0.10 * max(age_years, 0.0)) if age_years > 0 else 1.0


def months_before(end: date, months: int) -> date:
    """The first day of a period of `months` calendar months ending on `end` (both included)."""
    year, month = end.year, end.month - months
    while month <= 0:
        month += 12
        year -= 1
    day = min(end.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=1)


def row_counts(book: dict[str, bytes]) -> dict[str, int]:
    """Rows (without the header) of each generated CSV."""
    return {kind: max(data.count(b"\n") - 1, 0) for kind, data in book.items()}


def demo_book(
    end: date | None = None, months: int = 6, scale: float = 1.0, seed: int = DEFAULT_SEED
) -> dict[str, bytes]:
    """The demo scenario: `months` months ending on `end` (default today), SOUTH-01 spiking.

    `scale` multiplies every volume: at 1.0 about 30k leads, 7.5k loans, 100k weekly snapshots
    and 40k technical samples over six months.
    """
    end = end or date.today()
    return generate_book(
        start=months_before(end, months),
        end=end,
        scale=scale,
        seed=seed,
        sample_scale=0.6 * scale,
        sales_scale=max(scale, 0.5),
    )


def generate_book(
    *,
    start: date,
    end: date,
    regions: Sequence[Region] = DEFAULT_REGIONS,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    kinds: Iterable[str] | None = None,
    spike_region: str | None = "SOUTH-01",
    spike_days: int = 20,
    snapshot_every_days: int = 7,
    sample_scale: float = 1.0,
    sales_scale: float = 1.0,
) -> dict[str, bytes]:
    """CSV bytes per kind for a loan book from `start` to `end` (both included).

    `scale` multiplies the business volume (leads, hence applications, loans, spend, ...);
    `sample_scale` the technical samples and `sales_scale` the used-vehicle sales.
    `spike_region` has its delinquencies surge over the last `spike_days` days (None: no spike).
    Snapshots are taken at funding and every `snapshot_every_days` days back from `end`.
    """
    if end < start:
        raise ValueError("end is before start")
    wanted = list(kinds) if kinds is not None else list(IMPORT_ORDER)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kinds: {', '.join(unknown)}")
    book = _Book(
        start=start,
        end=end,
        regions=tuple(regions),
        scale=scale,
        seed=seed,
        spike_region=spike_region,
        spike_days=spike_days,
        step=max(1, snapshot_every_days),
        sample_scale=sample_scale,
        sales_scale=sales_scale,
    )
    return {kind: book.csv(kind) for kind in wanted}


# --- helpers ---------------------------------------------------------------------------------


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, weight in weighted:
        x -= weight
        if x <= 0:
            return value
    return weighted[-1][0]


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _money(value: float) -> str:
    return f"{value:.2f}"


def _day_time(rng: random.Random, day: date) -> datetime:
    """A moment of the day, mostly within business hours."""
    hour = min(23.99, max(0.0, rng.gauss(14.0, 3.2)))
    return datetime.combine(day, time()) + timedelta(seconds=int(hour * 3600))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _annuity_balance(principal: float, monthly_rate: float, term: int, months_paid: float) -> float:
    if months_paid >= term:
        return 0.0
    if monthly_rate <= 0:
        return principal * (1 - months_paid / term)
    growth = (1 + monthly_rate) ** months_paid
    payment = principal * monthly_rate / (1 - (1 + monthly_rate) ** -term)
    return max(0.0, principal * growth - payment * (growth - 1) / monthly_rate)


@dataclass
class _Application:
    application_id: str
    lead_id: str
    region: Region
    applied_at: datetime
    decision: str
    decided_at: datetime | None
    credit_score: int
    vehicle_id: str
    vehicle_value: float


@dataclass
class _Loan:
    loan_id: str
    region: Region
    funded_at: datetime
    principal: float
    term: int
    rate: float
    application: _Application
    closed_on: date | None = None  # paid off or charged off: not active from this day
    snapshots: list[tuple[date, float, int, str]] = field(default_factory=list)


@dataclass
class _Book:
    start: date
    end: date
    regions: tuple[Region, ...]
    scale: float
    seed: int
    spike_region: str | None
    spike_days: int
    step: int
    sample_scale: float
    sales_scale: float
    _core: tuple[list[list[str]], list[_Application], list[_Loan]] | None = None

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"carloan-demo:{self.seed}:{stream}")

    @property
    def end_moment(self) -> datetime:
        return datetime.combine(self.end, time(23, 59, 59))

    def csv(self, kind: str) -> bytes:
        rows = getattr(self, f"_{kind}")()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(KINDS[kind].column_names)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")

    def vin(self, rng: random.Random) -> str:
        return "L" + "".join(rng.choices(VIN_ALPHABET, k=16))

    # --- the funnel: leads, applications, loans, snapshots ----------------------------------

    def expected_leads(self, region: Region, day: date) -> float:
        months_in = (day - self.start).days / 30.4
        growth = 1.0 + 0.012 * months_in
        return region.leads_per_day * self.scale * WEEKDAY_FACTOR[day.weekday()] * growth

    def core(self) -> tuple[list[list[str]], list[_Application], list[_Loan]]:
        if self._core is None:
            self._core = self._simulate_funnel()
        return self._core

    def _simulate_funnel(self) -> tuple[list[list[str]], list[_Application], list[_Loan]]:
        rng = self.rng("funnel")
        leads: list[list[str]] = []
        applications: list[_Application] = []
        loans: list[_Loan] = []
        channel_weights = [(name, share) for name, (share, _, _) in CHANNELS.items()]
        end_moment = self.end_moment
        for day in _days(self.start, self.end):
            for region in self.regions:
                for _ in range(_poisson(rng, self.expected_leads(region, day))):
                    lead_id = f"LD{len(leads) + 1:08d}"
                    created = _day_time(rng, day)
                    channel = _pick(rng, channel_weights)
                    branch = f"{region.code}-B{rng.randint(1, region.branches)}"
                    leads.append([lead_id, _ts(created), region.code, branch, channel])
                    if rng.random() >= CHANNELS[channel][1]:
                        continue
                    applied = created + timedelta(hours=rng.uniform(0.2, 72))
                    if applied > end_moment:
                        continue
                    app = self._decide(rng, len(applications) + 1, lead_id, region, applied)
                    applications.append(app)
                    loan = self._fund(rng, app, len(loans) + 1)
                    if loan is not None:
                        loans.append(loan)
        self._simulate_snapshots(loans)
        return leads, applications, loans

    def _decide(
        self, rng: random.Random, n: int, lead_id: str, region: Region, applied: datetime
    ) -> _Application:
        score = round(min(900, max(300, rng.gauss(645 + region.score_shift, 105))))
        approve = rng.random() < 1 / (1 + math.exp(-(score - 590) / 38))
        delay = _pick(rng, [(0, 0.30), (1, 0.30), (2, 0.18), (3, 0.11), (4, 0.07), (5, 0.04)])
        decided: datetime | None = applied + timedelta(days=delay, hours=rng.uniform(0.5, 9))
        decision = "approved" if approve else "rejected"
        if decided is not None and decided > self.end_moment:
            decision, decided = "pending", None
        value = min(560_000, max(62_000, rng.lognormvariate(math.log(190_000), 0.42)))
        return _Application(
            application_id=f"AP{n:08d}",
            lead_id=lead_id,
            region=region,
            applied_at=applied,
            decision=decision,
            decided_at=decided,
            credit_score=score,
            vehicle_id=self.vin(rng),
            vehicle_value=round(value, -2),
        )

    def _fund(self, rng: random.Random, app: _Application, n: int) -> _Loan | None:
        if app.decision != "approved" or app.decided_at is None or rng.random() > 0.88:
            return None
        funded = app.decided_at + timedelta(days=rng.randint(1, 10), hours=rng.uniform(-4, 4))
        if funded > self.end_moment:
            return None
        ltv = rng.uniform(0.5, 0.85)
        principal = round(min(400_000, max(50_000, app.vehicle_value * ltv)), -2)
        term = _pick(rng, [(12, 0.08), (24, 0.2), (36, 0.37), (48, 0.2), (60, 0.15)])
        rate = 12.0 - (app.credit_score - 300) / 600 * 6.5 + rng.gauss(0, 0.6)
        return _Loan(
            loan_id=f"LN{n:08d}",
            region=app.region,
            funded_at=funded,
            principal=principal,
            term=term,
            rate=round(min(12.0, max(5.0, rate)), 2),
            application=app,
        )

    def _simulate_snapshots(self, loans: list[_Loan]) -> None:
        """Walk every loan through the snapshot grid: amortise, fall behind, cure, close.

        A snapshot is taken when a loan is funded and then on every grid day (every `step` days
        back from the end). Grid day by grid day, each region's current and delinquent loans draw
        their fate from their own low-discrepancy sequence (in random order), so the count of
        loans falling behind or curing follows its expectation closely and the overdue rate of a
        small region is not drowned in sampling noise.
        """
        rng = self.rng("snapshots")
        grid: list[date] = []
        day = self.end
        while day > self.start:
            grid.append(day)
            day -= timedelta(days=self.step)
        grid.reverse()
        spike_from = self.end - timedelta(days=self.spike_days - 1)
        state: dict[str, tuple[int, date]] = {}  # loan id -> (dpd, day of the last snapshot)
        hazards: dict[str, float] = {}
        for loan in loans:
            funded = loan.funded_at.date()
            loan.snapshots.append((funded, loan.principal, 0, "active"))
            state[loan.loan_id] = (0, funded)
            score_risk = math.exp(-(loan.application.credit_score - 650) / 160)
            hazards[loan.loan_id] = 0.0024 * loan.region.risk * score_risk  # daily
        sequence: dict[tuple[str, bool], float] = {}
        open_loans = sorted(loans, key=lambda loan: loan.funded_at)
        for day in grid:
            batch = [
                loan
                for loan in open_loans
                if loan.closed_on is None and loan.funded_at.date() < day
            ]
            rng.shuffle(batch)
            for loan in batch:
                dpd, previous = state[loan.loan_id]
                key = (loan.region.code, dpd > 0)
                if key not in sequence:
                    sequence[key] = rng.random()
                u = sequence[key] = (sequence[key] + GOLDEN) % 1.0
                spiking = loan.region.code == self.spike_region and day >= spike_from
                # early payment default: young loans fall behind more often than seasoned ones
                age = (day - loan.funded_at.date()).days / 30.4
                hazard = hazards[loan.loan_id] * (0.6 + 1.4 * math.exp(-age / 3.0))
                dpd, status = self._step(rng, u, dpd, (day - previous).days, hazard, spiking)
                self._snapshot(loan, day, dpd, status)
                state[loan.loan_id] = (dpd, day)
            open_loans = [loan for loan in open_loans if loan.closed_on is None]

    @staticmethod
    def _step(
        rng: random.Random, u: float, dpd: int, gap: int, hazard: float, spiking: bool
    ) -> tuple[int, str]:
        """A loan's next days past due and status after `gap` days, decided by `u` in [0, 1)."""
        if dpd == 0:
            close = 1 - (1 - 0.0004) ** gap  # paid off early
            fall = 1 - (1 - hazard * (2.0 if spiking else 1.0)) ** gap
            if u < close:
                return 0, "closed"
            if u < close + fall:
                return rng.randint(1, gap), "active"
            return 0, "active"
        # a month-long gap cures 75 % of early arrears; fewer when deep in arrears or spiking
        cure = 1 - 0.25 ** (gap / 30)
        cure *= 0.5 if dpd > 60 else 0.8 if dpd > 30 else 1.0
        cure *= 0.75 if spiking else 1.0
        if u < cure:
            return 0, "active"
        dpd += gap
        if dpd >= 90 and rng.random() < 1 - 0.3 ** (gap / 30):
            return dpd, "charged_off"
        return dpd, "active"

    @staticmethod
    def _snapshot(loan: _Loan, day: date, dpd: int, status: str) -> None:
        months = (day - loan.funded_at.date()).days / 30.4375
        if months >= loan.term and dpd == 0:
            status = "closed"
        paid = max(0.0, months - dpd / 30.4375)
        balance = _annuity_balance(loan.principal, loan.rate / 1200, loan.term, int(paid))
        if status == "closed":
            balance, dpd = 0.0, 0
        loan.snapshots.append((day, round(balance, 2), dpd, status))
        if status != "active":
            loan.closed_on = day

    def _leads(self) -> list[list[str]]:
        return self.core()[0]

    def _applications(self) -> list[list[str]]:
        rng = self.rng("application_identifiers")
        rows = []
        for n, a in enumerate(self.core()[1]):
            rows.append(
                [
                    a.application_id,
                    a.lead_id,
                    a.region.code,
                    _ts(a.applied_at),
                    a.decision,
                    _ts(a.decided_at) if a.decided_at else "",
                    str(a.credit_score),
                    *self._identifiers(rng, n, a),
                ]
            )
        return rows

    def _identifiers(self, rng: random.Random, n: int, a: _Application) -> list[str]:
        """Who applied, from which phone and device, for which car, through which dealer, how
        much for what income: mostly one person each, and now and then a ring (one phone or
        device behind several applicants, one VIN under two names)."""
        ring = n // 400 if rng.random() < 0.03 else None
        person = f"3201{n:012d}{n % 10}X"[:18]
        phone = f"13{(n * 7919) % 10**9:09d}"
        device = f"dev-{n:08x}"
        vin = _vin_for(n)
        if ring is not None:
            phone = f"13{(ring * 104729) % 10**9:09d}"
            device = f"dev-ring-{ring:05d}"
            if rng.random() < 0.3:
                vin = _vin_for(10**7 + ring)
        income = round(rng.lognormvariate(math.log(12_000), 0.45), -2)
        value = a.vehicle_value or round(rng.uniform(60_000, 250_000), -2)
        requested = round(value * rng.uniform(0.4, 0.82), -2)
        return [
            person,
            phone,
            vin,
            f"DLR-{a.region.code}-{rng.randint(1, a.region.branches * 3):03d}",
            device,
            _money(income),
            _money(requested),
            _money(value),
        ]

    def _blacklist(self) -> list[list[str]]:
        """A few dozen entries risk control keeps: ring phones and devices, a dealer."""
        rng = self.rng("blacklist")
        rows: list[list[str]] = []
        added = datetime.combine(self.start, time(9))
        for ring in range(0, 33, 3):
            rows.append(
                [
                    f"BL{len(rows) + 1:05d}",
                    rng.choice(("phone", "device")),
                    "",
                    "linked to a fraud ring",
                    _ts(added + timedelta(days=rng.randint(0, 120))),
                    "",
                    "risk",
                ]
            )
            rows[-1][2] = (
                f"13{(ring * 104729) % 10**9:09d}"
                if rows[-1][1] == "phone"
                else f"dev-ring-{ring:05d}"
            )
        return rows

    def _loans(self) -> list[list[str]]:
        return [
            [
                loan.loan_id,
                loan.application.application_id,
                loan.region.code,
                _ts(loan.funded_at),
                _money(loan.principal),
                str(loan.term),
                f"{loan.rate:.2f}",
                loan.application.vehicle_id,
                _money(loan.application.vehicle_value),
            ]
            for loan in self.core()[2]
        ]

    def _loan_snapshots(self) -> list[list[str]]:
        rows: list[list[str]] = []
        for loan in self.core()[2]:
            for day, balance, dpd, status in loan.snapshots:
                rows.append([loan.loan_id, day.isoformat(), _money(balance), str(dpd), status])
        return rows

    # --- what hangs off the funnel --------------------------------------------------------

    def _valuations(self) -> list[list[str]]:
        rng = self.rng("valuations")
        rows: list[list[str]] = []
        for app in self.core()[1]:
            if rng.random() > 0.75 and app.decision != "approved":
                continue
            requested = app.applied_at + timedelta(hours=rng.uniform(0.1, 10))
            if requested > self.end_moment:
                continue
            cycle_days = min(6.0, max(0.6, rng.triangular(0.8, 4.2, 1.8)))
            completed: datetime | None = requested + timedelta(days=cycle_days)
            reference = app.vehicle_value
            model_value = reference * rng.lognormvariate(0.0, 0.065)
            has_reference = rng.random() > 0.03
            if completed is not None and completed > self.end_moment:
                completed = None
            rows.append(
                [
                    f"VL{len(rows) + 1:08d}",
                    app.region.code,
                    _ts(requested),
                    _ts(completed) if completed else "",
                    _money(round(model_value, -1)) if completed else "",
                    _money(reference) if completed and has_reference else "",
                    app.vehicle_id,
                ]
            )
        return rows

    def _marketing_spend(self) -> list[list[str]]:
        rng = self.rng("spend")
        rows: list[list[str]] = []
        for day in _days(self.start, self.end):
            for region in self.regions:
                leads = self.expected_leads(region, day)
                for channel, (share, _, cost_per_lead) in CHANNELS.items():
                    amount = leads * share * cost_per_lead * rng.lognormvariate(0.0, 0.18)
                    rows.append([day.isoformat(), region.code, channel, _money(amount)])
        return rows

    def _active_loans(self) -> dict[tuple[str, date], int]:
        """Active loans per region and day (from funding to close or charge-off)."""
        diff: dict[tuple[str, date], int] = {}
        for loan in self.core()[2]:
            code = loan.region.code
            first = loan.funded_at.date()
            diff[code, first] = diff.get((code, first), 0) + 1
            if loan.closed_on is not None:
                diff[code, loan.closed_on] = diff.get((code, loan.closed_on), 0) - 1
        active: dict[tuple[str, date], int] = {}
        for region in self.regions:
            running = 0
            for day in _days(self.start, self.end):
                running += diff.get((region.code, day), 0)
                active[region.code, day] = running
        return active

    def _complaints(self) -> list[list[str]]:
        rng = self.rng("complaints")
        active = self._active_loans()
        rows: list[list[str]] = []
        for day in _days(self.start, self.end):
            for region in self.regions:
                lam = active[region.code, day] * 3.5e-4 * (0.7 + 0.3 * region.risk)
                for _ in range(_poisson(rng, lam)):
                    rows.append(
                        [
                            f"CP{len(rows) + 1:07d}",
                            _ts(_day_time(rng, day)),
                            region.code,
                            _pick(rng, COMPLAINT_CATEGORIES),
                        ]
                    )
        return rows

    # --- technical samples ----------------------------------------------------------------

    def _samples(self) -> list[list[str]]:
        rng = self.rng("samples")
        rows: list[list[str]] = []

        def count(per_day: float) -> int:
            return max(1, round(per_day * self.sample_scale))

        def series(metric: str, day: date, n: int, region: str, source: str, value: Any) -> None:
            slot = 86400 / n
            base = datetime.combine(day, time())
            for i in range(n):
                offset = int(i * slot + rng.uniform(0, slot - 1))
                moment = base + timedelta(seconds=offset)
                rows.append([metric, _ts(moment), f"{value():.6g}", region, source])

        def bern(p: float) -> Any:
            return lambda: 1 if rng.random() < p else 0

        for day in _days(self.start, self.end):
            # a bad tech day now and then: slower APIs and a wobbly data sync
            slow = 1.35 if rng.random() < 0.04 else 1.0
            for region in self.regions:
                code = region.code

                def api(slow: float = slow) -> float:
                    return rng.lognormvariate(math.log(120 * slow), 0.557)

                series("api_response_time", day, count(16), code, "apm", api)
                series("availability", day, count(24), code, "probe", bern(0.998))
                series(
                    "credit_query_latency",
                    day,
                    count(8),
                    code,
                    "credit_bureau",
                    lambda: rng.lognormvariate(math.log(0.8), 0.45),
                )
                series("data_consistency", day, count(6), code, "dq_check", bern(0.995))
                series(
                    "data_sync_lag",
                    day,
                    count(4),
                    code,
                    "etl",
                    lambda slow=slow: rng.lognormvariate(math.log(40 * slow), 0.8),
                )
            series(
                "api_response_time",
                day,
                count(8),
                "",
                "gateway",
                lambda slow=slow: rng.lognormvariate(math.log(95 * slow), 0.5),
            )
            series(
                "data_sync_lag",
                day,
                count(24),
                "",
                "core_banking",
                lambda slow=slow: rng.lognormvariate(math.log(60 * slow), 0.7),
            )
            for _ in range(_poisson(rng, 0.55 * self.sample_scale * slow)):
                moment = _day_time(rng, day)
                region_code = rng.choice([*[r.code for r in self.regions], ""])
                hours = min(72.0, rng.lognormvariate(math.log(1.6), 0.75))
                rows.append(
                    ["incident_response_time", _ts(moment), f"{hours:.3f}", region_code, "itsm"]
                )
        return rows

    # --- used-vehicle sales ---------------------------------------------------------------

    def _vehicle_sales(self) -> list[list[str]]:
        rng = self.rng("vehicle_sales")
        total_weight = sum(r.leads_per_day for r in self.regions) or 1.0
        model_weights = [(m, 1.0 / (1 + m[2] / 250_000)) for m in VEHICLE_MODELS]
        rows: list[list[str]] = []
        for day in _days(self.start, self.end):
            for region in self.regions:
                lam = 12 * self.sales_scale * region.leads_per_day / total_weight
                for _ in range(_poisson(rng, lam)):
                    rows.append(self._sale(rng, len(rows) + 1, day, region, model_weights))
        return rows

    def _sale(
        self,
        rng: random.Random,
        n: int,
        day: date,
        region: Region,
        model_weights: list[tuple[Any, float]],
    ) -> list[str]:
        make, model, base_price, fuels, make_effect = _pick(rng, model_weights)
        fuel = fuels[0] if len(fuels) == 1 or rng.random() < 0.7 else rng.choice(fuels[1:])
        if fuel == "ev" and make in {"Tesla"}:
            make_effect *= 1.05  # the EV discount weighs less on Tesla
        age_whole = min(12, max(0, round(rng.triangular(0, 10, 3))))
        year = day.year - age_whole
        sold = _day_time(rng, day)
        age = max(0.1, day.year + (day.timetuple().tm_yday - 1) / 365.25 - (year + 0.4))
        new_price = round(base_price * rng.uniform(0.9, 1.15), -2)
        mileage = max(300, round(age * rng.gauss(17_000, 5_500)))
        expected_km = 17_000 * age
        accidents = _poisson(rng, 0.12 * math.sqrt(age))
        repairs = _poisson(rng, 0.25 + 0.18 * age)
        violations = min(60, _poisson(rng, 0.9 * age))
        owners = 1 + _poisson(rng, 0.16 * age)
        wear = age / 3 + (mileage - expected_km) / 40_000 + accidents * 0.8 + rng.gauss(0, 0.8)
        grade = "ABCDE"[min(4, max(0, int(wear)))]
        value = new_price * depreciation(age)
        value *= make_effect * FUEL_EFFECT[fuel] * GRADE_EFFECT[grade]
        value *= math.exp(-0.012 * (mileage - expected_km) / 10_000)
        value *= 0.93**accidents * 0.985**repairs * 0.996**violations * 0.97 ** (owners - 1)
        value *= region.price_factor * MONTH_EFFECT[day.month]
        value *= rng.lognormvariate(0.0, 0.055)
        return [
            f"VS{n:08d}",
            _ts(sold),
            region.code,
            make,
            model,
            str(year),
            _money(new_price),
            str(mileage),
            grade,
            str(accidents),
            str(repairs),
            str(violations),
            str(owners),
            fuel,
            _money(round(value, -2)),
        ]

    # --- sales calls (checked by the compliance library on import) --------------------------

    def _calls(self) -> list[list[str]]:
        """Outbound sales calls of the last 30 days: a few agents per region, each call a few
        turns taken from the labelled tuning utterances the checker ships with (never from
        its held-apart sets), some agents sloppier than others."""
        rng = self.rng("calls")
        agent_turns, customer_turns = _call_turns()
        if not agent_turns:
            return []
        rows: list[list[str]] = []
        first = max(self.start, self.end - timedelta(days=29))
        for day in _days(first, self.end):
            for region in self.regions:
                for _ in range(
                    _poisson(rng, 3.0 * min(self.scale, 2.0) * region.leads_per_day / 40)
                ):
                    agent = rng.randrange(4)
                    sloppy = 0.25 if agent == 0 else 0.04
                    turns: list[str] = []
                    for _turn in range(rng.randint(2, 4)):
                        pool = agent_turns["bad" if rng.random() < sloppy else "good"]
                        turns.append("坐席：" + rng.choice(pool))
                        turns.append("客户：" + rng.choice(customer_turns))
                    rows.append(
                        [
                            f"CALL{len(rows) + 1:07d}",
                            _ts(_day_time(rng, day)),
                            region.code,
                            f"{region.code.lower()}-agent-{agent + 1}",
                            "\n".join(turns),
                            "",
                            "",
                            "outbound",
                        ]
                    )
        return rows


_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def _vin_for(n: int) -> str:
    """A well-formed VIN (17 characters, no I, O or Q), one per number."""
    chars = []
    n = (n * 2_654_435_761 + 97) % len(_VIN_CHARS) ** 11  # spread, so VINs differ in every place
    for _ in range(11):
        n, digit = divmod(n, len(_VIN_CHARS))
        chars.append(_VIN_CHARS[digit])
    return "LSV" + "A" * 3 + "".join(reversed(chars))


def _call_turns() -> tuple[dict[str, list[str]], list[str]]:
    """Agent lines (compliant and not) from the checker's tuning set, and customer replies."""
    path = Path(__file__).resolve().parents[1] / "compliance" / "data" / "tuning.jsonl"
    good: list[str] = []
    bad: list[str] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                (bad if item["categories"] else good).append(item["text"].replace("\n", " "))
    customers = [
        *("好的，我考虑一下。", "利息怎么算？", "需要什么材料？", "嗯，明白了。"),
        *("OK, thanks.", "What's the APR?", "首付最少多少？", "多久能放款？"),
    ]
    return {"good": good, "bad": bad}, customers

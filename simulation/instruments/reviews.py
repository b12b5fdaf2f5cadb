"""Reviews from promoters: social proof that raises the conversion of prospects.

Each month the program asks a share of its active members who are promoters (very
satisfied or loyal) for a review; some write one, for a small thank-you. Published reviews
accumulate (older ones count less as they age) and raise the chance that a prospect who
hears a recommendation becomes a customer, with diminishing returns in their number: the
volume of reviews raises sales (Chevalier & Mayzlin 2006; Liu 2006). Asking promoters only
keeps the reviews good: the brief's "collecting reviews from promoters".
"""

from __future__ import annotations

import math

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, pct

PROMOTER_LEVELS = 4  # very satisfied and loyal answer 9-10 (section 3.4)


class Reviews(Instrument):
    ask_share: float = F(0.3, label="Promoters asked", unit="share per month", help="Share of the active members who are promoters asked for a review each month.", ge=0, le=1)
    review_rate: float = F(0.1, label="Reviews written", unit="share of those asked", help="Share of the promoters asked who write a review.", ge=0, le=1)
    reward_per_review: float = F(2.0, label="Thank-you per review", unit="currency", help="A small reward for a review (points, a voucher).", ge=0)
    conversion_lift: float = F(0.1, label="Conversion lift", unit="share", help="Most extra chance that a prospect who hears a recommendation becomes a customer, with many reviews published.", ge=0, le=2)
    reviews_scale: float = F(500.0, label="Reviews for most of the lift", unit="reviews", help="Published reviews at which the lift reaches 63 % of its most (diminishing returns: 1 - exp(-reviews / scale)).", gt=0)
    review_life_months: float = F(24.0, label="Review life", unit="months", help="Mean time a review keeps counting (each month 1/life of the stock ages out).", gt=0, le=240)


class ReviewsModule(InstrumentModule):
    key = "reviews"
    schema = Reviews
    label = "Reviews from promoters"
    help = "Asking promoters for reviews: social proof that raises prospects' conversion."
    order = 110
    cost_lines = {"cost_reviews": "Cost: review thank-yous"}
    metrics = {
        "reviews_written": MetricSpec("Reviews written", "count", 1),
        "reviews_published": MetricSpec("Reviews counting", "count", 1),
    }
    summary_order = ("reviews_written",)
    totals = ("reviews_written",)
    levers = (
        Lever("enabled", "=false", "reviews_written down 99-100 %, cost_reviews down 99-100 %", "instrument off"),
        Lever("ask_share", "x2", "reviews_written up 80-120 %, acquisitions up 0.1-5 %", "twice the reviews: more conversion (Chevalier & Mayzlin 2006)"),
        Lever("review_rate", "x2", "reviews_written up 80-120 %", "twice the reviews"),
        Lever("reward_per_review", "x2", "cost_reviews up 99-101 %, purchases same", "money only"),
        Lever("conversion_lift", "x3", "acquisitions up 0.3-10 %", "social proof converts more prospects"),
        Lever("reviews_scale", "x4", "acquisitions down 0.1-5 %", "more reviews needed for the same lift"),
        Lever("review_life_months", "=3", "acquisitions down 0.1-5 %", "reviews age out sooner"),
    )  # fmt: skip
    judgements = {
        "conversion_lift": Judgement(0.3, 2.0, source="judgement after Chevalier & Mayzlin (2006): 0.03-0.2 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Reviews, currency: str) -> str:  # pragma: no mutate block (presentation)
        return (
            f"Reviews: {pct(p.ask_share)} of the promoters among the members are asked each month, {pct(p.review_rate)}"
            f" of them write one ({money(p.reward_per_review, currency)} as thanks); published reviews raise the"
            f" conversion of recommended prospects by up to {pct(p.conversion_lift)}."
        )

    def init(self) -> None:
        self.published = 0.0

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        members = sim.member_slots
        promoters = members[sim.pview("level")[members] >= PROMOTER_LEVELS]
        u = sim.uniform_at("review_asked", promoters)
        written = promoters[u < p.ask_share * p.review_rate]  # asked and wrote (one draw: the product)
        m.charge_at("cost_reviews", written, p.reward_per_review)
        m.record("reviews_written", float(written.size))
        self.published += written.size - self.published / p.review_life_months
        m.record("reviews_published", self.published)
        m.rel_conversion *= 1.0 + p.conversion_lift * (1.0 - math.exp(-self.published / p.reviews_scale))

"""Members-only access and events: previews, tastings, evenings that only members are invited to.

`events_per_year` events are spread evenly over the year; to each, a share of the active
members come (`attendance_share`). An event costs a fixed amount (venue, staff) and an amount
per attendee (food, a gift). Attending is an emotional and social benefit more than a
monetary one (Mimouni-Chaabane & Volle 2010: hedonic, recognition and social benefits of
loyalty programs build satisfaction and loyalty; Bridson, Evans & Hickman 2008: the hedonic
attributes of a program add to store satisfaction and loyalty): attendees get an added chance
of moving up a level (a contact). Its worth to a customer, for
joining (section 8), is the expected attendance a month valued at what it costs per attendee.
"""

from __future__ import annotations

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, num, pct


class MemberEvents(Instrument):
    events_per_year: int = F(4, label="Events a year", unit="events/year", help="Members-only events a year, spread evenly over it.", ge=0, le=12)
    attendance_share: float = F(0.05, label="Attendance", unit="share of active members", help="Share of the active members who come to an event.", ge=0, le=1)
    cost_per_attendee: float = F(15.0, label="Cost per attendee", unit="currency", help="What each attendee costs: food, drinks, a small gift.", ge=0)
    cost_per_event: float = F(1000.0, label="Cost per event", unit="currency", help="What an event costs whoever comes: venue, staff, invitations.", ge=0)
    attendee_delight: float = F(0.2, label="Attendee delight", unit="probability", help="Added chance of moving up a level for a member who attends.", ge=0, le=1)


class MemberEventsModule(InstrumentModule):
    key = "member_events"
    schema = MemberEvents
    label = "Members-only access and events"
    help = "Events and early access that only members are invited to."
    order = 160
    cost_lines = {"cost_events": "Cost: members-only events"}
    metrics = {
        "events_held": MetricSpec("Members-only events", "count", 0),
        "event_attendees": MetricSpec("Event attendees", "count", 1),
    }
    summary_order = ("event_attendees",)
    totals = ("events_held", "event_attendees")
    levers = (
        Lever("enabled", "=false", "cost_events down 99-100 %, event_attendees down 99-100 %", "instrument off"),
        Lever("events_per_year", "x3", "event_attendees up 150-350 %, cost_events up 150-350 %, nps_end up 1-20 %", "three times the events"),
        Lever("attendance_share", "x2", "event_attendees up 80-120 %, nps_end up 0.5-15 %", "twice the attendees"),
        Lever("cost_per_attendee", "x2", "cost_events up 25-65 %, members_end up 0.2-5 %", "a richer event: more cost, and worth more to join for (section 8)"),
        Lever("cost_per_event", "x2", "cost_events up 30-90 %, purchases same", "money only"),
        Lever("attendee_delight", "x3", "nps_end up 0.5-15 %", "Mimouni-Chaabane & Volle (2010): hedonic and social benefits"),
    )  # fmt: skip
    judgements = {
        "attendee_delight": Judgement(0.5, 1.5, source="judgement after Mimouni-Chaabane & Volle (2010), Bridson et al. (2008): 0.1-0.3 at the default"),
        "attendance_share": Judgement(0.5, 1.5, source="judgement: 0.025-0.075 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: MemberEvents, currency: str) -> str:  # pragma: no mutate block (presentation)
        return (
            f"Members-only events: {num(p.events_per_year)} a year, {pct(p.attendance_share)} of the active members"
            f" attend; {money(p.cost_per_event, currency)} an event and {money(p.cost_per_attendee, currency)} an attendee."
        )

    def _held(self) -> bool:
        """Whether this month has an event: events_per_year spread evenly over the year."""
        e, t = self.p.events_per_year, self.sim.month
        return (t + 1) * e // 12 > t * e // 12

    def value_share(self, m: Month) -> None:
        p = self.p
        back = p.events_per_year / 12 * p.attendance_share * p.cost_per_attendee
        if back:
            m.add_worth(back)

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        if not self._held():
            return
        members = sim.member_slots
        invited = sim.uniform_at("event_attendance", members)
        attendees = members[invited < p.attendance_share]
        m.charge_at("cost_events", attendees, p.cost_per_attendee)
        m.record("cost_events", p.cost_per_event)
        m.nudge_at(attendees, up=p.attendee_delight)
        m.record("events_held", 1.0)
        m.record("event_attendees", float(attendees.size))

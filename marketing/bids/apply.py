"""Sending approved bids (and undos) to Amazon: read back, stale-check, write in batches, record each outcome.

Work goes in batches of 1,000 targets (Amazon's most per PUT): read back, one PUT, commit, and the job's meta
says how many have had their answer (the review page shows it). Safe to run twice: only `approved` and `undoing`
suggestions are picked up and each batch is committed as soon as Amazon has answered, so a re-run never
re-sends an applied bid, and a token revoked half-way leaves the batches Amazon accepted `applied` with their
audit rows. Before writing, the live bid is read back from Amazon; if it is not what the suggestion was based
on (someone changed it in the console meanwhile), the suggestion becomes `stale` and nothing is sent for it. A
keyword that inherited its ad group's default bid is compared against that default and gets an explicit bid of
its own; its undo sends a null bid, so it inherits the default again.

One write per target per batch: if a target has several open changes (a re-approved failed suggestion beside
a newer one, an approval racing a new run, an undo requested beside a newer approval), only one is sent — a
requested undo, else the newest suggestion — and the others become `stale` (the bid they were based on is
being changed), since sending both in one PUT would write the target twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from rq import get_current_job
from sqlalchemy import select

from marketing import audit
from marketing.amazon.ads import MAX_UPDATE_BATCH, AdsClient, BidResult
from marketing.amazon.errors import AmazonError, AmazonUnavailable, InvalidClient, InvalidGrant, Throttled
from marketing.bids import history, rules
from marketing.bids.queue import enqueue_once
from marketing.clock import now, today
from marketing.connections import alerts, clients
from marketing.extensions import db
from marketing.models import Seller, SpTarget, Suggestion, User
from marketing.models.suggestions import Kind
from marketing.suggestions.lifecycle import APPLIED, FAILED, IN_FLIGHT, STALE, UNDOING, UNDONE, move

log = logging.getLogger("marketing.bids")

API_KIND = {"keyword": "keywords", "target": "targets"}
_ID_FIELD = {"keyword": "keywordId", "target": "targetId"}
TOLERANCE = Decimal("0.005")


@dataclass
class Outcome:
    applied: int = 0
    undone: int = 0
    failed: int = 0
    stale: int = 0
    paused: str | None = None
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.paused:
            return f"{self.paused} ({self.waiting} waiting)"
        text = f"{self.applied} applied, {self.failed} failed, {self.stale} stale"
        return text + (f", {self.undone} undone" if self.undone else "")


def job_id(seller_id: int) -> str:
    return f"bids-apply-{seller_id}"


def enqueue(seller_id: int):
    """One apply job per seller at a time; a second request while one waits is the same job."""
    return enqueue_once(apply_job, seller_id, job_id=job_id(seller_id))


def apply_job(seller_id: int) -> dict:
    """RQ entry point (queue `default`); returns the counts, the summary line and the errors."""
    outcome = apply_approved(seller_id)
    log.info("bids for seller %s: %s", seller_id, outcome.summary)
    return {**asdict(outcome), "summary": outcome.summary}


def apply_approved(seller_id: int) -> Outcome:
    work = list(db.session.scalars(
        select(Suggestion).where(Suggestion.seller_id == seller_id, Suggestion.kind == Kind.BID,
                                 Suggestion.status.in_(IN_FLIGHT)).order_by(Suggestion.id)
    ))
    outcome = Outcome()
    if not work:
        return outcome
    paused = rules.writes_paused(seller_id)
    if paused:
        outcome.paused, outcome.waiting = paused, len(work)
        return outcome
    connection = db.session.get(Seller, seller_id).connection("ads")
    if connection is None or not connection.connected:
        for suggestion in work:
            _fail(suggestion, outcome, "NOT_CONNECTED",
                  "Amazon Ads is not connected for this seller; connect it, then approve again.")
        db.session.commit()
        return outcome
    groups: dict[tuple[int, str], list[Suggestion]] = defaultdict(list)
    for suggestion in work:
        groups[(suggestion.profile_id, suggestion.entity_kind)].append(suggestion)
    gone = {p.profile_id for p in connection.profiles if not p.accessible}
    progress = _Progress(len(work))
    with clients.http_client() as http:
        ads = clients.ads_client(connection, http)
        for (profile_id, kind), items in groups.items():
            if profile_id in gone:
                for suggestion in items:
                    _fail(suggestion, outcome, "NOT_ACCESSIBLE", f"Amazon no longer lists profile {profile_id} "
                          "for this seller's authorization (no longer accessible); nothing was sent.")
                db.session.commit()
                progress.advance(len(items))
                continue
            for batch in _batches(items):
                try:
                    _apply_group(ads, profile_id, kind, batch, outcome)
                except InvalidGrant as exc:  # the observer has marked the connection revoked
                    message = ("Amazon no longer accepts this seller's Ads authorization (revoked or expired); "
                               f"nothing more was sent. Reconnect it, then approve again. Amazon said: {exc.message}")
                    for suggestion in _still_open(work):
                        _fail(suggestion, outcome, exc.code or "invalid_grant", message)
                    db.session.commit()
                    return outcome
                except InvalidClient as exc:
                    for suggestion in _still_open(work):
                        _fail(suggestion, outcome, exc.code or "invalid_client", alerts.invalid_client("ads"))
                    db.session.commit()
                    return outcome
                except AmazonError as exc:  # throttled, down or refused before any per-item answer
                    retry = " Try again later." if isinstance(exc, Throttled | AmazonUnavailable) else ""
                    for suggestion in _still_open(batch):
                        _fail(suggestion, outcome, exc.code or type(exc).__name__,
                              f"Amazon: {exc.message}.{retry}")
                db.session.commit()
                progress.advance(len(batch))
    return outcome


class _Progress:
    """How many of the job's changes have had their answer, in the RQ job's meta (`done`, `total`) for the
    review page; nothing outside a job."""

    def __init__(self, total: int):
        self.job, self.done, self.total = get_current_job(), 0, total
        self.advance(0)

    def advance(self, count: int) -> None:
        self.done += count
        if self.job is not None:
            self.job.meta.update(done=self.done, total=self.total)
            self.job.save_meta()


def _batches(items: list[Suggestion]) -> list[list[Suggestion]]:
    """Items in batches of at most `MAX_UPDATE_BATCH` targets (one PUT each, committed one by one), keeping all
    changes of one target in the same batch so `_one_per_target` sees them together."""
    by_target: dict[int, list[Suggestion]] = defaultdict(list)
    for suggestion in items:
        by_target[suggestion.entity_id].append(suggestion)
    batches: list[list[Suggestion]] = [[]]
    targets = 0
    for changes in by_target.values():
        if targets == MAX_UPDATE_BATCH:
            batches.append([])
            targets = 0
        batches[-1].extend(changes)
        targets += 1
    return batches


def _still_open(work: list[Suggestion]) -> list[Suggestion]:
    return [s for s in work if s.status in IN_FLIGHT]


def _apply_group(ads: AdsClient, profile_id: int, kind: str, items: list[Suggestion], outcome: Outcome) -> None:
    live = live_bids(ads, profile_id, kind, [s.entity_id for s in items])
    chosen = _one_per_target(items)
    to_send: list[Suggestion] = []
    for suggestion in items:
        undo = suggestion.status == UNDOING
        expected = suggestion.value_to_apply if undo else suggestion.current_value
        state, bid, inherited = live.get(suggestion.entity_id, (None, None, False))
        winner = chosen[suggestion.entity_id]
        if winner is not suggestion:
            instead = f"the undo of #{winner.id}" if winner.status == UNDOING else f"the newer #{winner.id}"
            _stale(suggestion, outcome, f"Replaced by {instead} for this {kind}; nothing was sent for this one.",
                   bid)
        elif state is None or state == "ARCHIVED":
            why = "no longer exists on Amazon" if state is None else "is archived on Amazon"
            _stale(suggestion, outcome, f"The {suggestion.entity_kind} {why}; nothing was sent.", bid)
        elif bid is None or abs(bid - expected) > TOLERANCE:
            _stale(suggestion, outcome, f"The bid on Amazon is now {bid}, not {expected} as when this was "
                                        f"{'applied' if undo else 'suggested'} (changed in the console?); "
                                        "nothing was sent.", bid)
        else:
            if not undo:
                suggestion.previous_value = bid
                # An undo must give the ad group's default back, not a bid of the same amount of its own.
                suggestion.payload = {**(suggestion.payload or {}), "previous_inherited": inherited}
            to_send.append(suggestion)
    if not to_send:
        return
    values = [(s.previous_value if s.status == UNDOING else s.value_to_apply) for s in to_send]
    inherit = [s.status == UNDOING and bool((s.payload or {}).get("previous_inherited")) for s in to_send]
    results = ads.update_bids(profile_id, API_KIND[kind], [
        (s.entity_id, None if back else float(v)) for s, v, back in zip(to_send, values, inherit, strict=True)])
    targets = {t.target_id: t for t in db.session.scalars(select(SpTarget).where(
        SpTarget.profile_id == profile_id, SpTarget.target_id.in_([s.entity_id for s in to_send])))}
    for suggestion, value, back, result in zip(to_send, values, inherit, results, strict=True):
        _record(suggestion, value, result, outcome, targets.get(suggestion.entity_id), inherit=back)


def _one_per_target(items: list[Suggestion]) -> dict[int, Suggestion]:
    """The change to send per target: a requested undo (a person asked for the old bid back), else the newest
    suggestion (the latest evidence)."""
    chosen: dict[int, Suggestion] = {}
    for suggestion in items:
        best = chosen.get(suggestion.entity_id)
        if best is None or (suggestion.status == UNDOING, suggestion.id) > (best.status == UNDOING, best.id):
            chosen[suggestion.entity_id] = suggestion
    return chosen


def live_bids(ads: AdsClient, profile_id: int, kind: str,
              ids: list[int]) -> dict[int, tuple[str, Decimal | None, bool]]:
    """(state, effective bid, inherited) per id as Amazon has them now; an inherited bid is the ad group's
    default."""
    entities = list(ads.iter_entities(profile_id, API_KIND[kind], id_filter=[str(i) for i in ids]))
    inherit = {str(e["adGroupId"]) for e in entities if e.get("bid") is None and e.get("adGroupId")}
    defaults = {}
    if inherit:
        defaults = {str(g["adGroupId"]): g.get("defaultBid")
                    for g in ads.iter_entities(profile_id, "adGroups", id_filter=sorted(inherit))}
    live = {}
    for entity in entities:
        bid = entity.get("bid")
        if bid is None:
            bid = defaults.get(str(entity.get("adGroupId")))
        live[int(entity[_ID_FIELD[kind]])] = (entity.get("state"), None if bid is None else Decimal(str(bid)),
                                              entity.get("bid") is None)
    return live


def _record(suggestion: Suggestion, value: Decimal, result: BidResult, outcome: Outcome,
            target: SpTarget | None, *, inherit: bool = False) -> None:
    """`inherit`: an undo that gave the target its ad group's default back (`value` is that default)."""
    undo = suggestion.status == UNDOING
    suggestion.amazon_response = {"ok": result.ok, "code": result.error_code, "message": result.error_message,
                                  "retryable": result.retryable}
    if not result.ok:
        message = result.error_message or "Amazon rejected the change"
        if result.retryable:
            message += " (Amazon was busy or unavailable; try again later)"
        if undo:
            move(suggestion, APPLIED)
            suggestion.error_code, suggestion.error_message = result.error_code, f"Undo failed: {message}"
            outcome.failed += 1
        else:
            _fail(suggestion, outcome, result.error_code or "UNKNOWN", message)
        return
    if target is not None:
        target.bid = None if inherit else value
    history.record_applied(db.session, seller_id=suggestion.seller_id, profile_id=suggestion.profile_id,
                           target_id=suggestion.entity_id, bid=value)
    old = suggestion.value_to_apply if undo else suggestion.previous_value
    suggestion.changed_on = today()
    if undo:
        move(suggestion, UNDONE)
        suggestion.undone_at = now()
        outcome.undone += 1
    else:
        move(suggestion, APPLIED)
        suggestion.applied_at = now()
        suggestion.error_code = suggestion.error_message = None
        outcome.applied += 1
    actor = _undoer(suggestion.undo_requested_by) if undo else (
        db.session.get(User, suggestion.decided_by_id) if suggestion.decided_by_id else None)
    audit.record(
        "bid.undone" if undo else "bid.applied", actor=actor, target_type="target", target_id=suggestion.entity_id,
        seller_id=suggestion.seller_id, suggestion_id=suggestion.id, profile_id=str(suggestion.profile_id),
        campaign_id=str(suggestion.campaign_id), ad_group_id=str(suggestion.ad_group_id),
        entity_kind=suggestion.entity_kind, old=f"{old:.2f}", new=f"{value:.2f}",
        approved_by=suggestion.decided_by, approved_at=suggestion.decided_at.isoformat(),
        undone_by=suggestion.undo_requested_by if undo else None, amazon=suggestion.amazon_response,
    )


def _undoer(email: str | None) -> User | None:
    """The person who asked for the undo: the undo is recorded as theirs, not as the approver's."""
    return db.session.scalar(select(User).where(User.email == email)) if email else None


def _fail(suggestion: Suggestion, outcome: Outcome, code: str, message: str) -> None:
    if suggestion.status == UNDOING:
        move(suggestion, APPLIED)
        message = f"Undo failed: {message}"
    else:
        move(suggestion, FAILED)
    suggestion.error_code, suggestion.error_message = code[:64], message
    outcome.failed += 1
    outcome.errors.append(message)
    audit.record("suggestion.failed", target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, entity_id=str(suggestion.entity_id), code=code, message=message)


def _stale(suggestion: Suggestion, outcome: Outcome, message: str, live: Decimal | None) -> None:
    if suggestion.status == UNDOING:
        move(suggestion, APPLIED)
        suggestion.error_code, suggestion.error_message = "STALE", f"Not undone: {message}"
    else:
        move(suggestion, STALE)
        suggestion.error_code, suggestion.error_message = "STALE", message
    suggestion.amazon_response = {"live_bid": None if live is None else str(live)}
    outcome.stale += 1
    audit.record("suggestion.stale", target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, entity_id=str(suggestion.entity_id), message=message)

"""The alert rules: every kind, never my own doing, once per interval, no catch-up storm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox_tui.core.alerts import MAX_NAMED_ALERTS, AlertKind, AlertRules, Happening
from inbox_tui.core.events import EventKind
from inbox_tui.tui import terminal_signals

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ME, BEN = 1, 2


def rules(**kwargs) -> AlertRules:  # type: ignore[no-untyped-def]
    return AlertRules(ME, "ana", interval=timedelta(seconds=60), **kwargs)


def kinds(alerts) -> list[AlertKind]:  # type: ignore[no-untyped-def]
    return [a.kind for a in alerts]


def test_a_ticket_landing_on_me_alerts_once_even_with_both_of_its_events() -> None:
    r = rules()
    events = [
        Happening(EventKind.TICKET_CREATED, 7, ME, NOW),
        Happening(EventKind.ASSIGNED, 7, ME, NOW),
    ]
    alerts = r.consider(events, NOW)
    assert kinds(alerts) == [AlertKind.ON_ME]
    assert alerts[0].text("Rosa") == "New ticket #7 on you: Rosa"


def test_my_own_takeover_claim_or_reassign_never_alerts_me() -> None:
    r = rules()
    # A takeover: the escalated event names me as the actor.
    takeover = [
        Happening(EventKind.ESCALATED, 7, ME, NOW),
        Happening(EventKind.TICKET_CREATED, 7, ME, NOW),
        Happening(EventKind.ASSIGNED, 7, ME, NOW),
    ]
    assert r.consider(takeover, NOW) == []
    # A claim or a reassign by me says so in the event.
    assert r.consider([Happening(EventKind.ASSIGNED, 8, ME, NOW, by="ana")], NOW) == []
    assert r.consider([Happening(EventKind.ASSIGNED, 9, None, NOW, by="ana")], NOW) == []  # I put it back
    # The inbox's own doing, told directly.
    r.my_own_doing(10)
    assert r.consider([Happening(EventKind.ASSIGNED, 10, ME, NOW)], NOW) == []
    # Mentioning myself, or my own reply, is no news either.
    assert r.consider([Happening(EventKind.MENTION, 7, ME, NOW, by="ana")], NOW) == []
    assert r.consider([Happening(EventKind.MESSAGE, 7, None, NOW, author="agent")], NOW) == []


def test_a_customer_writing_on_my_ticket_alerts_and_on_someone_elses_does_not() -> None:
    r = rules(my_tickets={7})
    assert kinds(r.consider([Happening(EventKind.MESSAGE, 7, None, NOW, author="customer")], NOW)) == [
        AlertKind.CUSTOMER_WROTE
    ]
    assert r.consider([Happening(EventKind.MESSAGE, 8, None, NOW, author="customer")], NOW) == []
    # Reassigned to Ben: no longer mine, so his customer does not ring my bell.
    later = NOW + timedelta(minutes=5)
    r.consider([Happening(EventKind.ASSIGNED, 7, BEN, later, by="ben")], later)
    assert r.consider([Happening(EventKind.MESSAGE, 7, None, later, author="customer")], later) == []


def test_a_mention_alerts_with_who() -> None:
    alerts = rules().consider([Happening(EventKind.MENTION, 7, ME, NOW, by="ben")], NOW)
    assert kinds(alerts) == [AlertKind.MENTION] and alerts[0].text() == "@ben mentioned you on ticket #7"


def test_unassigned_alerts_only_an_available_teammate_on_shift() -> None:
    r = rules()
    entering = [Happening(EventKind.TICKET_CREATED, 7, None, NOW), Happening(EventKind.ASSIGNED, 7, None, NOW)]
    assert kinds(r.consider(entering, NOW)) == [AlertKind.UNASSIGNED]
    away = rules()
    away.available_on_shift = False
    assert away.consider(entering, NOW) == []


def test_one_ticket_alerts_at_most_once_per_interval() -> None:
    r = rules(my_tickets={7})
    wrote = Happening(EventKind.MESSAGE, 7, None, NOW, author="customer")
    assert len(r.consider([wrote], NOW)) == 1
    soon = NOW + timedelta(seconds=30)
    assert r.consider([Happening(EventKind.MESSAGE, 7, None, soon, author="customer")], soon) == []
    later = NOW + timedelta(seconds=61)
    assert len(r.consider([Happening(EventKind.MESSAGE, 7, None, later, author="customer")], later)) == 1


def test_a_catch_up_after_a_reconnect_updates_the_state_but_alerts_nobody() -> None:
    r = rules()
    old = NOW - timedelta(minutes=10)
    assert r.consider([Happening(EventKind.ASSIGNED, 7, ME, old)], NOW) == []
    assert 7 in r.my_tickets  # but the ticket is known to be mine now
    assert kinds(r.consider([Happening(EventKind.MESSAGE, 7, None, NOW, author="customer")], NOW)) == [
        AlertKind.CUSTOMER_WROTE
    ]


def test_a_burst_names_a_few_tickets_and_counts_the_rest() -> None:
    burst = [Happening(EventKind.ASSIGNED, n, None, NOW) for n in range(1, 11)]
    alerts = rules().consider(burst, NOW)
    assert len(alerts) == MAX_NAMED_ALERTS + 1
    assert alerts[-1].kind is AlertKind.MORE and alerts[-1].count == 10 - MAX_NAMED_ALERTS


def test_a_wait_alerts_once_per_interval() -> None:
    r = rules(my_tickets={7})
    alert = r.waited(7, timedelta(minutes=6), NOW)
    assert alert is not None and alert.text("Rosa") == "The customer on ticket #7 has waited 6 min: Rosa"
    assert r.waited(7, timedelta(minutes=6, seconds=15), NOW + timedelta(seconds=15)) is None


@pytest.mark.parametrize("tmux", [False, True])
def test_desktop_notifications_are_osc_9_and_777_with_no_control_characters(tmux: bool) -> None:
    sequence = terminal_signals.desktop_notification("inbox-tui", "New ticket: Ro\x1b]52;c;x\x07sa; [b]x", tmux=tmux)
    if tmux:
        assert sequence.startswith("\x1bPtmux;\x1b\x1b]9;") and sequence.endswith("\x1b\\")
        inner = sequence.replace("\x1bPtmux;", "").replace("\x1b\\", "").replace("\x1b\x1b", "\x1b")
    else:
        inner = sequence
    assert inner.startswith("\x1b]9;inbox-tui: New ticket: Ro ]52;c;x sa; [b]x\a")
    assert "\x1b]777;notify;inbox-tui;New ticket: Ro ]52,c,x sa, [b]x\a" in inner
    # Exactly the escape sequences we meant: the customer's ESC and BEL are gone.
    assert inner.count("\x1b") == 2 and inner.count("\a") == 2


def test_the_window_title_is_osc_2_with_the_unread_count() -> None:
    assert terminal_signals.window_title(terminal_signals.title_with_unread(3)) == "\x1b]2;(3) inbox-tui\a"
    assert terminal_signals.title_with_unread(0) == "inbox-tui"


def test_a_mention_right_after_the_ticket_arrived_still_alerts() -> None:
    r = rules()
    assert kinds(r.consider([Happening(EventKind.ASSIGNED, 7, ME, NOW)], NOW)) == [AlertKind.ON_ME]
    assert kinds(r.consider([Happening(EventKind.MENTION, 7, ME, NOW, by="ben")], NOW)) == [AlertKind.MENTION]


def test_a_snooze_that_ends_alerts_its_holder_only() -> None:
    woke = Happening(EventKind.TICKET_UPDATED, 7, ME, NOW, snooze_ended=True)
    alerts = rules(my_tickets={7}).consider([woke], NOW)
    assert kinds(alerts) == [AlertKind.SNOOZE_ENDED]
    assert alerts[0].text("Rosa") == "Snooze ended: ticket #7 is back on you: Rosa"
    assert rules().consider([Happening(EventKind.TICKET_UPDATED, 7, BEN, NOW, snooze_ended=True)], NOW) == []
    # Any other update of my ticket (a status I set, a reassignment's echo) is no news.
    assert rules(my_tickets={7}).consider([Happening(EventKind.TICKET_UPDATED, 7, ME, NOW)], NOW) == []

"""Which destinations an alert goes to: a destination's route is a conjunction of conditions, each an
"any of" list, and an empty list does not restrict (so the default route takes every alert)."""

from __future__ import annotations

from schemas.alert import AlertDoc
from schemas.notify import Route, severity_at_least


def countries(alert: AlertDoc) -> set[str]:
    """ISO3 codes of the countries involved: a country actor's own, and a person's country, so a route
    for North Korea also hears about Kim Jong Un when the article never names the country."""
    found = set()
    for actor in alert.watchfloor.actors:
        if actor.type == "country":
            found.add(actor.id)
        elif actor.type == "person" and actor.country:
            found.add(actor.country)
    return found


def matches(route: Route, alert: AlertDoc) -> bool:
    w = alert.watchfloor
    return (
        (not route.topics or w.topic in route.topics)
        and severity_at_least(w.severity, route.min_severity)
        and (not route.actors or not set(route.actors).isdisjoint(w.actor_ids))
        and (not route.countries or not set(route.countries).isdisjoint(countries(alert)))
        and (not route.tiers or not set(route.tiers).isdisjoint(w.tiers))
    )

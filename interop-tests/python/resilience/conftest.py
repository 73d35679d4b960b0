"""Fixtures for the resilience and adversarial tests (issue 8); the harness is resilience_fed.py.

`federation`: an empty Federation in the test's tmp dir (authority only), torn down after the
test. `pair`: two linked relays, eu-relay and ua-relay, with one officer each (Ana at eu, Bohdan
at ua), both relays running and both officers' prekeys published.
"""

import pytest
from resilience_fed import Federation, relay_links_up, wait_until


@pytest.fixture
def federation(tmp_path):
    fed = Federation(tmp_path)
    yield fed
    fed.teardown()


@pytest.fixture
def pair(federation):
    """Two linked relays (eu, ua), an officer at each; relays running, prekeys published."""
    fed = federation
    eu = fed.relay("eu-relay", "CERT-EU")
    ua = fed.relay("ua-relay", "CERT-UA")
    fed.link(eu, ua, qkd="off")
    ana = fed.officer("Ana Ferreira", "CERT-EU", eu)
    bohdan = fed.officer("Bohdan Kovalenko", "CERT-UA", ua)
    eu.start()
    ua.start()
    wait_until(lambda: relay_links_up(eu) >= 1 and relay_links_up(ua) >= 1, 30, what="relay link up")
    for o in (ana, bohdan):
        r = o.inbox()
        assert r.code == 0, r
    return fed, eu, ua, ana, bohdan



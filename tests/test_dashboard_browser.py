"""The dashboard in a real browser: Debian's Chromium driven by Playwright signs in through a
one-time link, opens the overview, a Site 360 page and the clusters, checks the figures shown
against the JSON endpoints, and saves screenshots (into $SITELINE_SCREENSHOT_DIR, e.g. docs/img).

Skipped, saying why, where /usr/bin/chromium or the playwright package is missing (`make test`
installs Chromium from Debian first). Never `playwright install`: the browser is the system's.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import VirtualClock
from core.db import transaction
from core.settings import Settings
from dashboard.signin import issue
from siteline.container import Container, build
from siteline.server import create_app
from tests.dashboard_world import END, seed

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: `make test` installs Debian's chromium package", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Container]]:
    import uvicorn

    tmp = tmp_path_factory.mktemp("browser")
    port = _free_port()
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp / "home",
        SITELINE_DATABASE_URL=f"sqlite:///{tmp / 's.db'}",
        SITELINE_RUN_SCHEDULER=False,
        SITELINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    container = build(settings, clock=VirtualClock(END))
    seed(container.factory)
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", container
    server.should_exit = True
    thread.join(timeout=10)
    container.engine.dispose()


def link(container: Container, person_id: str) -> str:
    with transaction(container.factory) as s:
        return issue(
            s,
            person_id=person_id,
            ttl=timedelta(minutes=15),
            now=container.clock.now(),
            public_url=container.settings.public_url,
            actor="test",
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SITELINE_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def cell(page: Any, key: str) -> str:
    return str(page.locator(f'[data-k="{key}"]').first.inner_text()).strip()


def shown(value: object) -> str:
    return "–" if value is None else str(value)


def test_a_study_manager_signs_in_and_the_pages_match_the_json(served, browser, tmp_path: Path) -> None:
    base, container = served
    out = shots(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/dashboard")
    assert page.url.endswith("/dashboard/login")  # no session: the sign-in page
    page.goto(link(container, "sm-alpha"))
    page.click("#continue")
    page.wait_for_url(base + "/dashboard")
    data = page.request.get(base + "/api/dashboard/overview").json()
    assert [s["study"] for s in data["studies"]] == ["ALPHA"]
    alpha = data["studies"][0]
    for row in alpha["sites"]:
        for key in ("raw_updates", "delivered_messages", "saved_messages", "interruptions", "open_questions"):
            assert cell(page, f"ALPHA.{row['site_id']}.{key}") == shown(row[key]), key
        for key in ("asked", "abstained", "not_helpful"):
            assert cell(page, f"ALPHA.{row['site_id']}.questions.{key}") == shown(row["questions"][key])
    assert cell(page, "ALPHA.esc.ack.median_h") == shown(alpha["escalations"]["time_to_ack"]["median_h"])
    assert cell(page, "ALPHA.esc.acks_missed") == shown(alpha["escalations"]["acks_missed"])
    assert page.locator("svg").count() >= 3
    page.screenshot(path=str(out / "dashboard-overview.png"), full_page=True)

    page.click('a[href="/dashboard/sites/S01"]')
    page.wait_for_url(base + "/dashboard/sites/S01")
    site = page.request.get(base + "/api/dashboard/sites/S01").json()
    assert cell(page, "S01.time zone") == site["site"]["tz"]
    assert cell(page, "S01.stream.count") == f"{len(site['stream'])} items"
    assert cell(page, "S01.questions.asked") == str(site["questions"]["asked"])
    assert "Recall of lot L4242" in page.content()
    page.screenshot(path=str(out / "dashboard-site360.png"), full_page=True)

    page.click('a[href="/dashboard/clusters"]')
    clusters = page.request.get(base + "/api/dashboard/clusters").json()["clusters"]
    assert clusters and clusters[0]["sites"] == ["S01", "S02"]
    first = clusters[0]["id"]
    assert cell(page, f"{first}.weight") == str(clusters[0]["weight"])
    assert cell(page, f"{first}.sites") == "S01, S02"
    assert page.locator(f'form[action="/dashboard/clusters/{first}/clarification"]').count() == 1
    page.screenshot(path=str(out / "dashboard-clusters.png"), full_page=True)

    page.fill(f'form[action="/dashboard/clusters/{first}/clarification"] input[name="subject"]', "Observation time")
    page.fill(
        f'form[action="/dashboard/clusters/{first}/clarification"] textarea[name="body"]',
        "Observe participants for 60 minutes after each dose.",
    )
    page.click(f'form[action="/dashboard/clusters/{first}/clarification"] button')
    page.wait_for_url("**/dashboard/clusters?published=*")
    assert "Clarification published" in cell(page, "notice")
    after = page.request.get(base + "/api/dashboard/clusters").json()["clusters"]
    assert next(c for c in after if c["id"] == first)["clarifications"]
    page.click("text=Sign out")
    page.wait_for_url(base + "/dashboard/login")
    assert page.request.get(base + "/api/dashboard/overview").status == 401
    page.close()


def test_a_cra_cannot_open_another_cras_site(served, browser) -> None:
    base, container = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(link(container, "cra-1"))
    page.click("#continue")
    page.wait_for_url(base + "/dashboard")
    text = page.content()
    assert "S01" in text and "S02" in text and "S03" not in text and "BETA" not in text
    response = page.goto(base + "/dashboard/sites/S03")
    assert response is not None and response.status == 403
    assert page.request.get(base + "/api/dashboard/sites/S03").status == 403
    clusters = page.request.get(base + "/api/dashboard/clusters").json()["clusters"]
    assert all(c["study"] == "ALPHA" and set(c["sites"]) <= {"S01", "S02"} for c in clusters)
    page.goto(base + "/dashboard/clusters")
    assert page.locator('form[action$="/clarification"]').count() == 0  # a CRA sees clusters but cannot publish
    context.close()

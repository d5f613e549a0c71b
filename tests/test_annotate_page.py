"""The annotation page in headless Chromium (Debian's, through Playwright) on a real server: the
admin and three annotators join from invitation links, take the proficiency check, annotate with
the audio player, pause and resume, switch to Persian (right to left); the admin's dashboard
then shows the stopping rule's progress. Screenshots: $SAZ_SCREENSHOTS (docs/assets/annotate)."""

from __future__ import annotations

import random

import pytest
import soundfile as sf

from annotate_support import TRACKS, annotate_server, sources  # noqa: F401 (fixture)
from conftest import tone
from saz.annotate.client import Client
from test_serve import screenshot


@pytest.fixture(scope="module")
def browser(chromium):
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install -e '.[dev]'")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                                                    "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


def joined(browser, url: str, code: str, name: str, width: int = 1000):
    """A fresh browser context (its own localStorage) that joined with invitation ``code``."""
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{url}/?invite={code}")
    page.fill("#name", name)
    page.click("#join-form button")
    page.wait_for_selector("#check:not([hidden]) #ratings input", timeout=10_000)
    return page


def checked(page, rating: str, instrument: str) -> None:
    page.check(f"#ratings input[value={rating}]")
    page.select_option("#references select", instrument)
    page.click("#check-form button")


def annotate_one(page, rng: random.Random) -> str:
    """Answer the excerpt shown (every instrument, the voice where a singer is heard); its id."""
    page.wait_for_selector("body[data-ready='1'] #excerpt-form:not([hidden]) fieldset", timeout=10_000)
    sample = page.inner_text("#sample")
    for ins in page.eval_on_selector_all("#questions fieldset", "fs => fs.map(f => f.dataset.instrument)"):
        c = rng.choice([0, 2, 3])
        page.check(f"fieldset[data-instrument={ins}] input[value='{c}']")
        if ins == "singer" and c:
            page.check("input[name=voice][value=kalam]")
    page.click("#excerpt-form button[type=submit]")
    page.wait_for_function(f"document.getElementById('sample').textContent !== '{sample}' || "
                           "!document.getElementById('done').hidden", timeout=10_000)
    return sample


def test_admin_and_annotators_in_chromium(cli, browser, sources, tmp_path):  # noqa: F811
    full, csv = sources
    db = str(tmp_path / "p.db")
    code = cli("annotate", "init", "--excerpts", full, "--tracks", csv, "--db", db, "--cut", tmp_path / "clips"
               ).stdout.split("?invite=")[1].split()[0]
    sf.write(tmp_path / "ref.wav", tone(8000, 1.0, 330.0), 8000)
    cli("annotate", "reference", tmp_path / "ref.wav", "santour", "--db", db)
    rng = random.Random(0)
    with annotate_server(db, tmp_path) as url:
        admin = joined(browser, url, code, "admin")
        assert not admin.is_hidden("#admin")
        checked(admin, "low", "tar")  # the admin need not annotate
        admin.wait_for_selector("#excluded:not([hidden])")
        links = []
        for _ in range(3):
            admin.click("#invite")
            admin.wait_for_function(f"document.getElementById('invite-link').textContent.length > 0 && "
                                    f"!{links!r}.includes(document.getElementById('invite-link').textContent)")
            links.append(admin.inner_text("#invite-link"))
        people = []
        for k, link in enumerate(links):
            page = joined(browser, url, link.split("?invite=")[1], f"annotator {k}", width=375 if k == 2 else 1000)
            checked(page, "medium", "santour")
            assert page.is_hidden("#admin")
            people.append(page)
        first = people[0]
        first.wait_for_function("document.getElementById('player').duration > 4.9", timeout=10_000)  # the excerpt plays
        screenshot(first, "annotate-desktop.png", tmp_path)
        screenshot(people[2], "annotate-phone.png", tmp_path)
        for page in people:
            annotate_one(page, rng)
            annotate_one(page, rng)
            assert page.inner_text("#count") == "2"
        first.click("#pause")
        first.wait_for_selector("#paused-note:not([hidden])")
        assert first.is_hidden("#work")
        first.reload()  # the session survives a reload; the pause too
        first.wait_for_selector("#paused-note:not([hidden])")
        first.click("#pause")
        first.wait_for_selector("#work:not([hidden])")
        first.select_option("#lang", "fa")
        first.wait_for_function("document.documentElement.dir === 'rtl'")
        first.wait_for_selector("body[data-ready='1'] #excerpt-form:not([hidden])")
        assert first.inner_text("#excerpt-form button[type=submit]") == "ارسال و بعدی"
        screenshot(first, "annotate-persian.png", tmp_path)
        annotate_one(first, rng)
        assert first.inner_text("#count") == "3"
        for page in people:  # the rest of the easy pool over the API, with the page's own tokens
            client = Client(url, page.evaluate("localStorage.getItem('saz-annotate-token')"))
            while (ex := client.call("/api/next")["excerpt"]) is not None:
                client.submit(ex["sample_id"], [{"instrument": i, "confidence": 3, "voice": "kalam" if i == "singer"
                                                 else None} for i in ex["instruments"]])
        first.reload()
        first.wait_for_selector("#done:not([hidden])")
        admin.click("#refresh")
        easy = 2 * sum(len(i.split(";")) for _, d, i in TRACKS if d == "easy")
        admin.wait_for_function(f"document.querySelector('#dash table').innerText.includes('easy\\t{easy}\\t{easy}')",
                                timeout=10_000)  # every easy pair closed by the rule, none of the hard ones
        assert "hard\t16\t0" in admin.locator("#dash table").first.inner_text()
        assert "tonbak" in admin.inner_text("#dash")
        screenshot(admin, "annotate-admin-desktop.png", tmp_path)
        admin.set_viewport_size({"width": 375, "height": 800})
        screenshot(admin, "annotate-admin-phone.png", tmp_path)

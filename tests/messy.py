"""Everyday messy documents, written by the tests: an intranet page (navigation, cookie banner, inline tags,
footer, scripts) and Markdown notes (headings in French and English, bullets, a rule)."""

from pathlib import Path

INTRANET_HTML = """<!DOCTYPE html>
<html lang="en"><head><title>Acme Intranet - Office guide</title>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
<style>.nav{color:red}</style></head>
<body>
<header><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/people">People</a> | <a href="/search">Search</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button> <button>Reject</button></div>
<main>
<article>
<h1>Office guide</h1>
<p>Welcome to the Acme office guide for new staff.</p>
<h2>Network</h2>
<p>The Wi-Fi network for staff is called <b>AcmeSecure</b> and the password changes every <em>first Monday</em> of the month.</p>
<p>Guests use the <a href="/guest">AcmeGuest</a> network, which is limited to 10 Mbit/s.</p>
<h2>Kitchen</h2>
<p>The kitchen on the third floor is cleaned every Friday at 4 pm. Please label your food with your name and the date.</p>
<h2>Parking</h2>
<p>Staff parking is in the underground garage, level <strong>-2</strong>. Bicycle racks are next to the main entrance.</p>
</article>
</main>
<aside><h3>Related</h3><ul><li><a href="/hr">HR policies</a></li><li><a href="/it">IT help desk</a></li></ul></aside>
<footer><p>© 2025 Acme Corporation. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> | <a href="/cookies">Cookies</a> | <a href="/terms">Terms</a></p></footer>
</body></html>
"""

NOTES_MD = """# Team notes

## Vacances

- Les congés d'été doivent être posés avant le 31 mars.
- Chaque salarié a droit à 25 jours de congés payés par an.

## Summary.

The quarterly review meeting takes place on the second Tuesday of each quarter in room B12.

---

## Budget

* The travel budget for 2026 is 40,000 euros.
* Requests above 2,000 euros need the director's approval.
"""

ON_TOPIC = {
    "What is the staff Wi-Fi network called?": "AcmeSecure",  # the name is inside <b>
    "Where can staff park?": "level -2",  # inside <strong>
    "Quand faut-il poser les congés d'été ?": "31 mars",
    "What is the travel budget for 2026?": "40,000 euros",
}

OFF_TOPIC = [
    "When was the Eiffel Tower built?",
    "What is the salary of the CEO?",
    "Who won the football world cup in 2018?",
    "What are the opening hours of the gym?",
    "Quel est le prix d'un billet de train pour Lyon ?",
]

BOILERPLATE = ["Cookies", "Accept all", "Home | News", "All rights reserved", "HR policies", "dataLayer"]


def write_messy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intranet.html").write_text(INTRANET_HTML, encoding="utf-8")
    (folder / "notes.md").write_text(NOTES_MD, encoding="utf-8")
    return folder

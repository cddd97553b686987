"""Markdown rendering: sanitised HTML, plaintext, excerpt, reading time."""

from __future__ import annotations

import pytest

from service.rendering import excerpt, render_markdown


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("[x](javascript:alert(1))", 'href="javascript:'),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
        ('<div style="background:url(x)" onclick="steal()">hi</div>', "onclick"),
        ("<iframe src=https://evil.example></iframe>", "<iframe"),
    ],
)
def test_html_is_sanitised(markdown: str, forbidden: str) -> None:
    assert forbidden not in render_markdown(markdown).html


def test_markdown_features_survive() -> None:
    html = render_markdown(
        "## Head\n\n**b** _i_ [link](https://example.com) ![alt](https://img.example/a.png)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~"
    ).html
    assert "<h2>Head</h2>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">link</a>' in html
    assert '<img src="https://img.example/a.png" alt="alt">' in html
    assert "<table>" in html
    assert "<s>gone</s>" in html or "<del>gone</del>" in html


def test_plaintext_reading_time_and_excerpt() -> None:
    rendered = render_markdown("# Title\n\n" + "word " * 600)
    assert rendered.plaintext.startswith("Title\nword word")
    assert rendered.reading_time == 3  # 601 words at 275 a minute, rounded up
    cut = excerpt(custom_excerpt=None, plaintext=rendered.plaintext)
    assert cut is not None
    assert len(cut) <= 301
    assert cut.endswith("…")
    assert excerpt(custom_excerpt="Mine", plaintext=rendered.plaintext) == "Mine"
    assert render_markdown("").reading_time == 0
    assert excerpt(custom_excerpt=None, plaintext="") is None

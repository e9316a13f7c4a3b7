"""HTML and PDF renderings: the disclaimer on every page, the evidence in the text."""

from __future__ import annotations

import re

from pypdf import PdfReader

from her2lab.report import DISCLAIMER


def _pages(path):
    return [re.sub(r"\s+", " ", p.extract_text() or "") for p in PdfReader(path).pages]


def test_every_pdf_page_says_research_output_not_medical_advice(pten_pdf):
    pages = _pages(pten_pdf)
    assert len(pages) >= 2
    for i, text in enumerate(pages, start=1):
        assert DISCLAIMER in text, f"page {i}"
        assert f"page {i} of {len(pages)}" in text


def test_the_pdf_names_the_regimens_trials_and_predicted_effects(pten_pdf):
    text = " ".join(_pages(pten_pdf))
    for word in ("Everolimus", "Trastuzumab emtansine", "BOLERO-3", "EMILIA", "TH3RESA",
                 "subgroup: PTEN loss", "ESCAT", "Mateo", "In silico", "Virtual trial",
                 "Conflicts and audit findings"):
        assert word in text, word
    assert re.search(r"HR \d\.\d\d \(95% [a-z ]+ \d\.\d\d-\d\.\d\d\)", text)


def test_the_html_has_the_disclaimer_in_header_footer_and_inline_svg(pten_report):
    html = pten_report.to_html()
    assert re.search(r"<header[^>]*>" + re.escape(DISCLAIMER), html)
    assert re.search(r"<footer[^>]*>" + re.escape(DISCLAIMER), html)
    assert html.count("<svg") == 2 and "<img" not in html
    assert "IN SILICO" in html


def test_text_from_the_knowledge_base_is_escaped(pten_report):
    html = pten_report.to_html()
    assert "Physician&#39;s choice" in html or "Physician&#x27;s choice" in html


def test_every_rendered_page_shows_the_red_disclaimer_in_its_top_margin(pten_pdf):
    import numpy as np
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pten_pdf))
    try:
        for i in range(len(pdf)):
            img = np.asarray(pdf[i].render(scale=0.8).to_pil().convert("RGB")).astype(int)
            top = img[: img.shape[0] * 20 // 297]  # the 20 mm top margin of an A4 page
            r, g, b = top[..., 0], top[..., 1], top[..., 2]
            red = (r > 140) & (g < 90) & (b < 90)  # the disclaimer's #b2182b, anti-aliased
            assert red.sum() > 50, f"page {i + 1}"
            body = img[img.shape[0] * 20 // 297:]  # below the top margin
            # dark in every channel: body text, not the red disclaimer of the margins
            assert (body < 128).all(axis=-1).any(), f"page {i + 1} has no text"
    finally:
        pdf.close()


def test_html_pdf_and_json_carry_each_in_silico_effects_comparator_interval_settings_and_date(
        pten_report, pten_pdf):
    # conftest's dated calibration (CALIBRATION_DATE)
    CALIBRATION_DATE = "2013-01-01"
    assert pten_report.settings["calibration_as_of"] == CALIBRATION_DATE
    d = pten_report.to_dict()
    import html as htmllib

    html = " ".join(htmllib.unescape(pten_report.to_html()).split())
    pdf = " ".join(" ".join(_pages(pten_pdf)).split())
    s = pten_report.settings
    settings_txt = (f"{s['samples']} trajectories, panel {s['panel_size']}, "
                    f"{s['replicates']} replicates, seed {s['seed']}")
    shown = 0
    for r, rd in zip(pten_report.ranked, d["ranked"], strict=True):
        p = r.prediction
        assert p is not None
        pj = rd["in_silico"]["prediction"]
        assert pj["control"] == p.control and pj["calibration_as_of"] == CALIBRATION_DATE
        assert pj["settings"] == {k: s[k] for k in ("samples", "panel_size", "replicates",
                                                     "seed")}
        assert pj["low"] <= pj["estimate"] <= pj["high"] and pj["kind"].startswith("in silico")
        cell = f"{p.result_text()} vs {p.control}"
        assert cell in html
        if r.rank <= 6:  # the summary's lines: with their settings and calibration date
            row = f"{cell}; {settings_txt}; calibration {CALIBRATION_DATE}"
            assert row in html and row in pdf, r.label
            shown += 1
    assert shown == min(6, len(pten_report.ranked))
    assert "prediction interval" in pdf and "in silico" in pdf.lower()

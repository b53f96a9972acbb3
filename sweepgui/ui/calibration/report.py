"""The one-page calibration report: the formula, the coefficients with units, the residual
errors, the plots and where the numbers come from (sweep file, hash, model, store paths).

``report_html`` writes the page as HTML (Qt-free); images are given as ``src`` strings.
``render_report`` makes the bytes of the file: HTML with the plots embedded as PNG data URIs
(one file that opens anywhere), or PDF, laid out by ``QTextDocument`` onto one A4 page with
``QPdfWriter`` (smaller type when a long formula would need a second page). It paints only on
a PDF writer, as QPainter may on any thread, so the tab runs it off the GUI thread; the plots'
pictures are drawn before, on the GUI thread (``calibration_plots.report_images``).
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from sweepgui.results.display import display_unit, format_value

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
ORDER_WORDS = {0: "no compensation", 1: "linear compensation", 2: "quadratic compensation",
               3: "cubic compensation"}
IMAGES = ("uncompensated", "compensated", "density")


def report_format(path: Any) -> str | None:
    """``pdf`` or ``html`` from a file name's suffix (None: neither)."""
    suffix = str(path).lower().rpartition(".")[2]
    return FORMATS.get("." + suffix)


def order_words(cal) -> str:
    words = ORDER_WORDS.get(cal.order, f"compensation of order {cal.order}")
    if cal.order and cal.variables:
        words += f" for {' and '.join(cal.variables)}"
    return words


def _e(x: Any) -> str:
    return html.escape(str(x))


def _state(path: str, value: float) -> str:
    shown = format_value(value, display_unit(path), with_unit=True)
    return f"{path} = {shown} ({value:g} {'K' if path.endswith('temperature') else 'Pa'})"


def _captions(cal, reduced: str) -> dict[str, str]:
    return {
        "uncompensated": f"Uncompensated error{reduced}: largest {cal.uncompensated_max:.3g} kg/m3",
        "compensated": f"Compensated error (order {cal.order}){reduced}: largest "
                       f"{cal.residual_max:.3g} kg/m3",
        "density": "Compensated error at every point versus the true density",
    }


def report_html(cal, prov: dict[str, str], images: dict[str, str], *,
                created: str | None = None, version: str = "", reduced: str = "",
                font_pt: float = 8.5) -> str:
    """The report as one HTML page; ``images``: name (``IMAGES``) -> the ``src`` of its picture;
    ``reduced``: how the maps show the density axis (e.g. " at 900 kg/m3")."""
    created = created or datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    ref = cal.reference
    un = cal.uncompensated
    un_at = ", ".join(_state(p, v) for p, v in (un.get("state") or {}).items())
    rows = "".join(
        f"<tr><td><b>{_e(c.name)}</b></td><td align='right'>{c.value:.10g}</td>"
        f"<td>{_e(c.unit)}</td><td>{_e(c.term)}</td></tr>" for c in cal.coefficients.values())
    refs = "; ".join(_state(p, ref[p]) for p in ("state.temperature", "state.pressure"))
    provenance = [
        ("sweep file", prov.get("sweep_file") or "(unsaved sweep)"),
        ("sweep hash", prov.get("sweep_hash") or "–"),
        ("model", f"{prov.get('model') or '–'}"
                  + (f" ({prov['model_kind']})" if prov.get("model_kind") else "")),
        ("results", f"{prov.get('store_paths', '?')} Nix store paths for "
                    f"{prov.get('points', '?')} points"),
        ("run", f"started {prov.get('created') or '–'}, last updated {prov.get('updated') or '–'}"),
        ("report", f"{created}" + (f", sweepgui {version}" if version else "")),
    ]
    prov_rows = "".join(f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in provenance)
    captions = _captions(cal, reduced)
    pictures = "".join(
        f"<td align='center' valign='top'><img src='{_e(images[name])}' width='160'><br>"
        f"<span style='font-size:{font_pt - 1.5:g}pt'>{_e(captions[name])}</span></td>"
        for name in IMAGES if name in images)
    notes = "".join(f"<li>{_e(n)}</li>" for n in cal.notes)
    # headings as bold paragraphs: Qt's rich text sizes <h1> by its own scale, not the CSS
    h2 = f"font-size:{font_pt + 1:g}pt; font-weight:bold; margin-top:8px; margin-bottom:2px"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Densitometer calibration</title>
<style>
body {{ font-family: sans-serif; font-size: {font_pt:g}pt; }}
td, th {{ padding: 1px 6px; }}
th {{ text-align: left; background: #eee; }}
</style></head><body>
<p style="font-size:{font_pt + 3.5:g}pt; font-weight:bold; margin-bottom:4px">Densitometer
calibration: mode {cal.mode}, order {cal.order} ({_e(order_words(cal))})</p>
<p><b>Formula.</b> {_e(cal.formula)}</p>
<p><b>Reference state</b> (T0, p0): {_e(refs)}. <b>Condition number</b> of the fit (scaled
columns): {cal.condition:.3g}. <b>Points fitted:</b> {cal.points}.</p>
<p style="{h2}">Coefficients (SI units)</p>
<table cellspacing="0" border="0">
<tr><th>coefficient</th><th>value</th><th>unit</th><th>multiplies</th></tr>
{rows}
</table>
<p style="{h2}">Residual density error (read minus true) over the sweep's points</p>
<table cellspacing="0" border="0">
<tr><th></th><th>max |error|</th><th>RMS</th><th></th></tr>
<tr><td>uncompensated</td><td align='right'>{cal.uncompensated_max:.4g} kg/m3</td>
<td align='right'>{cal.uncompensated_rms:.4g} kg/m3</td>
<td>order 0 fitted at {_e(un_at)} ({un.get('points', '?')} points)</td></tr>
<tr><td>{'compensated, order ' + str(cal.order) if cal.order else 'order 0 on all points'}</td>
<td align='right'>{cal.residual_max:.4g} kg/m3</td><td align='right'>{cal.residual_rms:.4g} kg/m3</td>
<td></td></tr>
</table>
{f'<ul>{notes}</ul>' if notes else ''}
<table width="100%" cellspacing="0" border="0"><tr>{pictures}</tr></table>
<p style="{h2}">Provenance</p>
<table cellspacing="0" border="0">{prov_rows}</table>
</body></html>
"""


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def render_report(fmt: str, cal, prov: dict[str, str], images: dict[str, QImage],
                  version: str = "", reduced: str = "") -> bytes:
    """The report file's bytes, ``fmt`` "pdf" or "html" (any thread: it paints on no widget)."""
    if fmt == "html":
        srcs = {k: "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")
                for k, img in images.items()}
        return report_html(cal, prov, srcs, version=version, reduced=reduced).encode("utf-8")
    if fmt != "pdf":
        raise ValueError(f"report format {fmt!r}: expected pdf or html")
    doc = QTextDocument()
    srcs = {}
    for name, img in images.items():
        url = f"report-image://{name}.png"
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(url), img)
        srcs[name] = url
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setTitle("Densitometer calibration")
    writer.setCreator(f"sweepgui {version}".strip())
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    writer.setResolution(300)
    # lay the page out in points (1/72 in) and let the writer scale it: text and pictures keep
    # the sizes the HTML gives them
    rect = writer.pageLayout().paintRect(QPageLayout.Unit.Point)
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    for font_pt in (8.5, 8.0, 7.5, 7.0, 6.5, 6.0):   # one page: smaller type for long formulas
        doc.setHtml(report_html(cal, prov, srcs, version=version, reduced=reduced,
                                font_pt=font_pt))
        if doc.pageCount() <= 1:
            break
    doc.print_(writer)
    del writer  # ends the PDF
    buf.close()
    return bytes(data.data())

"""HTML building blocks of ``report.html``: figures (base64 PNG, with the numbers behind
them as JSON), tables, notes, and the guard that turns a view that cannot be drawn into a
note in the reader's terms."""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["figure_html", "ViewUnavailable"]

log = logging.getLogger("ketephys.pipeline.report")


def figure_html(fig: Any, caption: str = "", data: Any = None) -> str:
    """A matplotlib figure as an ``<figure>`` with the PNG embedded (base64); closes it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (saved at 85 dpi, then closed).
    caption : str
        Caption and alt text (HTML-escaped); empty for none.
    data : object, optional
        The numbers behind the figure, embedded beside it as JSON
        (``<script type="application/json" class="figure-data">``; arrays as lists) so
        that anyone can check the figure against the run's tables.

    Returns
    -------
    str
        The HTML of the ``<figure>`` element.
    """
    import json

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=85)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    embedded = ""
    if data is not None:
        text = json.dumps(data, default=_json_default).replace("</", "<\\/")
        embedded = f'<script type="application/json" class="figure-data">{text}</script>'
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}">' \
           f"{cap}{embedded}</figure>"


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _table_html(frame, max_rows: int = 200, floatfmt: str = "{:.4g}",
                wrap: tuple[str, ...] = ()) -> str:
    """A table; long-text columns in ``wrap`` are cut to one line with the full text on
    hover, so rows stay one line high and the first columns stay in view."""
    if frame is None or len(frame) == 0:
        return "<p>(none)</p>"
    shown = frame.head(max_rows).copy()
    for col in wrap:
        if col in shown.columns:
            shown[col] = [_cut(v) for v in shown[col]]
    out = '<div style="overflow-x:auto">' + shown.to_html(
        index=False, na_rep="", border=0, escape=False,
        float_format=lambda v: floatfmt.format(v),
        formatters={c: _escape for c in shown.columns if c not in wrap
                    and shown[c].dtype == object}) + "</div>"
    if len(frame) > max_rows:
        out += f"<p>({len(frame) - max_rows} more rows in the CSV)</p>"
    return out


def _escape(value: Any) -> str:
    return "" if value is None or value != value else html.escape(str(value))


def _cut(value: Any, width: int = 60) -> str:
    """A long text shown as its first ``width`` characters, all of it on hover."""
    text = _escape(value)
    if len(text) <= width:
        return text
    return f'<span title="{text}">{text[:width]}&hellip;</span>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


class ViewUnavailable(Exception):
    """A view cannot be drawn; the message says why in the reader's terms."""


def _safe(title: str, build: Callable[[], str]) -> str:
    """``build()``, or a note saying why the view is missing -- never Python error text.

    A :class:`ViewUnavailable` or ketephys error carries a message written for the
    reader; anything else is an internal error: the note says so and the log has the
    traceback.
    """
    from ..errors import KetephysError

    try:
        return build()
    except (ViewUnavailable, KetephysError) as err:
        log.warning("report: %s not drawn: %s", title, err)
        return _note(f"{title}: not drawn: {err}")
    except Exception:  # one view failing must not stop the report
        log.exception("report: %s not drawn", title)
        return _note(f"{title}: not drawn because of an internal error (the log of this "
                     "run has the details; please report it)")


def _hours(value: Any) -> str:
    """``"2 h"`` for a visit, ``"no hours_since_dose"`` when it is missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "no hours_since_dose"
    return "no hours_since_dose" if v != v else f"{v:g} h"

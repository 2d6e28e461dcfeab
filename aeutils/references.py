"""Published figures and whether ours reaches them.

A reference is a dict ``{"value": number, "source": "where it is from"}`` with the optional
keys ``"decimals"`` (how many decimals its source printed, so that "about 0.09" keeps two),
``"higher_is_better"`` (True for PSNR, accuracy, AUC; default False) and ``"differs"``.

The rule for published numbers: a figure is *reached* only when our run follows its source's
protocol (data split, preprocessing, metric, what counts as training or unlabelled data).
When anything of that differs, the reference says what in ``"differs"``; it is then context,
shown beside ours, and ``reaches`` refuses to judge it, so no check or table can call it
reached. The notebooks' checks and the results table judge with the one function ``reaches``.

Introduced in notebook 01.
"""

from __future__ import annotations

from . import _checks

KEYS = {"value", "source", "decimals", "higher_is_better", "differs"}


def check(reference, name: str = "reference") -> dict:
    """Return ``reference`` validated and normalised; TypeError/ValueError saying what is wrong."""
    if not isinstance(reference, dict) or not {"value", "source"} <= set(reference) <= KEYS:
        raise ValueError(
            f"{name} must be {{'value': number, 'source': str}} with optional 'decimals', "
            f"'higher_is_better' and 'differs', got {reference!r}"
        )
    if not isinstance(reference["source"], str) or not reference["source"].strip():
        raise ValueError(f"{name}['source'] must name where the figure is from")
    out = {
        "value": _checks.real_number(reference["value"], f"{name}['value']"),
        "source": reference["source"],
    }
    if "decimals" in reference:
        out["decimals"] = _checks.integer(reference["decimals"], f"{name}['decimals']", minimum=0)
    if "higher_is_better" in reference:
        if not isinstance(reference["higher_is_better"], bool):
            raise TypeError(
                f"{name}['higher_is_better'] must be True or False, got "
                f"{reference['higher_is_better']!r}"
            )
        out["higher_is_better"] = reference["higher_is_better"]
    if "differs" in reference:
        if not isinstance(reference["differs"], str) or not reference["differs"].strip():
            raise ValueError(
                f"{name}['differs'] must say what differs from the source's protocol, got "
                f"{reference['differs']!r}"
            )
        out["differs"] = reference["differs"]
    return out


def is_context(reference) -> bool:
    """Whether ``reference`` is context only: its source's protocol differs from ours."""
    return "differs" in check(reference)


def describe(value: float, reference: dict) -> str:
    """The verdict on ``value``: reached, not reached, or context (with what differs)."""
    reference = check(reference)
    if "differs" in reference:
        return f"context (different protocol: {reference['differs']})"
    return "reached" if reaches(value, reference) else "not reached"


def reaches(value: float, reference: dict) -> bool:
    """Whether ``value`` reaches the published ``reference`` (see the module's docstring).

    The source printed its figure to ``reference["decimals"]`` decimals (if given), so ours
    counts as reaching it when ours, rounded the same way, is at least as good: for the blog's
    "about 0.09", any loss below 0.095. Lower is better unless ``higher_is_better`` is True.
    """
    value = _checks.real_number(value, "value")
    reference = check(reference)
    if "differs" in reference:
        raise ValueError(
            f"the protocol of {reference['source']!r} differs from ours "
            f"({reference['differs']}): its figure is context, which nothing can reach"
        )
    if "decimals" in reference:
        value = round(value, reference["decimals"])
    if reference.get("higher_is_better", False):
        return value >= reference["value"]
    return value <= reference["value"]


def first_epoch_reaching(curve, reference: dict) -> int | None:
    """The first epoch (1-based) at which the per-epoch ``curve`` reaches ``reference``, or None.

    None too for a reference that is context (see ``is_context``).
    """
    reference = check(reference)
    if "differs" in reference:
        return None
    for epoch, value in enumerate(curve, start=1):
        if reaches(value, reference):
            return epoch
    return None

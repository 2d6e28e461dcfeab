"""Published figures and whether ours reaches them.

A reference is a dict ``{"value": number, "source": "where it is from"}`` with the optional
keys ``"decimals"`` (how many decimals its source printed, so that "about 0.09" keeps two)
and ``"higher_is_better"`` (True for PSNR, accuracy, AUC; default False). The notebooks'
checks and the results table judge with the one function ``reaches``.

Introduced in notebook 01.
"""

from __future__ import annotations

from . import _checks

KEYS = {"value", "source", "decimals", "higher_is_better"}


def check(reference, name: str = "reference") -> dict:
    """Return ``reference`` validated and normalised; TypeError/ValueError saying what is wrong."""
    if not isinstance(reference, dict) or not {"value", "source"} <= set(reference) <= KEYS:
        raise ValueError(
            f"{name} must be {{'value': number, 'source': str}} with optional 'decimals' and "
            f"'higher_is_better', got {reference!r}"
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
    return out


def reaches(value: float, reference: dict) -> bool:
    """Whether ``value`` reaches the published ``reference`` (see the module's docstring).

    The source printed its figure to ``reference["decimals"]`` decimals (if given), so ours
    counts as reaching it when ours, rounded the same way, is at least as good: for the blog's
    "about 0.09", any loss below 0.095. Lower is better unless ``higher_is_better`` is True.
    """
    value = _checks.real_number(value, "value")
    reference = check(reference)
    if "decimals" in reference:
        value = round(value, reference["decimals"])
    if reference.get("higher_is_better", False):
        return value >= reference["value"]
    return value <= reference["value"]


def first_epoch_reaching(curve, reference: dict) -> int | None:
    """The first epoch (1-based) at which the per-epoch ``curve`` reaches ``reference``, or None."""
    reference = check(reference)
    for epoch, value in enumerate(curve, start=1):
        if reaches(value, reference):
            return epoch
    return None

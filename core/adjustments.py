"""The adjustments JSON file (spectralmatch's layout, below) and its sidecar.

Layout: ``{name: {"adjustments": {"band_0": {"scale", "offset"}}, "whole_stats": {"band_0":
{"mean", "std", "size"}}, "overlap_stats": {other: {"band_0": {...}}}}}``. Run metadata goes to
``<file stem>.meta.json`` because the reference treats every top-level key as an image.
"""
import json
import math
import os

from .errors import RadioMatchError

STAT_KEYS = ("mean", "std", "size")


def _bands(values_by_band, keys):
    return {f"band_{band}": dict(zip(keys, values)) for band, values in enumerate(values_by_band)}


def _stats(mean, std, size):
    return _bands(zip(map(float, mean), map(float, std), map(int, size)), STAT_KEYS)


def build_document(names, scales, offsets, whole, overlaps):
    """``whole``: {index: (mean, std, size)}; ``overlaps``: {(i, j): (mean, std, size)} giving
    image i's statistics in its overlap with j (both directions present)."""
    document = {}
    for k, name in enumerate(names):
        entry = {
            "adjustments": _bands(zip(map(float, scales[k]), map(float, offsets[k])),
                                  ("scale", "offset")),
            "whole_stats": _stats(*whole[k]),
            "overlap_stats": {},
        }
        for (i, j), stats in overlaps.items():
            if i == k and j < len(names):
                entry["overlap_stats"][names[j]] = _stats(*stats)
        document[name] = entry
    return document


def write_json(path, document):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)


def sidecar_path(path):
    return os.path.splitext(path)[0] + ".meta.json"


def read_sidecar(path):
    """The run metadata saved beside an adjustments file, or {} when there is none (files
    written by other tools have none) or it cannot be read."""
    try:
        with open(sidecar_path(path), encoding="utf-8") as handle:
            metadata = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _number(value, where, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RadioMatchError(f"{where} must be a number, not {value!r}.")
    if not math.isfinite(value):
        raise RadioMatchError(f"{where} is not a finite number ({value!r}).")
    if integer and (value < 0 or value != int(value)):
        raise RadioMatchError(f"{where} must be a non-negative whole number, not {value!r}.")
    return value


def _band_table(table, keys, band_count, where):
    if not isinstance(table, dict):
        raise RadioMatchError(f"{where} must be an object of band_N entries.")
    expected = {f"band_{band}" for band in range(band_count)}
    if set(table) != expected:
        raise RadioMatchError(
            f"{where} has bands {sorted(table)} but the images have {band_count} band(s) "
            f"({', '.join(sorted(expected))}).")
    columns = {key: [] for key in keys}
    for band in range(band_count):
        entry = table[f"band_{band}"]
        if not isinstance(entry, dict) or any(key not in entry for key in keys):
            raise RadioMatchError(f"{where} band_{band} must have the keys {', '.join(keys)}.")
        for key in keys:
            columns[key].append(_number(entry[key], f"{where} band_{band} {key}",
                                        integer=(key == "size")))
    return [columns[key] for key in keys]


def load_adjustments_file(path, band_count):
    """Stored statistics: (names in file order, whole {name: (mean, std, size)},
    overlaps {(name, other): (mean, std, size)}). Every problem is an error naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise RadioMatchError(f"The adjustments file {path!r} cannot be read ({error.strerror}).") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise RadioMatchError(f"The adjustments file {path!r} is not valid JSON ({error}).") from None
    if not isinstance(document, dict) or not document:
        raise RadioMatchError(
            f"The adjustments file {path!r} must be a JSON object with one entry per image.")
    whole, overlaps = {}, {}
    for name, entry in document.items():
        where = f"{path!r}: image {name!r}"
        if not isinstance(entry, dict) or "whole_stats" not in entry or "adjustments" not in entry:
            raise RadioMatchError(f"{where} must have \"adjustments\" and \"whole_stats\".")
        _band_table(entry["adjustments"], ("scale", "offset"), band_count, f"{where} adjustments")
        whole[name] = tuple(_band_table(entry["whole_stats"], STAT_KEYS, band_count,
                                        f"{where} whole_stats"))
        stored = entry.get("overlap_stats", {})
        if not isinstance(stored, dict):
            raise RadioMatchError(f"{where} overlap_stats must be an object.")
        for other, table in stored.items():
            overlaps[(name, other)] = tuple(_band_table(
                table, STAT_KEYS, band_count, f"{where} overlap_stats {other!r}"))
    for (name, other), stats in overlaps.items():
        reverse = overlaps.get((other, name))
        if reverse is None:
            raise RadioMatchError(
                f"The adjustments file {path!r} has the overlap of {name!r} with {other!r} but "
                f"not the reverse entry ({other!r} with {name!r}); both directions are needed.")
        if list(reverse[2]) != list(stats[2]):
            raise RadioMatchError(
                f"The adjustments file {path!r}: the overlap of {name!r} and {other!r} has "
                "different pixel counts in its two directions.")
    return list(document), whole, overlaps

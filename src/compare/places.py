"""Reading: the place of an issuer — province, city, region, admin code, admin level — via cpca and its data.

:func:`resolve_place` reads a place from an issuer without its party prefix and type (``广州市海珠区民政局``,
``彝良县``, ``宜昌高新区``) and the rest of the report (``context``, for city names that settle an ambiguous
district). cpca does the matching; this module checks what cpca says against what is written:

* a name cpca matched must be written in the issuer (``县林业局`` names no place, whatever cpca guesses);
* a district or county name held by several cities (鼓楼区, 朝阳区, 西湖区 …, found in cpca's own table of admin
  codes, not a hand list) is kept only when its city or province is written in the issuer or the context;
  otherwise the place is left empty and a warning names the candidates;
* placeholders of the code table (``市辖区``, ``县``, ``省直辖县级行政区划``) never reach the result: a
  municipality's city is the municipality, a county-level city under a province is its own city;
* development zones and new areas (``…高新区``, ``…经济开发区``) are districts of their city, without a code;
* places created or renamed after cpca's table (宁乡县 → 宁乡市, 临安市 → 临安区, new districts such as 叙州区)
  come from ``resources/admin_updates.csv``, derived from newer administrative-division data (its header says
  from where).

Without any place written, the level still follows from the prefix (``县林业局`` → county, ``市民政局`` → city).
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache

__all__ = ["PLACE_KEYS", "resolve_place", "ambiguous_names", "place_in_text"]

#: the keys :func:`resolve_place` returns
PLACE_KEYS = ("region", "city", "province", "adcode", "region_label", "admin_level", "agency")
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_ZONE_RE = re.compile(r"(?:经济技术开发区|经济开发区|高新技术产业开发区|高新区|经开区|开发区|新区|园区|试验区|合作区|保税区)$")
_LEVEL_BY_PREFIX = {"县": "county", "旗": "county", "区": "district", "市": "city", "州": "city", "盟": "city",
                    "省": "province"}


def _short(name: str) -> str:
    """The short form a report may use: 南京市 → 南京, 甘孜藏族自治州 → 甘孜 (never shorter than two characters)."""
    s = re.sub(r"(?:(?:[^\s]{1,8}?族)+自治(?:州|县|旗)|自治区|特别行政区|省|市|地区|盟|州)$", "", name)
    return s if len(s) >= 2 else name


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """cpca's admin codes (12 digits) → names."""
    from importlib.resources import files

    raw = files("cpca.resources").joinpath("adcodes.csv").read_text(encoding="utf-8")
    return {row["adcode"]: row["name"] for row in csv.DictReader(io.StringIO(raw))}


@lru_cache(maxsize=1)
def _updates() -> dict[str, dict]:
    """County-level places created or renamed after cpca's table (``resources/admin_updates.csv``, whose header
    says where it comes from): new name → its code, the old name and code, city and province."""
    from importlib.resources import files

    raw = files("compare").joinpath("resources/admin_updates.csv").read_text(encoding="utf-8")
    return {r["new_name"]: r for r in csv.DictReader(ln for ln in raw.splitlines() if not ln.startswith("#"))}


def _from_update(core: str) -> dict | None:
    """The place of an issuer written with a name newer than cpca's table (宁乡市, 临安区, 叙州区), or None.

    Only when no other city is written in front of it (``长沙市宁乡市…`` agrees, ``某市宁乡市…`` does not)."""
    names = [n for n in _updates() if n in core]
    if not names:
        return None
    name = max(names, key=len)
    row = _updates()[name]
    before = core[: core.index(name)]
    if before and not (_written(row["city"], before) or _written(row["province"], before)):
        return None
    return {"province": row["province"], "city": row["city"], "region": name, "adcode": row["new_adcode"],
            "rest": core[core.index(name) + len(name):], "ambiguous": None}


def _parent_city(code: str) -> str | None:
    """The readable city of a county-level code: the municipality or the county itself for placeholders."""
    table = _table()
    city = table.get(code[:4] + "00000000")
    if city in _PLACEHOLDERS or city is None:
        prov = table.get(code[:2] + "0000000000", "")
        return prov if prov.endswith("市") else table.get(code)
    return city


@lru_cache(maxsize=1)
def ambiguous_names() -> dict[str, list[str]]:
    """County-level names held by more than one city, with those cities (from cpca's table of admin codes)."""
    by_name: dict[str, list[str]] = {}
    for code, name in _table().items():
        if code[4:6] != "00" and code[6:] == "000000":
            by_name.setdefault(name, []).append(code)
    return {n: [_parent_city(c) or "" for c in codes] for n, codes in by_name.items() if len(codes) > 1}


@lru_cache(maxsize=1)
def _names_by_prefix() -> dict[str, tuple[str, ...]]:
    """The place names a partial issuer's prefix may stand for: 省 → provinces, 市 → cities (prefecture- and
    county-level), 县/旗/区 → county-level names of that ending held by one place only (cpca's table)."""
    table, ambiguous = _table(), ambiguous_names()
    out: dict[str, set[str]] = {"省": set(), "市": set(), "州": set(), "县": set(), "旗": set(), "区": set()}
    for code, name in table.items():
        if name in _PLACEHOLDERS or len(name) < 3:
            continue
        if code[2:] == "0000000000":
            out["省"].add(name)
        elif code[4:] == "00000000" or (code[6:] == "000000" and name.endswith("市")):
            out["州" if name.endswith("州") else "市"].add(name)
        elif code[6:] == "000000" and name[-1] in "县旗区" and name not in ambiguous:
            out[name[-1]].add(name)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def place_in_text(prefix: str, text: str) -> str | None:
    """The one place of the level ``prefix`` names (``市`` of ``市民政局``) written in ``text``, else None.

    A province also counts in its short form (湖北省 as 湖北); other places only by their full name. Two or
    more different places of that level written: None (no guess).
    """
    names = _names_by_prefix().get(prefix, ())
    hits = {n for n in names if n in text or (prefix == "省" and _short(n) in text)}
    return next(iter(hits)) if len(hits) == 1 else None


def _ok(v) -> bool:
    return isinstance(v, str) and bool(v) and v not in _PLACEHOLDERS


def _written(name: str | None, text: str) -> bool:
    return bool(name) and (name in text or _short(name) in text)


def _cpca(s: str) -> dict:
    import cpca

    row = cpca.transform([s]).iloc[0]
    code = row.get("adcode")
    return {"province": row.get("省"), "city": row.get("市"), "region": row.get("区"), "rest": row.get("地址"),
            "adcode": str(code)[:6] if _ok(str(code)) and str(code) != "nan" else None}


def _disambiguate(name: str, core: str, context: str, warnings: list[str]) -> str | None:
    """The city of an ambiguous county-level name, from the issuer or the context; None (with a warning)."""
    cities = ambiguous_names()[name]
    for where in (core, context):
        hits = [c for c in dict.fromkeys(cities) if c and _written(c, where)]
        if len(hits) == 1:
            return hits[0]
    warnings.append(f"ambiguous place {name} ({'、'.join(dict.fromkeys(cities))}): no city named, place left empty")
    return None


def _level(region: str | None, city: str | None, province: str | None, core: str) -> str | None:
    if region:
        return "district" if region.endswith("区") else "county"
    if city:
        return "city"
    if province:
        return "province"
    m = re.match(r"[县旗区市州盟省]", core)
    return _LEVEL_BY_PREFIX[m.group(0)] if m else None


def _label(out: dict) -> str | None:
    level, region = out["admin_level"], out["region"]
    if level == "central":
        return "中央"
    if region and level in ("county", "district") and out["city"] and out["city"] != region:
        return f"{region}（{out['city']}）"
    return region


def _agency(rest: str | None, core: str, territorial: bool) -> str | None:
    if territorial:
        return None
    agency = rest if _ok(rest) else re.sub(r"^[县旗区市州盟省]", "", core)
    if not agency or _ZONE_RE.search(agency) or re.fullmatch(r".{0,12}(?:县|区|市|州|旗|盟|省)", agency):
        return None
    return agency


def _from_cpca(core: str, context: str, warnings: list[str]) -> dict:
    """Province, city, region and code of ``core`` as cpca reads it, kept only where written or settled."""
    got = _cpca(core)
    prov, city, region = (v if _ok(v) else None for v in (got["province"], got["city"], got["region"]))
    prov = prov if _written(prov, core) or _written(city, core) or _written(region, core) else None
    if region and not _written(region, core):
        region = None
    if city and not _written(city, core) and not region:
        city = None
    code = got["adcode"]
    if region and region in ambiguous_names() and not (_written(city, core) or _written(prov, core)):
        city = _disambiguate(region, core, context, warnings)
        if city is None:
            return {"province": None, "city": None, "region": None, "adcode": None, "rest": got["rest"],
                    "ambiguous": region}
        again = _cpca(city + region)
        prov, code = again["province"], again["adcode"]
    if region and city is None:
        city = _parent_city((code or "") + "000000") if code else None
    if prov is None and (city or region):
        prov = None if not code else _table().get(code[:2] + "0000000000")
    if city is None and prov and prov.endswith("市") and region:
        city = prov
    return {"province": prov, "city": city, "region": region, "adcode": code if (prov or city) else None,
            "rest": got["rest"], "ambiguous": None}


def resolve_place(core: str, context: str = "", territorial: bool = False, central: bool = False
                  ) -> tuple[dict, list[str]]:
    """The place of an issuer.

    Parameters
    ----------
    core : str
        The issuer without ``中共`` and its party type, e.g. ``广州市海珠区民政局``, ``彝良县``.
    context : str
        The rest of the report (title and opening): city names there settle an ambiguous district.
    territorial : bool
        The issuer is a territorial committee (县委, 区委 …): it has no agency.
    central : bool
        The issuer is a central organ (inspected by a 中央 team, or a 部): level ``central`` when no place.

    Returns
    -------
    (place, warnings)
        ``place`` has the keys of :data:`PLACE_KEYS` (None where unknown).
    """
    warnings: list[str] = []
    out = dict.fromkeys(PLACE_KEYS)
    if not core:
        return out, warnings
    got = _from_update(core) or _from_cpca(core, context, warnings)
    out.update({k: got[k] for k in ("province", "city", "region", "adcode")})
    zone = _ZONE_RE.search(core)
    if zone and not out["region"] and out["city"]:
        out["region"], out["adcode"] = re.sub(r"^(?:中共)?", "", core[: zone.end()]), None
    if out["region"] is None and out["city"] and _written(out["city"], core):
        out["region"] = out["city"]
    if out["region"] is None and out["city"] is None and out["province"] and _written(out["province"], core):
        out["region"] = out["province"]
    county_level = got["region"] is not None
    out["admin_level"] = _level(got["region"] or got["ambiguous"], out["city"], out["province"], core)
    if zone and out["region"] and not county_level:
        out["admin_level"] = "district"
    if out["province"] is None and out["city"] is None and central and not re.match(r"[县旗区市州盟省]", core):
        out["admin_level"] = "central"
    out["agency"] = _agency(got["rest"], core, territorial)
    out["region_label"] = _label(out)
    return out, warnings

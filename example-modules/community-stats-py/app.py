"""community-stats: the BGP communities announcements carry, counted.

A bgpmon module in Python, built with componentize-py against
bgpmon:module@0.1.0 (world `analysis`). It reads the captures of a session
and reports how many announcements carried communities, how many distinct
standard and large communities there were, and the most frequent ones as
findings.
"""

from collections import Counter

import wit_world
from componentize_py_types import Err
from wit_world.imports import logging, sessions, types


def community_text(community: types.Community) -> str:
    """`AS:VALUE` for a standard community, `G:L1:L2` for a large one."""
    return ":".join(str(part) for part in community.value)


def host_error(error: Err) -> str:
    """A host call's error as `kind: message`, as the Rust SDK words it."""
    variant = error.value
    kind = type(variant).__name__.removeprefix("Error_")
    words = "".join(" " + c.lower() if c.isupper() else c for c in kind).lstrip()
    return f"{words}: {variant.value}"


def positive(options: dict[str, str], name: str) -> int:
    text = options[name]
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise Err(f"option {name} must be a positive integer, not {text!r}")
    return value


class WitWorld(wit_world.WitWorld):
    def info(self) -> types.ModuleInfo:
        return types.ModuleInfo(
            type_name="community-stats",
            description="Counts the BGP communities of announcements (a Python module)",
            kind=types.ModuleKind.TASK,
            options=[
                types.OptionSpec("session", "the session to read", True, None),
                types.OptionSpec("top", "how many communities to report", False, "10"),
                types.OptionSpec("batch", "captures per read", False, "1000"),
            ],
        )

    def run(self, options: list[types.OptionValue]) -> types.RunResult:
        given = {o.name: o.value for o in options}
        top = positive(given, "top")
        batch = positive(given, "batch")
        everything = types.CaptureFilter(
            collectors=[],
            time=None,
            peer_ips=[],
            peer_ases=[],
            origin_ases=[],
            prefixes=[],
            prefix_scope=types.PrefixScope.ADVERTISED,
            path_contains=[],
            communities=[],
            kind=types.CaptureKind.ANY,
        )
        try:
            session = sessions.open_session(given["session"])
            reader = session.open_capture_reader(everything, False)
        except Err as e:
            raise Err(host_error(e))

        counts: Counter[str] = Counter()
        captures = announcing = tagged = 0
        large = set()
        while True:
            try:
                captured = reader.read(batch)
            except Err as e:
                raise Err(host_error(e))
            if not captured:
                break
            captures += len(captured)
            for capture in captured:
                if not capture.advertised:
                    continue
                announcing += 1
                if capture.communities:
                    tagged += 1
                for community in capture.communities:
                    text = community_text(community)
                    counts[text] += 1
                    if isinstance(community, types.Community_Large):
                        large.add(text)
        logging.log(logging.Level.INFO, f"read {captures} captures")

        # Most frequent first; ties in text order, so the answer is stable.
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
        findings = [
            types.Finding(
                kind="community-count",
                summary=f"{community} on {count} announcements",
                fields=[("community", community), ("announcements", str(count))],
            )
            for community, count in ranked
        ]
        return types.RunResult(
            message=(
                f"{captures} captures, {tagged} of {announcing} announcements with communities, "
                f"{len(counts) - len(large)} standard and {len(large)} large communities"
            ),
            findings=findings,
        )

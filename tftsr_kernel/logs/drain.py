"""Log template mining with the Drain algorithm (He et al., "Drain: An Online Log Parsing Approach
with Fixed Depth Tree", ICWS 2017), written for this package.

Each line is preprocessed (its timestamp cut out, then variables masked to ``<*>`` by a short list
of generic regexes: UUIDs, IP addresses, MAC addresses, hex numbers, numbers, paths with digits),
split into tokens, and routed down a fixed-depth tree: first by its token count, then by its first
``depth - 2`` tokens (a token with a digit goes to the ``<*>`` branch, as does any token once a node
has ``max_children`` children). The leaf holds a list of clusters; the line joins the most similar
one (share of positions where the template has the same constant token) if that share is at
least ``similarity``, and the template's differing positions become ``<*>``; else it starts a new
cluster. Lines whose masked form was seen before go straight to the same cluster (logs repeat a
lot; this makes mining fast and keeps identical lines together).

Why not ``drain3``: it is the same algorithm, but its per-line path (mask each regex in turn,
profiler hooks, LRU bookkeeping) is several times slower than this loop on 49 MB, it does not keep
the per-line assignments the CLI returns, and it brings ``jsonpickle`` and ``cachetools`` along
for state persistence this package does not use (results are stored in the encrypted database).

A pure module: no I/O, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import eq

WILDCARD = "<*>"

#: generic variable masks, applied in order (common practice in the loghub benchmarks and drain3's
#: examples; nothing here is specific to one data set)
MASKS: tuple[str, ...] = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",  # UUID
    r"(?<![\w.-])[A-Za-z][\w-]*(?:\.[\w-]+)+:\d{1,5}(?![\w.])",                         # host:port
    r"(?<![0-9a-fA-F])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])",  # long hex ids
    r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])",                      # IPv4[:port]
    r"(?<![\w:])(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}(?![\w:])",                     # MAC
    r"(?<![\w])0[xX][0-9a-fA-F]+\b",                                                   # hex 0x...
    r"(?<![A-Za-z0-9])[-+]?\d+(?:[.,:]\d+)*(?:[munµ]?s|[KMGT]i?B|[kmgt]b|[KMGT]|[hd]|ms|%)?(?![A-Za-z0-9])",
    # numbers (and 1.2.3), with a unit (30s, 12ms, 4KB, 95%)
)
#: the masks apply within a whitespace-separated token, to tokens with a digit (fast); a date
#: written out in the text ("Sun Jul 10 03:55:15 2005") spans tokens and is masked first
_MASK_RE = re.compile("|".join(f"(?:{m})" for m in MASKS))
_DATE_RE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                      r" +\d{1,2} \d{2}:\d{2}:\d{2}(?: \d{4})?")
_WEEKDAYS = ("Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun ")
_DIGIT = re.compile(r"\d")
#: memory bounds of the caches (a log with no repeated content would otherwise keep every token
#: and every line in them): each holds short strings, some 10-20 MB at the limit, and is emptied
#: when full (so it keeps following the log: repeats are mostly near each other)
_MAX_TOKEN_CACHE = 200_000
_MAX_SEEN = 200_000
#: a header ends at the first of its first few tokens that ends with ":" (syslog "host tag[pid]:",
#: log4j "LEVEL Component:", Android "Tag:"); the tree is keyed on what follows it
HEADER_TOKENS = 5


@dataclass
class Cluster:
    id: int
    tokens: list[str]
    count: int = 0
    #: positions that are ``<*>`` (cached for the similarity loop)
    params: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    minutes: dict[int, int] = field(default_factory=dict)
    #: ``(start, tokens[start:] with every token holding <*> as None)``: what a line is compared
    #: with (None equals no token, so ``sum(map(eq, ...))`` counts the equal constant tokens in C)
    compare: tuple | None = field(default=None, repr=False)

    def constants(self, start: int) -> tuple:
        c = self.compare
        if c is None or c[0] != start:
            c = self.compare = (start, tuple(None if WILDCARD in t else t for t in self.tokens[start:]))
        return c[1]

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


def preprocess(content: str, _cache: dict | None = None) -> list[str]:
    """The tokens of ``content`` with variables masked to ``<*>``; a run of equal masked tokens
    becomes one (a list of block ids is one variable)."""
    if ":" in content and any(w in content for w in _WEEKDAYS):
        content = _DATE_RE.sub(WILDCARD, content)
    cache = _cache if _cache is not None else {}
    out: list[str] = []
    prev = None
    sub, search = _MASK_RE.sub, _DIGIT.search
    for tok in content.split():
        if not tok.isalpha():
            m = cache.get(tok)
            if m is None:
                m = sub(WILDCARD, tok) if search(tok) else tok
                if len(cache) >= _MAX_TOKEN_CACHE:
                    cache.clear()  # full: start again, so the cache follows what the log says now
                cache[tok] = m
            tok = m
        if tok == prev and WILDCARD in tok:
            continue
        out.append(tok)
        prev = tok
    return out


class TemplateMiner:
    """Online Drain: :meth:`add` a line (already stripped of its timestamp), get its cluster."""

    def __init__(self, depth: int = 4, similarity: float = 0.5, max_children: int = 100,
                 max_clusters: int = 50_000):
        if depth < 3:
            raise ValueError("depth must be at least 3")
        self.prefix_len = depth - 2
        self.similarity = similarity
        self.max_children = max_children
        self.max_clusters = max_clusters
        self.clusters: list[Cluster] = []
        self._root: dict = {}
        self._seen: dict[str, Cluster] = {}
        self._tokens: dict[str, str] = {}

    def add(self, content: str) -> Cluster:
        tokens = preprocess(content, self._tokens)
        masked = " ".join(tokens)
        hit = self._seen.get(masked)
        if hit is not None:
            return hit
        cluster = self._place(tokens)
        if len(self._seen) >= _MAX_SEEN:
            self._seen.clear()
        self._seen[masked] = cluster
        return cluster

    # -- the tree
    @staticmethod
    def _message_start(tokens: list[str]) -> int:
        for i, tok in enumerate(tokens[:HEADER_TOKENS]):
            if len(tok) > 1 and tok.endswith(":") and i < len(tokens) - 1:
                return i + 1
        return 0

    def _leaf(self, tokens: list[str], start: int) -> list[Cluster]:
        node = self._root.setdefault(len(tokens), {})
        for tok in tokens[start: start + self.prefix_len]:
            key = WILDCARD if (tok == WILDCARD or _DIGIT.search(tok)) else tok
            child = node.get(key)
            if child is None:
                if len(node) >= self.max_children - 1 and key != WILDCARD:
                    key = WILDCARD
                    child = node.get(key)
                if child is None:
                    child = node[key] = {}
            node = child
        leaf = node.get(None)
        if leaf is None:
            leaf = node[None] = []
        return leaf

    def _place(self, tokens: list[str]) -> Cluster:
        start = self._message_start(tokens)
        leaf = self._leaf(tokens, start)
        n = (len(tokens) - start) or 1
        best, best_sim, best_params = None, -1.0, -1
        message = tokens[start:]
        for c in leaf:
            cmp = c.compare
            sim = sum(map(eq, cmp[1] if cmp is not None and cmp[0] == start else c.constants(start), message)) / n
            if sim > best_sim or (sim == best_sim and c.params > best_params):
                best, best_sim, best_params = c, sim, c.params
        if best is not None and (best_sim >= self.similarity or len(self.clusters) >= self.max_clusters):
            changed = False
            new = best.tokens
            for i, (t, s) in enumerate(zip(best.tokens, tokens)):
                if t != s and t != WILDCARD:
                    if not changed:
                        new = list(best.tokens)
                        changed = True
                    new[i] = WILDCARD
            if changed:
                best.tokens = new
                best.params = new.count(WILDCARD)
                best.compare = None
            return best
        c = Cluster(len(self.clusters), list(tokens), params=tokens.count(WILDCARD))
        self.clusters.append(c)
        leaf.append(c)
        return c

"""The page's colours and CSS: the Okabe-Ito posture colours and the page colours, light and dark, as
CSS custom properties, and the one stylesheet every page inlines.
"""

from __future__ import annotations

from monitor.core.types import Posture

# Okabe & Ito (2008) colour-blind safe palette; sitting gets the warm, attention-drawing vermillion.
COLOURS: dict[Posture, str] = {
    Posture.SIT: "#D55E00",
    Posture.LIE: "#CC79A7",
    Posture.STAND: "#56B4E9",
    Posture.MOVE: "#009E73",
    Posture.CYCLE: "#0072B2",
    Posture.NON_WEAR: "#BDBDBD",
    Posture.UNKNOWN: "#EAE7E1",
}
# On the dark card (#1B1F27) the palette keeps its hues and at least 3:1 contrast (WCAG's floor for
# graphics); only the two greys change, as light grey would glare and outshine the postures.
DARK_COLOURS: dict[Posture, str] = COLOURS | {Posture.NON_WEAR: "#6B7280", Posture.UNKNOWN: "#2A2F39"}
SIT_LIGHT = "#EDB48F"  # vermillion at ~50 % on white: the other days in the trend
SIT_LIGHT_DARK = "#A0613A"  # the same on the dark card, still 3:1
# Page colours, light and dark. Text reaches 4.5:1 (muted) and 7:1 (ink) on its card in both; the
# key figure's card is a darker vermillion so that white text on it reads (5.3:1; #D55E00 gives 3.9).
LIGHT = {
    "ink": "#1D2433",
    "muted": "#5B6475",
    "bg": "#F6F4EF",
    "card": "#FFFFFF",
    "line": "#E4E0D8",
    "key": "#B34D00",
    "key-ink": "#FFFFFF",
    "sit-light": SIT_LIGHT,
}
DARK = {
    "ink": "#E8EAF0",
    "muted": "#A3AAB8",
    "bg": "#121419",
    "card": "#1B1F27",
    "line": "#2E3440",
    "key": "#B34D00",
    "key-ink": "#FFFFFF",
    "sit-light": SIT_LIGHT_DARK,
}


def _vars(colours: dict[str, str], postures: dict[Posture, str]) -> str:
    named = [f"--{k}:{v}" for k, v in colours.items()]
    named += [f"--p-{p.value}:{c}" for p, c in postures.items()]
    return ";".join(named)


# Chart marks take their colours from classes, so the dark media query recolours the SVG too.
_POSTURE_CSS = "".join(
    f".k-{p.value}{{fill:var(--p-{p.value});background:var(--p-{p.value})}}" for p in Posture
)

CSS = (
    f":root{{{_vars(LIGHT, COLOURS)};color-scheme:light dark}}\n"
    f"@media (prefers-color-scheme:dark){{:root{{{_vars(DARK, DARK_COLOURS)}}}"
    ".card,.stat{box-shadow:none}}\n"
    + _POSTURE_CSS
    + """
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 -webkit-text-size-adjust:100%}
main{max-width:760px;margin:0 auto;padding:22px 14px 40px}
header{padding:4px 4px 10px}
.eyebrow{margin:0;color:var(--muted);font-size:.85rem;letter-spacing:.06em;text-transform:uppercase}
h1{margin:.1em 0 0;font-size:clamp(1.55rem,6vw,2.3rem);line-height:1.15;letter-spacing:-.01em}
h2{margin:0 0 .6em;font-size:1.05rem}
.sub{margin:.2em 0 0;color:var(--muted);font-size:.9rem}
.card{background:var(--card);border-radius:16px;padding:16px 18px;margin:14px 0;
 box-shadow:0 1px 2px rgba(29,36,51,.06),0 4px 14px rgba(29,36,51,.04)}
.headline{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin:8px 0}
.stat{background:var(--card);border-radius:16px;padding:14px 14px 12px;
 box-shadow:0 1px 2px rgba(29,36,51,.06)}
.stat .num{display:block;font-size:clamp(1.6rem,7vw,2.4rem);font-weight:700;line-height:1.05;
 font-variant-numeric:tabular-nums;white-space:nowrap}
.stat .num small{font-size:.55em;font-weight:600;margin-right:.15em}
.stat .lbl{display:block;color:var(--muted);font-size:.85rem;margin-top:.35em;line-height:1.3}
.stat.key{background:var(--key);color:var(--key-ink)}
.stat.key .lbl{color:var(--key-ink)}
.summary{font-size:1.08rem;line-height:1.55;margin:0}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
svg .t{font-size:21px}
svg .ts{font-size:18px}
.tx{fill:var(--muted)}
.tx.ink{fill:var(--ink)}
.halo{stroke:var(--card);stroke-width:7px;stroke-linejoin:round;paint-order:stroke}
.ln{stroke:var(--ink)}
.grid{stroke:var(--line)}
.axis{stroke:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:10px 0 0;padding:0;list-style:none;
 font-size:.85rem;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.legend svg{width:22px;height:10px}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.grid2 .card{margin:0}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:5px 0;border-bottom:1px solid var(--line);text-align:left;font-weight:normal}
td.r,th.r{text-align:right}
td+td,th+th{padding-left:10px}
tr:last-child td{border-bottom:0}
th{color:var(--muted);font-size:.85rem}
.bar{height:10px;border-radius:5px;background:var(--p-sit);min-width:2px}
.note{color:var(--muted);font-size:.88rem;margin:.6em 0 0}
.lead{margin:0 0 .4em}
.spans{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5em,1fr));gap:6px;
 margin:.5em 0 0;padding:0;list-style:none}
.spans li{border:1px solid var(--line);border-radius:8px;padding:2px 8px;font-size:.88rem;
 font-variant-numeric:tabular-nums;white-space:nowrap}
details{margin:.8em 0 0;font-size:.9rem}
summary{cursor:pointer;color:var(--muted);padding:6px 0}
summary:focus-visible{outline:2px solid var(--ink);outline-offset:2px;border-radius:4px}
details table{margin-top:.3em}
details .scroll{max-height:24em;overflow-y:auto}
.trend{margin:0;padding:0;list-style:none}
.trend li{display:grid;grid-template-columns:4.2em 1fr 6.6em;gap:0 10px;align-items:center;
 padding:4px 0}
.trend .d{color:var(--muted);white-space:nowrap}
.trend .track{position:relative;height:22px}
.trend .fill{position:absolute;left:0;top:3px;bottom:3px;border-radius:4px;
 background:var(--sit-light);min-width:2px}
.trend .mean{position:absolute;top:-4px;bottom:-4px;border-left:2px dashed var(--ink)}
.trend .v{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;line-height:1.2}
.trend .v small{display:block;color:var(--muted);font-size:.78rem;white-space:normal}
.trend .this .d,.trend .this .v{color:var(--ink);font-weight:700}
.trend .this .fill{background:var(--p-sit)}
.trend .short .fill{background:var(--p-non_wear)}
.day{display:grid;grid-template-columns:7.5em 1fr;gap:4px 12px;align-items:center;padding:6px 0;
 border-bottom:1px solid var(--line)}
.day:last-child{border-bottom:0}
.day .d{font-weight:600}
.day .m{grid-column:2;color:var(--muted);font-size:.85rem}
footer{color:var(--muted);font-size:.85rem;padding:6px 4px}
footer p{margin:.5em 0}
@media (max-width:560px){
 .grid2{grid-template-columns:1fr}
 .headline{grid-template-columns:1fr 1fr}
 .headline .stat.key{grid-column:1/3}
 .day{grid-template-columns:1fr}
 .day .m{grid-column:1}
 svg .t{font-size:38px}
 svg .ts{font-size:36px}
 svg .minor{display:none}
}
"""
)

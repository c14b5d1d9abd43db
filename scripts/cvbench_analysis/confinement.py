"""The confinement profiles side by side: what Docker's default confinement (its seccomp filter,
14 capabilities, no_new_privs off) costs each bundle runtime at start-up, against the bundle
without a filter (spec-default), both measured in the same run (--param
profile=docker-default,spec-default): the report's section of that name."""
from . import results as R
from . import verdicts as V
from .launchers import CONTAINERS, DEFAULT_PROFILE
from .run import fmt

OTHER = "spec-default"


def confinement_rows(run):
    """[(runtime, docker-default samples, spec-default samples)] from startup.json."""
    groups = run.groups("startup") if run.has("startup") else {}
    rows = []
    for rt in CONTAINERS:
        plain = R.values(groups.get(f"startup/{rt}", []))
        other = R.values(groups.get(f"startup/{rt}/profile:{OTHER}", []))
        if plain and other:
            rows.append((rt, plain, other))
    return rows


def confinement_section(run):
    rows = confinement_rows(run)
    if not rows:
        return (f"This run measured one confinement profile only ({DEFAULT_PROFILE}, the default); "
                f"`scripts/sweep --param profile={DEFAULT_PROFILE},{OTHER}` measures both, "
                "each runtime's two slots interleaved in one run.\n")
    out = [f"Start-up (launch to exit, ms) of each runtime under Docker's default confinement "
           f"({DEFAULT_PROFILE}: its seccomp filter, 14 capabilities, no_new_privs off) and under "
           f"{OTHER} (runc spec's bundle: no filter, 3 capabilities, no_new_privs on), in this run. "
           "The ratio is typical(docker-default) / typical(spec-default) with its bootstrap 95% "
           "interval; above 1 is what the profile costs at start-up (mostly compiling and loading "
           "the filter).", "",
           f"| runtime | {DEFAULT_PROFILE} (median) | {OTHER} (median) | ratio [95%] | added (medians) | samples |",
           "|---|---|---|---|---|---|"]
    for rt, plain, other in rows:
        point, lo, hi = V.bootstrap_ratio(plain, other, f"confinement/{rt}")
        added = R.median(plain) - R.median(other)
        out.append(f"| {rt} | {fmt(R.median(plain), ' ms')} | {fmt(R.median(other), ' ms')} | "
                   f"{V.fmt_interval(point, lo, hi)} | {added:+.1f} ms | {len(plain)} / {len(other)} |")
    return "\n".join(out) + "\n"

"""Claim 1: "a container is a runtime instance of an image".

Rule: holds when every container launcher created its instances from the image's one OCI bundle
and each reached READY and exited 0 (startup's samples); does not hold when one failed.
"""
from .. import verdicts as V
from ..launchers import CONTAINERS, launcher
from ..run import not_run

TEXT = "A container is a runtime instance of an image"
CHARTS = ["startup.png"]


def evaluate(run):
    if not run.has("startup"):
        return V.not_tested(not_run("startup"), "startup")
    g, errs = run.groups("startup"), run.errors("startup")
    cont = {launcher(k): len(v) for k, v in g.items() if launcher(k) in CONTAINERS}
    failed = {launcher(k) for k in errs if launcher(k) in CONTAINERS}
    h = run.context.get("image_hash", "?")
    if not cont and not failed:
        return V.not_tested("no container launcher ran", "startup")
    numbers = (f"{sum(cont.values())} launches ({', '.join(f'{l} {c}' for l, c in cont.items())}) of "
               f"the one OCI bundle built from image `{h}`"
               + (f"; failed: {', '.join(sorted(failed))}" if failed else ""))
    headline = V.Headline(
        "container launches from the image's one bundle",
        text=(f"{sum(cont.values())} launches by {len(cont)} container runtimes from one bundle, "
              + (f"failed: {', '.join(sorted(failed))}" if failed else "none failed")))
    return V.Verdict(V.HOLDS if cont and not failed else V.DOES_NOT_HOLD,
                     "holds when every container launcher created its instances from the image's bundle "
                     "(rootfs + config.json) and each reached READY and exited 0",
                     numbers, "startup (image_hash in the context)",
                     "the benchmark tests its own image only", headline=headline)

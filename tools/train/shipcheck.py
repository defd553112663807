#!/usr/bin/python3
"""Tables and the shipping bar from `diffuir eval --recipes train,heldout --clean --json` reports.

    /usr/bin/python3 tools/train/shipcheck.py CURRENT.json                 # markdown tables
    /usr/bin/python3 tools/train/shipcheck.py CURRENT.json CANDIDATE.json  # both, and the verdict

The bar (issue #16): the candidate ships only if it beats the current model on the held-out
recipes on every task and on average, loses at most 0.5 dB on any task of the training-recipe
eval, and leaves undegraded photos at 38 dB or better. Both reports must come from the same
photos, size and seed, which is checked. Exit status: 0 ships, 1 does not, 2 bad input.
"""
import json
import sys

TASKS = ["haze", "lowlight", "rain", "snow", "blur"]
MAX_TRAIN_LOSS = 0.5
MIN_CLEAN_DB = 38.0


def load(path):
    with open(path) as f:
        r = json.load(f)
    for key in ("tasks", "heldout", "clean"):
        if not r.get(key):
            raise SystemExit(f"{path}: no '{key}' (run eval with --recipes train,heldout --clean --json)")
    return r


def gains(rows):
    return {row["task"]: row for row in rows}


def table(title, rep_rows, avg, names):
    out = [f"{title}", "", "| task | PSNR in | " + " | ".join(f"{n}: out / gain / SSIM out" for n in names) + " |",
           "|---|---:|" + "---:|" * len(names)]
    for t in TASKS + ["average"]:
        rows = [gains(rr).get(t) if t != "average" else a for rr, a in zip(rep_rows, avg)]
        if rows[0] is None:
            continue
        cells = " | ".join(f"{r['psnr_out']:.2f} / **{r['psnr_gain']:+.2f}** / {r['ssim_out']:.4f}" for r in rows)
        out.append(f"| {t} | {rows[0]['psnr_in']:.2f} | {cells} |")
    return "\n".join(out)


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    reps = [load(p) for p in argv]
    names = ["current", "candidate"][:len(reps)]
    if len(reps) == 2:
        a, b = reps
        for k in ("photos", "max_side", "seed", "noise_scale"):
            if a.get(k) != b.get(k):
                print(f"the reports differ in {k}: {a.get(k)} vs {b.get(k)}", file=sys.stderr)
                return 2
    print(table("Training recipes (tools/internal/degrade)", [r["tasks"] for r in reps], [r["average"] for r in reps],
                names))
    print()
    print(table("Held-out recipes (tools/internal/heldout)", [r["heldout"]["tasks"] for r in reps],
                [r["heldout"]["average"] for r in reps], names))
    print()
    print("Undegraded photos: " + ", ".join(
        f"{n} {r['clean']['psnr_out']:.2f} dB / SSIM {r['clean']['ssim_out']:.4f} / luma {r['clean']['luma_shift']:+.1f}"
        for n, r in zip(names, reps)))
    print("(" + ", ".join(f"{n}: {r['model']}, {r['seconds']:.0f} s" for n, r in zip(names, reps)) + ")")
    if len(reps) == 1:
        return 0
    cur, cand = reps
    fails = []
    hc, hn = gains(cur["heldout"]["tasks"]), gains(cand["heldout"]["tasks"])
    for t in TASKS:
        if hn[t]["psnr_out"] <= hc[t]["psnr_out"]:
            fails.append(f"held-out {t}: {hn[t]['psnr_out']:.2f} dB, not above {hc[t]['psnr_out']:.2f}")
    if cand["heldout"]["average"]["psnr_out"] <= cur["heldout"]["average"]["psnr_out"]:
        fails.append(f"held-out average: {cand['heldout']['average']['psnr_out']:.2f} dB, not above "
                     f"{cur['heldout']['average']['psnr_out']:.2f}")
    tc, tn = gains(cur["tasks"]), gains(cand["tasks"])
    for t in TASKS:
        if tn[t]["psnr_out"] < tc[t]["psnr_out"] - MAX_TRAIN_LOSS:
            fails.append(f"training recipes {t}: {tn[t]['psnr_out']:.2f} dB, more than {MAX_TRAIN_LOSS} below "
                         f"{tc[t]['psnr_out']:.2f}")
    if cand["clean"]["psnr_out"] < MIN_CLEAN_DB:
        fails.append(f"undegraded photos: {cand['clean']['psnr_out']:.2f} dB, below {MIN_CLEAN_DB}")
    print()
    if fails:
        print("verdict: does not ship\n  " + "\n  ".join(fails))
        return 1
    print("verdict: ships (beats the current model on every held-out task and on average, training recipes within "
          f"{MAX_TRAIN_LOSS} dB, undegraded photos at {cand['clean']['psnr_out']:.2f} dB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

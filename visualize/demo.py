"""The demo's pictures: the textbook RNN (T = 5) unrolled, and its gradient flow, in out/."""
from pathlib import Path

from .output import write_picture


def pictures(model, x, y, outdir="out"):
    """Write ``outdir``/rnn_t5.svg (.dot without graphviz's dot program) and
    ``outdir``/rnn_t5_flow.png for one run of ``model`` on x (T, D), y (T,); print their
    paths. The viz and plot extras are optional: what is missing is said, not raised.
    Returns the paths written."""
    from .draw import draw
    from .flow import gradient_flow

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    T = len(x)
    written = []
    print(f"\nPictures of BPTT for this run, written to {outdir}/")
    run = model.forward(x, y)
    flow = gradient_flow(run.loss, last_loss=run.losses[-1])
    try:
        path, note = write_picture(draw(run.loss), outdir / f"rnn_t{T}.svg")
        written.append(path)
        print(f"   the unrolled graph, one cluster per step, every gradient:  {path}")
        if note:
            print(f"   ({note})")
    except ModuleNotFoundError as e:        # graphviz is the optional `viz` extra
        print(f"   (no graph picture: {e})")
    try:
        from .plots import plot_flow
        flow_path = outdir / f"rnn_t{T}_flow.png"
        plot_flow([("the textbook RNN", flow)], title=f"gradient flow through T = {T} "
                  "steps").savefig(flow_path, dpi=110)
        written.append(flow_path)
        print(f"   |dL/dh(t)| against t, and each step's share of W, U, V, b, c:  {flow_path}")
    except ModuleNotFoundError as e:        # matplotlib is the optional `plot` extra
        print(f"   (no gradient-flow figure: {e})")
    return written

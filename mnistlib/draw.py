"""A drawing pad for JupyterLab: draw a digit, see what the network sees and what it guesses.

    from mnistlib.draw import DrawPad
    pad = DrawPad(model)      # model: an MLP (anything with predict_proba(X) -> (N, 10))
    pad                       # the last line of a cell displays it

Built with anywidget: the front end is one small ES module, draw.js beside this file, that
JupyterLab loads from the kernel; nothing is fetched from the network. The browser records
the strokes and sends them once per stroke (when the pen lifts); Python paints them with
mnistlib.strokes.rasterize, prepares them exactly like MNIST's own digits
(mnistlib.prepare.prepare_digit) and sends back the ten probabilities and the 28x28 input,
which the browser draws. Setting `pad.strokes` from Python (a saved drawing) shows it too.
"""
import time
from pathlib import Path

import anywidget
import numpy as np
import traitlets

from . import plots
from .errors import DataError
from .strokes import LINE_WIDTH, SIZE, model_input


class DrawPad(anywidget.AnyWidget):
    """The drawing pad: a SIZE x SIZE canvas, a Clear button, the 28x28 input and ten probability bars.

    After each stroke: `strokes` holds the drawing ([[[x, y], ...], ...] in pad pixels), `x` the
    (784,) input the network saw, `probs` its (10,) probabilities, and `seconds` the time Python
    took to rasterise, prepare and predict. `prepare=False` feeds the canvas merely shrunk to
    28x28, to see why the preparation matters.
    """

    _esm = Path(__file__).with_name("draw.js")

    size = traitlets.Int(SIZE).tag(sync=True)
    line_width = traitlets.Float(LINE_WIDTH).tag(sync=True)
    colors = traitlets.List([plots.TRUE_COLOR, plots.OTHER_COLOR]).tag(sync=True)
    strokes = traitlets.List().tag(sync=True)
    probs = traitlets.List().tag(sync=True)
    seen = traitlets.List().tag(sync=True)
    predicted_strokes = traitlets.Int(0).tag(sync=True)
    message = traitlets.Unicode("draw a digit").tag(sync=True)

    def __init__(self, model, prepare=True, **kwargs):
        self.model = model
        self.prepare = prepare
        self.x = None
        self.seconds = None
        super().__init__(**kwargs)  # strokes=... given here predicts at once (the observer below)

    def __repr__(self):
        # the text shown where the pad cannot be (GitHub's viewer, the HTML handouts, a terminal)
        return ("DrawPad: a drawing pad that shows in JupyterLab with a running kernel "
                f"({len(self.strokes)} strokes drawn, guess {self.prediction})")

    @property
    def prediction(self):
        """The guessed digit, or None before anything is drawn."""
        return int(np.argmax(self.probs)) if self.probs else None

    @traitlets.observe("strokes", "line_width")
    def _on_change(self, change):
        self._predict()

    def _predict(self):
        start = time.perf_counter()
        probs, seen, message = [], [], "draw a digit"
        if self.strokes:
            try:
                _, x = model_input(self.strokes, self.line_width, self.prepare)
                p = np.asarray(self.model.predict_proba(x[None].astype(np.float32)))[0]
                probs, seen, self.x = [round(float(v), 4) for v in p], [round(float(v), 3) for v in x], x
            except (DataError, ValueError) as e:
                message = f"cannot read this drawing: {e}"
        if not probs:
            self.x = None
        self.seconds = time.perf_counter() - start
        with self.hold_sync():  # one message to the browser
            self.probs, self.seen, self.message = probs, seen, message
            self.predicted_strokes = len(self.strokes)

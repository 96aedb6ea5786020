"""Instant, specific feedback on the exercises of notebooks 01-05, 10 and 11.

In the notebooks the central pieces are exercises you write yourself. Right after
each one, a single line checks it:

    relu = check.relu(relu)      # prints one line and returns the function to use from here on

The check runs your function on fresh random inputs and compares it with mnistlib's
version. The sizes are small and all different (N=7 examples, D=5 inputs, H=3 hidden
units, K=4 classes), so a transposed array cannot pass by accident. It prints ONE line:

    ✓ relu: ... what was verified
    ✗ softmax: overflow at logits near +1000 ... — continuing with mnistlib's version
    … backward: not yet written — continuing with mnistlib's version

and returns your function if it is right, otherwise mnistlib's, so the rest of the
notebook always runs. A wrong answer is named when it is a classic mistake (a bias
gradient summed over every axis, a softmax without the max shift, a confusion matrix
with rows and columns swapped, ...); otherwise the line says where your result first
differs. If your function raises an exception, the line says which line of your
function raised what.

The exercises, by notebook (``all_names()`` lists them):

    01  one_hot(y, num_classes=10)            normalize(X)
    02  relu(Z)  relu_grad(Z)  softmax(Z)      cross_entropy(Z, Y)   forward(params, X)
    03  backward(params, cache, Y)            numerical_gradient(f, theta, eps)
    04  update(params, grads, lr)             iterate_minibatches(X, Y, batch_size, rng)
    05  confusion_matrix(y_true, y_pred, num_classes=10)   precision_recall(cm)
    10  unbroadcast(grad, shape)
    11  average_gradients(shards)

Each check below is a short function: it builds the inputs, lists the mistakes it can
recognise as (test, message) pairs, and hands both to ``_exercise``, the small engine
at the top of this file. Reading a check tells you what a correct answer must do.

Set ``check.SEED`` to an integer to make the random inputs repeatable.
"""
import copy
import linecache
import types
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from . import activations as _activations
from . import gradcheck as _gradcheck
from . import losses as _losses
from . import metrics as _metrics
from . import network as _network
from . import preprocess as _preprocess
from .train import average_gradients as _average_gradients
from .train import iterate_minibatches as _iterate_minibatches

SEED = None  # None: fresh random inputs on every check; an int makes them repeatable

N, D, H, K = 7, 5, 3, 4  # examples, inputs, hidden units, classes: all different, so transposes show

EXERCISES = {
    "01": ["one_hot", "normalize"],
    "02": ["relu", "relu_grad", "softmax", "cross_entropy", "forward"],
    "03": ["backward", "numerical_gradient"],
    "04": ["update", "iterate_minibatches"],
    "05": ["confusion_matrix", "precision_recall"],
    "10": ["unbroadcast"],
    "11": ["average_gradients"],
}

FALLBACK = " — continuing with mnistlib's version"
MARKS = {True: "✓", False: "✗", None: "…"}  # passed, wrong, not written: the first character of each line
NOT_WRITTEN = "not yet written"


def all_names():
    """The names of every check, in notebook order (each is a function of this module)."""
    return [name for names in EXERCISES.values() for name in names]


# ---------------------------------------------------------------------------------------
# The engine: run the learner's function safely, compare, diagnose, print one line.
# ---------------------------------------------------------------------------------------

def _report(ok, name, message):
    """Print the one line of a check: ✓ (ok=True), ✗ (ok=False) or … (ok=None: not written)."""
    print(f"{MARKS[ok]} {name}: {message}")


def _rng():
    """A fresh random generator (repeatable if check.SEED is set)."""
    return np.random.default_rng(SEED)


# Tolerances. Every check feeds float64 arrays of order 1 to a handful of operations, so
# a right answer differs from mnistlib's only by rounding in a different order of
# operations: about 1e-15 relative. rtol=1e-6 leaves a wide margin for that (and for a
# learner who works in float32, whose rounding is 6e-8), while every mistake named below
# changes the result by far more (the smallest, a one-sided difference, by about 1e-4).
# atol=1e-9 only matters for entries that should be (almost) exactly 0.
RTOL, ATOL = 1e-6, 1e-9


def _close(a, b):
    """True when arrays a and b have the same shape and agree to RTOL / ATOL (NaN == NaN)."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))


def _ratio(got, want):
    """The number r with got == r * want (to tolerance), or None if there is no such r."""
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape or not np.all(np.isfinite(g)) or not np.any(w):
        return None
    r = float((g * w).sum() / (w * w).sum())
    return r if _close(g, r * w) else None


def _near(r, target):
    """True when the ratio r (possibly None) is target, up to rounding."""
    return r is not None and bool(np.isclose(r, target, rtol=1e-6))


class _NotWritten(Exception):
    """Raised by _call when the learner's function is still the NotImplementedError stub."""


class _Crashed(Exception):
    """Raised by _call when the learner's function raised; the message says where and what."""


class _Problem(Exception):
    """A wrong result found while inspecting mini-batches; the message says what."""


def _call(fn, *args, owner=None):
    """fn(*args), with NumPy's warnings silenced (so the check stays one line).

    Raises _NotWritten for the stub, _Crashed (one-line message) for any other exception,
    naming the line of `owner` (default fn: the learner's function) that raised.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args)
    except NotImplementedError:
        raise _NotWritten from None
    except Exception as error:  # the learner's bug, reported in one line
        raise _Crashed(_where(error, fn if owner is None else owner)) from None


def _where(error, fn):
    """'line 3 of your function (`code`) raised ValueError: ...' for an exception from fn."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    what = f"{type(error).__name__}: {text}" if text else type(error).__name__
    code = getattr(fn, "__code__", None)
    lineno, tb = None, error.__traceback__
    while tb is not None:  # the last frame that runs the learner's own function
        if tb.tb_frame.f_code is code:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is None:
        return f"calling your function raised {what} (check its arguments)"
    source = linecache.getline(code.co_filename, lineno).strip()
    source = f" (`{source}`)" if source and len(source) <= 70 else ""
    return f"line {lineno - code.co_firstlineno + 1} of your function{source} raised {what}"


def _same(a, b):
    """True when input a was left as b (exactly, up to the last bits of rounding)."""
    if isinstance(b, Mapping):
        return isinstance(a, Mapping) and all(k in a and _same(a[k], b[k]) for k in b)
    if isinstance(b, np.ndarray):
        a = np.asarray(a)
        if a.shape != b.shape:
            return False
        if b.dtype.kind == "f":
            return bool(np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True))
        return bool(np.array_equal(a, b))
    return True


def _changed(args, inputs, names):
    """'changed its input Z in place ...' if the learner's function modified an argument."""
    for arg, original, name in zip(args, inputs, names, strict=True):
        if isinstance(original, Mapping):
            for key in original:
                if not _same(arg.get(key), original[key]):
                    return (f"changed {name}[{key!r}] in place; compute new arrays and leave "
                            f"{name} as it was")
        elif not _same(arg, original):
            return f"changed its input {name} in place; compute a new array and leave {name} as it was"
    return None


def _describe(x):
    """A few words for what a function returned: 'a list', 'an int', 'a NumPy array', 'None'."""
    if x is None:
        return "None"
    kind = "NumPy array" if isinstance(x, np.ndarray) else type(x).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _mismatch(got, want, label="the result", labels=None, exact_dtype=False):
    """A one-line description of how `got` differs from `want`, or None if it matches.

    want: an array, a float, a dict of arrays or a tuple of arrays (labels names its items).
    Checks in order: type, shape (naming a transpose), dtype kind, NaN / inf, values.
    """
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            return f"returned {_describe(got)}; expected a dict with keys {', '.join(want)}"
        missing = [k for k in want if k not in got]
        if missing:
            return (f"the returned dict has no {', '.join(map(repr, missing))} "
                    f"(expected keys {', '.join(want)})")
        for key in want:
            problem = _mismatch(got[key], want[key], key, exact_dtype=exact_dtype)
            if problem:
                return problem
        return None
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"returned {_describe(got)}; expected a pair ({', '.join(labels)})"
        for item, expected, name in zip(got, want, labels, strict=True):
            problem = _mismatch(item, expected, name, exact_dtype=exact_dtype)
            if problem:
                return problem
        return None
    if isinstance(want, float):
        if got is None or np.ndim(got) != 0:
            shape = "" if got is None else f" of shape {np.shape(got)}"
            return f"{label} is {_describe(got)}{shape}; expected a single number"
        try:
            value = float(got)
        except (TypeError, ValueError):
            return f"{label} is {_describe(got)}; expected a single number"
        if not np.isfinite(value):
            return f"{label} is {value}; expected a finite number ({want:.6g})"
        if not _close(value, want):
            return f"{label} is {value:.6g}; expected {want:.6g}"
        return None
    if not isinstance(got, np.ndarray):
        return f"{label} is {_describe(got)}; expected a NumPy array of shape {want.shape}"
    if got.shape != want.shape:
        if got.shape == want.shape[::-1] and _close(got.T, want):
            return f"{label} is transposed: shape {got.shape}, expected {want.shape}"
        return f"{label} has shape {got.shape}, expected {want.shape}"
    # counts (integer results) may come back as floats; floats must be floats
    kinds = {"f": "f", "i": "iuf", "u": "iuf", "b": "b"}.get(want.dtype.kind, want.dtype.kind)
    if got.dtype.kind not in kinds or (exact_dtype and got.dtype != want.dtype):
        expected = want.dtype if exact_dtype else {"f": "floats", "iuf": "integers", "b": "booleans"}[kinds]
        return f"{label} has dtype {got.dtype}, expected {expected}"
    bad = ~np.isfinite(got) & np.isfinite(want) if got.dtype.kind == "f" else np.zeros(got.shape, bool)
    if bad.any():
        return f"{label} contains NaN or inf (at index {_index(np.argwhere(bad)[0])})"
    if not _close(got, want):
        diff = np.abs(got.astype(np.float64) - want)
        diff[np.isnan(diff)] = np.inf  # NaN where mnistlib has a number...
        diff[np.isnan(got) & np.isnan(want)] = 0  # ...but NaN in both places is agreement
        at = np.unravel_index(np.argmax(diff), diff.shape)
        return (f"{label} differs from mnistlib's: at index {_index(at)} yours is "
                f"{got[at]:.6g}, expected {want[at]:.6g}")
    return None


def _index(ix):
    """An index tuple as the learner would type it: (2, 1), or 3 for 1-D."""
    ix = tuple(int(i) for i in ix)
    return ix[0] if len(ix) == 1 else ix


class _Case:
    """One test of an exercise: the arguments, their names, and the mistakes it recognises.

    args: the arguments (deep-copied for every call, so nothing is shared), or
    make: a function returning fresh arguments (needed when an argument closes over another).
    diagnoses: (test, message) pairs tried in order when the result is wrong; test(t) and
    a callable message(t) get t with t.got, t.want, t.args (the learner's arguments after
    the call) and t.inputs (untouched arguments).
    """

    def __init__(self, args=None, names=(), diagnoses=(), make=None, labels=None, exact_dtype=False):
        self.make = make if make is not None else (lambda: copy.deepcopy(args))
        self.names, self.diagnoses, self.labels = names, diagnoses, labels
        self.exact_dtype = exact_dtype


def _exercise(name, fn, reference, cases, verified):
    """Run every case, print one line, and return fn if it passed them all, else reference."""
    if not callable(fn):
        _report(False, name, f"expected your function, got {_describe(fn)}" + FALLBACK)
        return reference
    for case in cases:
        args = case.make()
        try:
            got = _call(fn, *args)
        except _NotWritten:
            _report(None, name, NOT_WRITTEN + FALLBACK)
            return reference
        except _Crashed as crash:
            _report(False, name, str(crash) + FALLBACK)
            return reference
        t = types.SimpleNamespace(got=got, want=reference(*case.make()), args=args, inputs=case.make())
        problem = _problem(t, case)
        if problem:
            _report(False, name, problem + FALLBACK)
            return reference
    _report(True, name, verified)
    return fn


def _problem(t, case):
    """The message for a wrong result (first matching diagnosis, else the plain mismatch), or None."""
    if t.got is None:
        return "returned None: did you forget `return`?"
    plain = (_mismatch(t.got, t.want, labels=case.labels, exact_dtype=case.exact_dtype)
             or _changed(t.args, t.inputs, case.names))
    if plain is None:
        return None
    for test, message in case.diagnoses:
        if _holds(test, t):
            return message(t) if callable(message) else message
    return plain


def _holds(test, t):
    """test(t), where a test that raises (e.g. on a wrong shape) simply does not hold."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return bool(test(t))
    except Exception:
        return False


def _shape(x):
    """np.shape(x), or None for things that have none."""
    try:
        return np.shape(x)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------
# 01 Loading and exploring
# ---------------------------------------------------------------------------------------

def one_hot(fn):
    """Check one_hot(y, num_classes=10) -> Y (N, num_classes) float, Y[i, y[i]] = 1.

    The labels deliberately lack 8 and 9, so a width taken from the data shows.
    """
    rng = _rng()
    y = rng.integers(0, 8, N).astype(np.uint8)  # uint8, as the loaders return labels
    y[0] = 7  # the largest label is 7: y.max() + 1 would give 8 columns
    y12 = np.r_[9, rng.integers(0, 10, N - 1)].astype(np.uint8)  # 0..9, so a hard-coded 10 runs
    common = [
        (lambda t: t.got.shape == (len(t.inputs[0]), t.inputs[0].max() + 1),
         lambda t: (f"has {t.got.shape[1]} columns: sized by y.max() + 1? A batch without "
                    f"{t.inputs[0].max() + 1}s still needs num_classes = {t.want.shape[1]} columns")),
        (lambda t: t.got.shape == t.want.shape[::-1],
         lambda t: f"is transposed: one row per example, shape {t.want.shape}, not {t.got.shape}"),
        (lambda t: t.got.shape == t.want.shape and not np.all(t.got.sum(axis=1) == 1),
         "each row must hold exactly one 1, in column y[i]: Y[np.arange(N), y] = 1 "
         "(Y[:, y] = 1 fills whole columns)"),
        (lambda t: t.got.dtype.kind != "f",
         lambda t: f"has dtype {t.got.dtype}; make it float (mnistlib uses float32), as it "
                   f"is multiplied with probabilities"),
    ]
    cases = [
        _Case((y,), ("y",), common),
        _Case((y12, 12), ("y", "num_classes"), [
            (lambda t: t.got.shape == (N, 10),
             "ignores num_classes: asked for 12 columns, it gave 10"), *common]),
    ]
    return _exercise("one_hot", fn, _preprocess.one_hot, cases,
                     f"({N}, 10) floats with a single 1 per row in column y[i]; 10 columns even "
                     f"with no 8s or 9s in y; num_classes=12 gives 12")


def normalize(fn):
    """Check normalize(X): uint8 pixels (N, 784) in 0..255 -> (N, 784) float32 X / 255.

    The batch's largest pixel is 200, so dividing by X.max() instead of 255 shows.
    """
    rng = _rng()
    X = rng.integers(0, 201, size=(N, 784), dtype=np.uint8)
    X[0, 0], X[1, 1] = 200, 0
    as_float = X.astype(np.float64)
    diagnoses = [
        (lambda t: _close(t.got, as_float),
         "values are still 0..255: divide by 255"),
        (lambda t: _close(t.got, as_float / 200),
         "divided by this batch's X.max() (200): divide by 255, the largest possible pixel, "
         "so that every batch is scaled the same way"),
        (lambda t: _close(t.got, X // 255),
         "integer division (//) rounds every pixel down to 0: use / 255"),
        (lambda t: _close(t.got, as_float / 256),
         "divided by 256: the largest pixel value is 255"),
        (lambda t: np.allclose(t.got, (as_float - as_float.mean()) / as_float.std(), atol=1e-3),
         "standardised (mean 0, std 1): this exercise scales to [0, 1], X / 255"),
        (lambda t: t.got.dtype == np.float64 and _close(t.got, t.want),
         "returned float64: mnistlib's normalize returns float32, half the memory "
         "(the training images take 188 MB instead of 376 MB): X.astype(np.float32) / 255"),
        (lambda t: t.got.dtype.kind in "iub",
         lambda t: f"returned dtype {t.got.dtype}: pixels in [0, 1] must be floats (float32)"),
    ]
    return _exercise("normalize", fn, _preprocess.normalize,
                     [_Case((X,), ("X",), diagnoses, exact_dtype=True)],
                     f"float32 X / 255 in [0, 1] for a uint8 ({N}, 784) batch whose largest "
                     f"pixel is 200 (not rescaled by the batch max); X unchanged")


# ---------------------------------------------------------------------------------------
# 02 Forward propagation
# ---------------------------------------------------------------------------------------

def _pre_activations(rng):
    """Z (N, H) float64 with both signs and a few exact zeros (where g' needs a convention)."""
    Z = rng.normal(size=(N, H))
    Z[0, 0], Z[3, 1], Z[5, 2] = 0.0, 0.0, 0.0
    Z[1] = np.abs(Z[1]) + 0.1
    Z[2] = -np.abs(Z[2]) - 0.1
    return Z


def relu(fn):
    """Check relu(Z) = max(0, Z) elementwise, a new array the shape of Z."""
    Z = _pre_activations(_rng())
    diagnoses = [
        (lambda t: _close(t.got, Z.max(axis=0)),
         "np.max(Z, 0) is the largest value of each column; use np.maximum(Z, 0), elementwise"),
        (lambda t: _close(t.got, Z > 0),
         "returned the 0/1 mask (Z > 0), which is relu_grad; relu keeps the value: np.maximum(Z, 0)"),
        (lambda t: _close(t.got, np.minimum(Z, 0)),
         "kept the negative part: relu is np.maximum(Z, 0)"),
        (lambda t: _close(t.got, Z),
         "returned Z unchanged: negative entries must become 0"),
        (lambda t: _close(t.got, np.abs(Z)),
         "returned |Z|: negative entries must become 0, not positive"),
        (lambda t: _close(t.args[0], t.want),
         "set the negatives of Z to 0 in place (Z[Z < 0] = 0): the caller's Z changed; "
         "return a new array, np.maximum(Z, 0)"),
    ]
    return _exercise("relu", fn, _activations.relu, [_Case((Z,), ("Z",), diagnoses)],
                     f"max(0, Z) elementwise on a random ({N}, {H}) array; Z unchanged")


def relu_grad(fn):
    """Check relu_grad(Z): 1.0 where Z > 0, else 0.0 (also at Z = 0, as in mnistlib), float.

    At exactly Z = 0 ReLU has no slope; mnistlib (like PyTorch) takes 0 there, and so
    does this check: the inputs contain a few exact zeros.
    """
    Z = _pre_activations(_rng())
    diagnoses = [
        (lambda t: _close(t.got, Z >= 0),
         "gives 1 at Z = 0 (Z >= 0?): ReLU has no slope at 0 and mnistlib takes it as 0: "
         "(Z > 0).astype(Z.dtype)"),
        (lambda t: _close(t.got, np.maximum(Z, 0)),
         "returned relu(Z) itself; the derivative is the slope: 1 where Z > 0, else 0"),
        (lambda t: _close(t.got, Z),
         "returned Z; the derivative is 1 where Z > 0, else 0"),
        (lambda t: _close(t.got, np.sign(Z)),
         "np.sign gives -1 for negative Z; the slope there is 0: (Z > 0).astype(Z.dtype)"),
        (lambda t: t.got.dtype == bool and _close(t.got, t.want),
         "returned booleans: make them numbers of Z's dtype, (Z > 0).astype(Z.dtype)"),
    ]
    return _exercise("relu_grad", fn, _activations.relu_grad, [_Case((Z,), ("Z",), diagnoses)],
                     f"1.0 where Z > 0 and 0.0 elsewhere, including at Z = 0, in Z's dtype, on a "
                     f"({N}, {H}) array; Z unchanged")


def _logits(rng):
    """Three sets of logits (N, K): ordinary; all near +1000; far apart (rows 0, 2, 4
    near +1000, rows 1, 3, 5 near -1000, row 6 spanning -1000..+1000)."""
    ordinary = rng.normal(0, 2, size=(N, K))
    high = 1000 + rng.normal(size=(N, K))
    far = rng.normal(size=(N, K))
    far[0::2] += 1000  # rows 0, 2, 4, 6 near +1000
    far[1::2] -= 1000  # rows 1, 3, 5 near -1000
    far[N - 1, :2] = [1000.0, -1000.0]  # one row spanning -1000..+1000
    return ordinary, high, far


def _wrong_rows(t):
    """Rows of the learner's result that contain NaN or inf."""
    bad = ~np.isfinite(np.asarray(t.got, dtype=np.float64))
    return set(np.flatnonzero(bad.any(axis=1)))


def softmax(fn):
    """Check softmax(Z): rows of probabilities (N, K), max-shifted so that it never overflows."""
    ordinary, high, far = _logits(_rng())
    shape_mistakes = [
        (lambda t: t.got.shape == t.want.shape and _sums_to_one(t.got, axis=0),
         "normalised each column (axis=0): each row (one example) must sum to 1, sum(axis=1, keepdims=True)"),
        (lambda t: _close(t.got.sum(), 1),
         "normalised by the sum of the whole array: each row must sum to 1, sum(axis=1, keepdims=True)"),
        (lambda t: _close(t.got / t.want, np.exp(t.inputs[0]) / t.want)
         or _close(t.got, np.exp(t.inputs[0] - t.inputs[0].max(axis=1, keepdims=True))),
         "returned exp(Z) without dividing by the row sums: rows must sum to 1"),
        (lambda t: t.got.shape == t.want.shape[::-1],
         lambda t: f"is transposed: one row per example, shape {t.want.shape}, not {t.got.shape}"),
    ]
    cases = [
        _Case((ordinary,), ("Z",), shape_mistakes),
        _Case((high,), ("Z",), [
            (lambda t: _wrong_rows(t),
             "overflow at logits near +1000 (exp(1000) = inf, inf / inf = NaN): subtract each "
             "row's max first, Z - Z.max(axis=1, keepdims=True)")]),
        _Case((far,), ("Z",), [
            (lambda t: _wrong_rows(t) and _wrong_rows(t) <= {1, 3, 5},
             "NaN in rows whose logits are all near -1000: you subtracted the max of the whole "
             "array; subtract each row's own max, Z.max(axis=1, keepdims=True)"),
            (lambda t: _wrong_rows(t),
             "NaN or inf for logits far apart (-1000 and +1000 in one row): shift by each row's "
             "max, so the largest exponent is exp(0) = 1"),
        ]),
    ]
    return _exercise("softmax", fn, _losses.softmax, cases,
                     f"rows sum to 1 and match mnistlib on random ({N}, {K}) logits; finite and "
                     f"right at logits of ±1000 (max-shifted per row); Z unchanged")


def cross_entropy(fn):
    """Check cross_entropy(Z, Y): mean over rows of -sum(Y * log softmax(Z)), from the logits."""
    rng = _rng()
    ordinary, high, far = _logits(rng)
    Y = _preprocess.one_hot(rng.integers(0, K, N), K).astype(np.float64)
    Y_far = np.eye(K)[[0, 1, 2, 3, 0, 1, 1]]  # the last row's true class sits at -1000
    scale_mistakes = [
        (lambda t: _near(_ratio(t.got, t.want), N),
         f"summed over the rows: take the mean, divide by N = {N} (the number of rows)"),
        (lambda t: _near(_ratio(t.got, t.want), 1 / K),
         f"averaged over all N * K = {N * K} entries (np.mean of the ({N}, {K}) array): sum "
         f"and divide by N = {N}, the number of rows"),
        (lambda t: _near(_ratio(t.got, t.want), -1),
         "has the wrong sign: the loss is MINUS the mean of sum(Y * log p), a positive number"),
        (lambda t: _shape(t.got) == (N,),
         f"returned one loss per row (shape ({N},)): return their mean, a single number"),
        (lambda t: _shape(t.got) == (N, K),
         f"returned a ({N}, {K}) array: sum each row's Y * log p and average over the rows"),
    ]
    cases = [
        _Case((ordinary, Y), ("Z", "Y"), scale_mistakes),
        _Case((high, Y), ("Z", "Y"), [
            (lambda t: not np.isfinite(float(t.got)),
             "overflow at logits near +1000 (exp(1000) = inf): subtract each row's max first "
             "(log-sum-exp)")]),
        _Case((far, Y_far), ("Z", "Y"), [
            (lambda t: not np.isfinite(float(t.got)),
             "not finite at logits of ±1000: log(softmax(Z)) takes log(0) once a probability "
             "underflows to 0; compute log-softmax from the logits: "
             "Z - max - log(sum(exp(Z - max)))"),
            (lambda t: float(t.got) < t.want / 2,
             lambda t: (f"right on ordinary logits but {float(t.got):.4g} instead of "
                        f"{t.want:.6g} at logits of ±1000: log(p + tiny) or clipping p caps "
                        f"each example's loss; compute log-softmax from the logits")),
        ]),
    ]
    return _exercise("cross_entropy", fn, _losses.cross_entropy, cases,
                     f"the mean over {N} rows matches mnistlib on random logits, and it stays "
                     f"finite and exact at logits of ±1000; Z and Y unchanged")


def _network_inputs(rng):
    """params (D=5, H=3, K=4) float64, X (N, D), one-hot Y (N, K).

    b1 is chosen so that every hidden unit is active for 3 rows and inactive for 4: a
    missing or misplaced ReLU gate then changes every column of dW1.
    """
    X = rng.uniform(0, 1, size=(N, D))
    W1 = rng.normal(size=(D, H))
    XW = np.sort(X @ W1, axis=0)
    params = {"W1": W1, "b1": -(XW[3] + XW[4]) / 2,
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    Y = np.eye(K)[rng.integers(0, K, N)]
    return params, X, Y


def _sums_to_one(A, axis):
    """True when A sums to 1 along axis (A: a 2-D array)."""
    return _close(A.sum(axis=axis), np.ones(A.shape[1 - axis]))


def forward(fn):
    """Check forward(params, X) -> the cache {"X", "Z1", "A1", "Z2", "A2"}, as network.forward."""
    params, X, _ = _network_inputs(_rng())
    ref = _network.forward(params, X)
    Z1, A1, Z2, A2 = ref["Z1"], ref["A1"], ref["Z2"], ref["A2"]
    diagnoses = [
        (lambda t: isinstance(t.got, (tuple, list)),
         "returned a tuple: return the cache dict {'X': X, 'Z1': Z1, 'A1': A1, 'Z2': Z2, "
         "'A2': A2}, which backward() reads"),
        (lambda t: isinstance(t.got, Mapping) and "X" not in t.got
         and all(k in t.got for k in ("Z1", "A1", "Z2", "A2")),
         "the cache has no 'X': backward() needs the input too, so include 'X': X"),
        (lambda t: _close(t.got["A1"], Z1),
         "A1 equals Z1: apply the activation, A1 = relu(Z1)"),
        (lambda t: _close(t.got["Z2"], Z1 @ params["W2"] + params["b2"]),
         "Z2 was computed from Z1: the second layer takes the activations, Z2 = A1 @ W2 + b2"),
        (lambda t: _close(t.got["Z1"], X @ params["W1"]),
         "Z1 lacks the bias: Z1 = X @ W1 + b1"),
        (lambda t: _close(t.got["Z2"], A1 @ params["W2"]),
         "Z2 lacks the bias: Z2 = A1 @ W2 + b2"),
        (lambda t: _close(t.got["A2"], Z2),
         "A2 holds the logits: apply softmax, A2 = softmax(Z2)"),
        (lambda t: _sums_to_one(t.got["A2"], axis=0),
         "A2 is normalised over each column: softmax works on each row (one example)"),
        (lambda t: _close(t.got["Z1"], A1) or _close(t.got["Z2"], A2),
         "the cache swaps pre-activations and activations: Z is before g (or softmax), A after"),
    ]
    return _exercise("forward", fn, _network.forward,
                     [_Case((params, X), ("params", "X"), diagnoses)],
                     f"Z1, A1 ({N}, {H}), Z2, A2 ({N}, {K}) and X in the cache match mnistlib "
                     f"for X ({N}, {D}); params and X unchanged")


# ---------------------------------------------------------------------------------------
# 03 Backpropagation
# ---------------------------------------------------------------------------------------

def _backward_variant(params, cache, Y, gate="relu'(Z1)", dW2_input="A1"):
    """network.backward with one deliberate change, to recognise classic mistakes.

    gate: what dA1 is multiplied by to get dZ1: "relu'(Z1)" (right), "nothing",
    "relu'(dA1)", "A1". dW2_input: "A1" (right) or "Z1".
    """
    X, A2 = cache["X"], cache["A2"]
    dZ2 = (A2 - Y) / len(X)
    dW2 = cache[dW2_input].T @ dZ2
    dA1 = dZ2 @ params["W2"].T
    factor = {"relu'(Z1)": _activations.relu_grad(cache["Z1"]), "nothing": 1.0,
              "relu'(dA1)": _activations.relu_grad(dA1), "A1": cache["A1"]}[gate]
    dZ1 = dA1 * factor
    return {"dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0), "dW2": dW2, "db2": dZ2.sum(axis=0)}


def _factor(r, what):
    """Why `what` (e.g. "every gradient", "db2") comes out r times mnistlib's, in words."""
    if _near(r, N):
        return (f"{what} is {N} times too large: divide by the batch size N = {N}, the number of rows "
                f"(the loss is a mean), dZ2 = (A2 - Y) / N")
    if _near(r, 1 / N):
        return f"{what} is {N} times too small: divided by the batch size N = {N} twice"
    if _near(r, -1):
        return f"{what} has the wrong sign: dZ2 = A2 - Y (then / N), not Y - A2"
    for size, axis in ((D, "X.shape[1], the number of inputs"),
                       (K, "Y.shape[1], the number of classes"), (H, "the number of hidden units")):
        if _near(r, N / size):
            return (f"{what} is divided by {size} = {axis}; divide by the batch size N, the number of "
                    f"examples, X.shape[0] = {N}")
    return (f"{what} is {r:.4g} times mnistlib's, as if divided by {N / r:.4g}; divide by the batch size N, "
            f"the number of rows of this batch, X.shape[0] = {N} (a global N from the whole data set?)")


def _scale_message(t):
    """Name the factor by which every gradient (or one of them) is off, or None."""
    ratios = {k: _ratio(t.got[k], t.want[k]) for k in t.want}
    off = [k for k, r in ratios.items() if r is not None and not _near(r, 1)]
    if not off:
        return None
    if len(off) == len(ratios) and all(_near(r, ratios["dW1"]) for r in ratios.values()):
        return _factor(ratios["dW1"], "every gradient")
    return _factor(ratios[off[0]], off[0])


def backward(fn):
    """Check backward(params, cache, Y) -> {"dW1", "db1", "dW2", "db2"}, as network.backward.

    Gating with relu_grad(A1) instead of relu_grad(Z1) passes: for ReLU, A1 > 0 exactly
    where Z1 > 0 (for ELU or sigmoid it would not).
    """
    params, X, Y = _network_inputs(_rng())
    cache = _network.forward(params, X)

    def matches(**change):
        variant = _backward_variant(params, cache, Y, **change)
        return lambda t: all(_close(t.got[k], variant[k]) for k in ("dW1", "db1", "dW2", "db2"))

    def db_message(key, size):
        def test(t):
            return _shape(t.got[key]) != (size,)

        def message(t):
            shape = _shape(t.got[key])
            if shape in ((), (1,), (1, 1)):
                return (f"{key} is a single number, the sum over all of dZ{key[-1]}: sum over "
                        f"the rows only, dZ{key[-1]}.sum(axis=0), shape ({size},)")
            if shape == (N,):
                return (f"{key} has shape ({N},): that sums over axis=1 (each row); sum over "
                        f"the rows, axis=0, shape ({size},)")
            if shape == (1, size):
                return (f"{key} has shape (1, {size}): drop keepdims=True, it must be ({size},) "
                        f"like b{key[-1]}")
            return f"{key} has shape {shape}, expected ({size},) like b{key[-1]}"
        return test, message

    def transposed(key):
        return (lambda t: _shape(t.got[key]) == t.want[key].shape[::-1],
                lambda t: (f"{key} is transposed: shape {_shape(t.got[key])}, expected "
                           f"{t.want[key].shape} like {key[1:]}: "
                           + ("X.T @ dZ1" if key == "dW1" else "A1.T @ dZ2")))

    diagnoses = [
        (lambda t: isinstance(t.got, (tuple, list)),
         "returned a tuple: return a dict {'dW1': dW1, 'db1': db1, 'dW2': dW2, 'db2': db2}"),
        (lambda t: isinstance(t.got, Mapping) and "W1" in t.got and "dW1" not in t.got,
         "the gradients must be named 'dW1', 'db1', 'dW2', 'db2' (update() looks up 'd' + name)"),
        db_message("db1", H), db_message("db2", K),
        transposed("dW1"), transposed("dW2"),
        (lambda t: _shape(t.got["dW1"]) == (H, H),
         f"dW1 has shape ({H}, {H}): the first layer's input is X, so dW1 = X.T @ dZ1, ({D}, {H})"),
        (lambda t: _scale_message(t) is not None, _scale_message),
        (matches(gate="nothing"),
         "dW1 and db1 lack the ReLU gate: dZ1 = (dZ2 @ W2.T) * relu_grad(Z1)"),
        (matches(gate="relu'(dA1)"),
         "the ReLU gate is applied to the wrong array: multiply by relu_grad(Z1), the "
         "pre-activation, not relu_grad(dA1)"),
        (matches(gate="A1"),
         "dZ1 multiplies by A1 = relu(Z1): it must be the derivative, relu_grad(Z1), 1 or 0"),
        (matches(dW2_input="Z1"),
         "dW2 uses Z1; the second layer's input is the activation: dW2 = A1.T @ dZ2"),
    ]
    return _exercise("backward", fn, _network.backward,
                     [_Case((params, cache, Y), ("params", "cache", "Y"), diagnoses)],
                     f"dW1 ({D}, {H}), db1 ({H},), dW2 ({H}, {K}), db2 ({K},) match mnistlib "
                     f"for N={N} examples; inputs unchanged")


def _f_for_gradients(A, B):
    """A scalar function of theta (3, 5) with curvature everywhere and coupled entries."""
    def f_of(theta):
        return float((A * theta ** 2).sum() + np.sin(theta @ B).sum())
    return f_of


def numerical_gradient(fn):
    """Check numerical_gradient(f, theta, eps): centred differences (f(theta+eps) - f(theta-eps)) / (2 eps).

    f is a function of no arguments that reads theta, so theta must be perturbed in place, entry by
    entry, and restored. Two cases: eps = 1e-3 (a one-sided difference is off by ~1e-3
    there) and eps = 0.1 (a function that ignores eps is off by ~1e-3 there).
    """
    rng = _rng()
    theta0 = rng.normal(size=(H, D))
    A, B = rng.uniform(0.5, 1.5, size=(H, D)), rng.normal(size=(D, K))
    f_of = _f_for_gradients(A, B)

    def case(eps):
        def make():
            theta = theta0.copy()
            return (lambda: f_of(theta)), theta, eps

        def one_sided(sign):
            out = np.empty_like(theta0)
            for ix in np.ndindex(theta0.shape):
                Q = theta0.copy()
                Q[ix] += sign * eps
                out[ix] = sign * (f_of(Q) - f_of(theta0)) / eps
            return out

        def all_at_once():
            return np.full(theta0.shape, (f_of(theta0 + eps) - f_of(theta0 - eps)) / (2 * eps))

        exact = 2 * A * theta0 + np.cos(theta0 @ B) @ B.T
        return _Case(make=make, names=("f", "theta", "eps"), diagnoses=[
            (lambda t: not np.allclose(t.args[1], theta0, rtol=0, atol=eps / 100),
             "left theta perturbed: after computing f at theta[ix] + eps and theta[ix] - eps, put the "
             "entry back, theta[ix] = old"),
            (lambda t: _near(_ratio(t.got, t.want), 2),
             "twice too large: a centred difference divides by 2 * eps, the distance between "
             "theta + eps and theta - eps"),
            (lambda t: _close(t.got, one_sided(+1)) or _close(t.got, one_sided(-1)),
             "one-sided: (f(theta + eps) - f(theta)) / eps is off by O(eps); use the centred "
             "(f(theta + eps) - f(theta - eps)) / (2 * eps), off by only O(eps^2)"),
            (lambda t: _close(t.got, one_sided(+1) / 2),
             "f(theta - eps) was evaluated at theta itself: set theta[ix] = old - eps before the second "
             "f(), then restore theta[ix] = old"),
            (lambda t: not np.any(t.got),
             "all zeros: f() reads theta itself, so perturb theta in place (theta[ix] = old + eps); a "
             "perturbed copy is never seen by f"),
            (lambda t: _close(t.got, all_at_once()),
             "perturbed every entry of theta at once: perturb one entry at a time (np.ndindex(theta.shape))"),
            (lambda t: np.isnan(t.got).any() and not np.isnan(t.want).any(),
             "some entries are NaN, never filled: loop over every index, np.ndindex(theta.shape)"),
            (lambda t: np.allclose(t.got, exact, rtol=1e-5, atol=1e-6),
             f"ignores its eps argument: at eps = {eps:g} it returns the exact gradient (as "
             f"with a tiny step), not the centred difference with step {eps:g}"),
        ])

    return _exercise("numerical_gradient", fn, _gradcheck.numerical_gradient,
                     [case(1e-3), case(0.1)],
                     f"centred differences (f(theta + eps) - f(theta - eps)) / (2 eps) match mnistlib for "
                     f"a ({H}, {D}) theta at eps = 1e-3 and 0.1; theta restored")


# ---------------------------------------------------------------------------------------
# 04 Training
# ---------------------------------------------------------------------------------------

def update(fn):
    """Check update(params, grads, lr) -> new params, each theta - lr * dtheta, as network.update."""
    rng = _rng()
    params, _, _ = _network_inputs(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    lr = 0.3
    diagnoses = [
        (lambda t: all(_close(t.got[k], params[k] + lr * grads["d" + k]) for k in params),
         "moved uphill: theta + lr * dtheta increases the loss; gradient descent is theta - lr * dtheta"),
        (lambda t: all(_close(t.got[k], params[k] - grads["d" + k]) for k in params),
         "ignores lr: each step is theta - lr * dtheta"),
        (lambda t: all(_close(t.got[k], -lr * grads["d" + k]) for k in params),
         "returned -lr * dtheta, the step alone: add it to theta, theta - lr * dtheta"),
        (lambda t: isinstance(t.got, Mapping) and any(_close(t.got[k], params[k]) for k in params),
         lambda t: (f"{[k for k in params if _close(t.got[k], params[k])][0]} was not updated: "
                    f"every parameter takes a step, theta - lr * dtheta")),
        (lambda t: isinstance(t.got, Mapping) and "dW1" in t.got and "W1" not in t.got,
         "returned keys like 'dW1': the new parameters keep the names 'W1', 'b1', 'W2', 'b2'"),
        (lambda t: not _same(t.args[0], t.inputs[0]) and _mismatch(t.got, t.want) is None,
         "changed params in place (theta -= lr * dtheta): return new arrays, "
         "{name: theta - lr * grads['d' + name] ...}, and leave params as it was"),
    ]
    return _exercise("update", fn, _network.update,
                     [_Case((params, grads, lr), ("params", "grads", "lr"), diagnoses)],
                     f"every parameter becomes theta - lr * dtheta (lr = {lr}), as new arrays; params "
                     f"and grads unchanged")


def iterate_minibatches(fn):
    """Check iterate_minibatches(X, Y, batch_size, rng), which yields (Xb, Yb) pairs.

    Verified: every row exactly once per pass, batches of batch_size with a smaller last
    one, each Xb row still paired with its Y row, a shuffled order drawn from rng (the
    same seed gives the same order, another seed another), X and Y unchanged.
    The reference is mnistlib.train.iterate_minibatches, which train() uses.
    """
    name, n, batch_size, width = "iterate_minibatches", 23, 5, 6  # all different
    sizes = [5, 5, 5, 5, 3]
    rng = _rng()
    X = np.arange(n)[:, None] + rng.uniform(0.1, 0.9, size=(n, width))  # row i lies in (i, i+1)
    Y = rng.normal(size=(n, K))  # random rows, so a broken pairing shows

    def run(seed):
        """The batches of one pass with default_rng(seed), checked for pairing, sizes, coverage."""
        Xc, Yc = X.copy(), Y.copy()
        batches = _call(fn, Xc, Yc, batch_size, np.random.default_rng(seed))
        if batches is None:
            raise _Problem("returned None: yield the batches (or return a list of (Xb, Yb) pairs)")
        if isinstance(batches, tuple) and len(batches) == 2 and isinstance(batches[0], np.ndarray):
            raise _Problem("returned a single (Xb, Yb) pair: yield one pair per batch, in a loop")
        if not isinstance(batches, Iterable):
            raise _Problem(f"returned {_describe(batches)}; yield (Xb, Yb) pairs, one per batch")
        batches = _call(list, batches, owner=fn)  # a generator runs the learner's code only now
        if not _same(Xc, X) or not _same(Yc, Y):
            raise _Problem("shuffled X or Y in place: the caller's data changed; index with a "
                           "permutation instead, X[rows], Y[rows]")
        return _order(batches, X, Y, n, batch_size, sizes)

    if not callable(fn):
        _report(False, name, f"expected your function, got {_describe(fn)}" + FALLBACK)
        return _iterate_minibatches
    try:
        order, again, other = run(1), run(1), run(2)
    except _NotWritten:
        _report(None, name, NOT_WRITTEN + FALLBACK)
        return _iterate_minibatches
    except (_Crashed, _Problem) as problem:
        _report(False, name, str(problem) + FALLBACK)
        return _iterate_minibatches
    problem = None
    if order == list(range(n)):
        problem = "rows come in their original order: shuffle them, rows = rng.permutation(N)"
    elif again != order:
        problem = ("ignores rng: the same seed gave different orders; draw the order from rng "
                   "(rng.permutation(N)), not from np.random")
    elif other == order:
        problem = ("ignores rng: two different seeds gave the same order; draw the order from "
                   "the rng argument")
    if problem:
        _report(False, name, problem + FALLBACK)
        return _iterate_minibatches
    _report(True, name, f"{n} rows in batches of {', '.join(map(str, sizes))}: each row exactly "
                        f"once, X and Y rows kept together, shuffled with rng; X and Y unchanged")
    return fn


def _order(batches, X, Y, n, batch_size, sizes):
    """The row order the batches visit, after checking pairing, sizes and coverage."""
    order, got_sizes = [], []
    for b, item in enumerate(batches):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise _Problem(f"batch {b} is {_describe(item)}: yield pairs (Xb, Yb)")
        Xb, Yb = (np.asarray(a) for a in item)
        if Xb.ndim != 2 or Xb.shape[1] != X.shape[1]:
            raise _Problem(f"batch {b}: Xb has shape {Xb.shape}; rows are examples, "
                           f"({batch_size}, {X.shape[1]})")
        if Yb.shape != (len(Xb),) + Y.shape[1:]:
            raise _Problem(f"batch {b}: Xb has {len(Xb)} rows but Yb has shape {Yb.shape}")
        rows = np.floor(Xb[:, 0]).astype(int)
        if not (np.all((rows >= 0) & (rows < n)) and _close(Xb, X[rows])):
            raise _Problem(f"batch {b}: Xb's rows are not rows of X")
        if not _close(Yb, Y[rows]):
            raise _Problem(f"batch {b}: Yb's rows do not belong with Xb's: shuffle X and Y with "
                           f"the same permutation, X[rows], Y[rows]")
        order.extend(rows.tolist())
        got_sizes.append(len(Xb))
    counts = np.bincount(order, minlength=n) if order else np.zeros(n, int)
    if got_sizes == sizes[:-1]:
        raise _Problem(f"dropped the last, smaller batch ({sizes[-1]} rows): every row must be "
                       f"used each pass, range(0, N, batch_size)")
    if counts.max() > 1:
        raise _Problem("some rows come twice and others never: draw a permutation, "
                       "rng.permutation(N), not independent random indices")
    if counts.min() < 1:
        raise _Problem(f"{int((counts == 0).sum())} of the {n} rows never appear: every row must be "
                       f"used each pass")
    if got_sizes != sizes:
        raise _Problem(f"batch sizes {got_sizes}; expected {sizes} for N = {n}, batch_size = {batch_size}")
    return order


# ---------------------------------------------------------------------------------------
# 05 Error analysis
# ---------------------------------------------------------------------------------------

def _labels(rng, size, num_classes, highest):
    """(y_true, y_pred): size labels in 0..highest, mostly right, with repeated pairs and an
    asymmetric confusion matrix (so a transpose and uncounted repeats both show)."""
    while True:
        y_true = rng.integers(0, highest + 1, size)
        y_pred = np.where(rng.uniform(size=size) < 0.6, y_true, rng.integers(0, highest + 1, size))
        y_true[:3], y_pred[:3] = [1, 1, 1], [2, 2, 2]  # (1, 2) three times, (2, 1) never...
        y_true[3], y_pred[3] = highest, highest
        cm = _metrics.confusion_matrix(y_true, y_pred, num_classes)
        if cm[2, 1] == 0 and not np.array_equal(cm, cm.T):
            return y_true, y_pred


def confusion_matrix(fn):
    """Check confusion_matrix(y_true, y_pred, num_classes=10): cm[i, j] = # true i predicted j."""
    rng = _rng()
    y_true, y_pred = _labels(rng, 40, 10, 7)
    y_true12, y_pred12 = _labels(rng, 40, 12, 9)  # 0..9, so a hard-coded (10, 10) runs
    common = [
        (lambda t: _close(t.got, t.want.T),
         "rows and columns are swapped: cm[i, j] counts true class i predicted as j, so rows "
         "are the true classes"),
        (lambda t: _close(t.got, t.want > 0),
         "repeated (true, predicted) pairs were counted once: cm[y_true, y_pred] += 1 does not "
         "accumulate repeats; use np.add.at(cm, (y_true, y_pred), 1) or a loop"),
        (lambda t: _shape(t.got) == (8, 8),
         "is (8, 8): sized by the largest label + 1? It must be (num_classes, num_classes) "
         "even when some classes never occur"),
    ]
    cases = [
        _Case((y_true, y_pred), ("y_true", "y_pred"), common),
        _Case((y_true12, y_pred12, 12), ("y_true", "y_pred", "num_classes"), [
            (lambda t: _shape(t.got) == (10, 10), "ignores num_classes: asked for (12, 12), got (10, 10)"),
            *common]),
    ]
    return _exercise("confusion_matrix", fn, _metrics.confusion_matrix, cases,
                     "(10, 10) counts with rows = true class, columns = predicted, repeated "
                     "pairs all counted, no 8s or 9s needed; num_classes=12 gives (12, 12)")


def precision_recall(fn):
    """Check precision_recall(cm) -> (precision (K,), recall (K,)), K = 6 here."""
    rng = _rng()
    k = 6
    cm = rng.integers(1, 8, size=(k, k)) + np.diag(rng.integers(10, 30, k))
    tp = np.diag(cm).astype(float)
    total = cm.sum()
    labels = ("precision", "recall")
    diagnoses = [
        (lambda t: _close(t.got[0], t.want[1]) and _close(t.got[1], t.want[0]),
         "precision and recall are swapped: precision divides by the column sums (everything "
         "predicted as k), recall by the row sums (every true k)"),
        (lambda t: _close(t.got[0], t.want[1]) and _close(t.got[1], t.want[1]),
         "precision equals recall: precision divides by the column sums, cm.sum(axis=0), "
         "recall by the row sums, cm.sum(axis=1)"),
        (lambda t: _close(t.got[0], t.want[0]) and _close(t.got[1], t.want[0]),
         "recall equals precision: recall divides by the row sums, cm.sum(axis=1)"),
        (lambda t: _close(t.got[0], tp / total) or _close(t.got[1], tp / total),
         "divided by the total count cm.sum(): each class has its own denominator, a column "
         "sum (precision) or a row sum (recall)"),
        (lambda t: all(np.all(np.asarray(x) == np.floor(np.asarray(x))) for x in t.got),
         "integer division (//) rounds to 0: use /"),
    ]
    return _exercise("precision_recall", fn, _metrics.precision_recall,
                     [_Case((cm,), ("cm",), diagnoses, labels=labels)],
                     f"precision = diagonal / column sums and recall = diagonal / row sums for a "
                     f"random ({k}, {k}) confusion matrix; cm unchanged")


# ---------------------------------------------------------------------------------------
# 10 Autograd from scratch
# ---------------------------------------------------------------------------------------

def unbroadcast(fn):
    """Check unbroadcast(grad, shape): grad summed down to `shape` (an operand's shape before broadcasting).

    Four cases with N = 7 rows and K = 4 columns: a bias (K,), a row (1, K), a column (N, 1), and
    a leading axis broadcasting added ((2, N, K) -> (N, K)).
    """
    from .autograd import unbroadcast as reference  # autograd imports layers, which imports this package

    rng = _rng()
    grads = [rng.normal(size=(N, K)), rng.normal(size=(N, K)), rng.normal(size=(N, K)), rng.normal(size=(2, N, K))]
    shapes = [(K,), (1, K), (N, 1), (N, K)]
    common = [
        (lambda t: np.ndim(t.got) == 0 or _shape(t.got) == (1,) * len(t.inputs[1]),
         "summed over every axis: sum only over the axes broadcasting stretched (the bias gradient "
         "of notebook 03 sums over rows, not over everything)"),
        (lambda t: _shape(t.got) == t.inputs[0].shape,
         lambda t: (f"returned the gradient at the output's shape {t.inputs[0].shape}; an operand of shape "
                    f"{tuple(t.inputs[1])} needs a gradient of shape {tuple(t.inputs[1])}: sum the stretched axes")),
        (lambda t: _near(_ratio(t.want, t.got), t.inputs[0].size / t.want.size),
         "averaged (mean) instead of summing: an operand used along a stretched axis gets the sum of "
         "the gradients of all its uses"),
        (lambda t: _close(np.squeeze(t.got), np.squeeze(t.want)),
         lambda t: (f"has shape {_shape(t.got)}: right numbers, but the gradient must have exactly the operand's "
                    f"shape {tuple(t.inputs[1])} (sum with keepdims=True over axes of size 1, or reshape)")),
        (lambda t: len(t.inputs[1]) == 2 and t.inputs[1][1] == 1 and _close(t.got, t.inputs[0].sum(axis=0)),
         "summed over the rows (axis 0), but this operand (N, 1) was stretched along the columns: sum axis 1"),
    ]
    cases = [_Case((g, s), ("grad", "shape"), common) for g, s in zip(grads, shapes, strict=True)]
    return _exercise("unbroadcast", fn, reference, cases,
                     f"({N}, {K}) summed to ({K},), (1, {K}) and ({N}, 1), and (2, {N}, {K}) to ({N}, {K}): "
                     "sums over exactly the broadcast axes, shapes kept; grad unchanged")


# ---------------------------------------------------------------------------------------
# 11 The same networks in PyTorch
# ---------------------------------------------------------------------------------------

def average_gradients(fn):
    """Check average_gradients(shards): a list of 3 gradient dicts (dW1 (D, H), db1 (H,)) -> their average."""
    rng = _rng()
    shards = [{"dW1": rng.normal(size=(D, H)), "db1": rng.normal(size=H)} for _ in range(3)]
    n = len(shards)
    diagnoses = [
        (lambda t: all(_close(t.got[k], n * t.want[k]) for k in t.want),
         f"summed the {n} processes' gradients: average them. Each process's loss is already a mean over its "
         f"share of the batch, so a sum makes every step {n} times too large"),
        (lambda t: all(_close(t.got[k], t.inputs[0][0][k]) for k in t.want),
         "returned the first process's gradients: every process must get the average over all of them"),
        (lambda t: all(_close(t.got[k], t.inputs[0][-1][k]) for k in t.want),
         "returned the last process's gradients: every process must get the average over all of them"),
        (lambda t: all(np.ndim(t.got[k]) == 0 for k in t.want),
         "averaged each array to one number: average the arrays entry by entry across the processes, "
         "keeping each gradient's shape"),
    ]
    return _exercise("average_gradients", fn, _average_gradients, [_Case((shards,), ("shards",), diagnoses)],
                     f"the entrywise mean of {n} processes' gradient dicts (dW1 ({D}, {H}), db1 ({H},)), "
                     "shapes kept, the shards unchanged")

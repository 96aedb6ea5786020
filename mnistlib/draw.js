// The drawing pad of notebook 07 (mnistlib.draw.DrawPad), an anywidget front end: no build step,
// no network. The browser only records strokes and draws what Python sends back:
//   pointer up   -> model.strokes = all strokes so far (one message per stroke)
//   Python       -> model.probs (10 numbers), model.seen (784 numbers: the 28x28 the network saw)
// Python rasterises the strokes itself (mnistlib.strokes.rasterize, the same pen as below), so a
// drawing made here and a saved one go through exactly the same code.

const INK = "#000000";
const PAPER = "#ffffff";

function el(tag, style, text) {
  const node = document.createElement(tag);
  if (style) node.style.cssText = style;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  const size = model.get("size");
  const colors = model.get("colors"); // [predicted class, other classes] from mnistlib.plots

  const box = el("div", "display:flex;gap:18px;align-items:flex-start;flex-wrap:wrap;font-family:sans-serif;font-size:13px");
  box.className = "drawpad-root";

  // 1. the pad
  const left = el("div", "display:flex;flex-direction:column;gap:6px");
  left.appendChild(el("div", "font-weight:bold", "draw a digit"));
  const canvas = el("canvas", `width:${size}px;height:${size}px;border:1px solid #888;touch-action:none;cursor:crosshair;background:${PAPER}`);
  canvas.className = "drawpad";
  canvas.width = size;
  canvas.height = size;
  canvas.setAttribute("aria-label", "drawing pad: draw one digit with the mouse, a pen or a finger");
  const clear = el("button", "width:80px", "Clear");
  clear.className = "drawpad-clear";
  left.append(canvas, clear);

  // 2. what the network saw
  const middle = el("div", "display:flex;flex-direction:column;gap:6px");
  middle.appendChild(el("div", "font-weight:bold", "what the network sees (28×28)"));
  const seen = el("canvas", "width:140px;height:140px;border:1px solid #888;image-rendering:pixelated;background:#000");
  seen.className = "drawpad-seen";
  seen.width = 28;
  seen.height = 28;
  middle.appendChild(seen);

  // 3. the guess and the ten probabilities
  const right = el("div", "display:flex;flex-direction:column;gap:2px;min-width:220px");
  const guess = el("div", "font-weight:bold;font-size:16px;margin-bottom:4px", "");
  guess.className = "drawpad-guess";
  guess.setAttribute("aria-live", "polite");
  right.appendChild(guess);
  const rows = [];
  for (let k = 0; k < 10; k++) {
    const row = el("div", "display:flex;align-items:center;gap:6px;height:18px");
    const label = el("span", "width:12px;text-align:right", String(k));
    const track = el("div", "width:150px;height:14px;background:#f2f2f2");
    const bar = el("div", `height:14px;width:0;background:${colors[1]}`);
    const pct = el("span", "width:48px;font-variant-numeric:tabular-nums", "");
    track.appendChild(bar);
    row.append(label, track, pct);
    right.appendChild(row);
    rows.push({ label, bar, pct });
  }
  box.append(left, middle, right);
  root.appendChild(box);

  const ctx = canvas.getContext("2d");
  let strokes = [];
  let current = null;

  function pen() {
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
  }

  function paint(stroke) {
    pen();
    if (stroke.length === 1) {
      ctx.beginPath();
      ctx.arc(stroke[0][0], stroke[0][1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    ctx.moveTo(stroke[0][0], stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }

  function repaint() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, size, size);
    for (const s of strokes) paint(s);
  }

  function point(event) {
    // CSS pixels -> canvas pixels, inside the border, whatever the zoom
    const r = canvas.getBoundingClientRect();
    const x = ((event.clientX - r.left - canvas.clientLeft) * size) / canvas.clientWidth;
    const y = ((event.clientY - r.top - canvas.clientTop) * size) / canvas.clientHeight;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    paint(current);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const p = point(event);
    const q = current[current.length - 1];
    if (Math.hypot(p[0] - q[0], p[1] - q[1]) < 2) return; // a few points per pen width are plenty
    current.push(p);
    pen();
    ctx.beginPath();
    ctx.moveTo(q[0], q[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
  });
  function finish() {
    if (!current) return;
    strokes = [...strokes, current];
    current = null;
    model.set("strokes", strokes); // one message per stroke: Python predicts and answers
    model.save_changes();
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => {
    strokes = [];
    current = null;
    repaint();
    model.set("strokes", []);
    model.save_changes();
  });

  function showSeen() {
    const pixels = model.get("seen");
    const sctx = seen.getContext("2d");
    const image = sctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = pixels.length === 784 ? Math.round(255 * pixels[i]) : 0;
      image.data.set([v, v, v, 255], 4 * i);
    }
    sctx.putImageData(image, 0, 0);
  }

  function showProbs() {
    const probs = model.get("probs");
    const best = probs.length === 10 ? probs.indexOf(Math.max(...probs)) : -1;
    for (let k = 0; k < 10; k++) {
      const p = best >= 0 ? probs[k] : 0;
      rows[k].bar.style.width = `${(100 * p).toFixed(1)}%`;
      rows[k].bar.style.background = k === best ? colors[0] : colors[1];
      rows[k].label.style.fontWeight = k === best ? "bold" : "normal"; // a second cue besides colour
      rows[k].pct.textContent = best >= 0 ? `${(100 * p).toFixed(1)} %` : "";
    }
    guess.textContent = best >= 0 ? `guess: ${best} (${(100 * probs[best]).toFixed(1)} %)` : model.get("message");
    guess.dataset.digit = best >= 0 ? String(best) : "";
    guess.dataset.strokes = String(model.get("predicted_strokes"));
  }

  model.on("change:strokes", () => {
    // Python set the strokes (e.g. pad.strokes = a saved drawing): show them
    const fromPython = model.get("strokes");
    if (JSON.stringify(fromPython) !== JSON.stringify(strokes)) {
      strokes = fromPython;
      repaint();
      if (current) paint(current);
    }
  });
  model.on("change:seen", showSeen);
  model.on("change:probs", showProbs);
  model.on("change:message", showProbs);
  model.on("change:predicted_strokes", showProbs);
  model.on("change:line_width", repaint);

  repaint();
  showSeen();
  showProbs();
}

export default { render };

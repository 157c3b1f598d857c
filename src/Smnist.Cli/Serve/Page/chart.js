// The ten probabilities over the steps of a reading, as a line chart, for the image reading and the live pad.
// The colours are those of `smnist explain`'s figure: far apart in hue, classes 5-9 dashed, the answer in black.
'use strict';

const CLASS_COLOURS = ['#1f77b4', '#2ca02c', '#9467bd', '#d62728', '#17becf', '#8c564b', '#bcbd22', '#7f7f7f', '#e377c2', '#ff7f0e'];
const MARKER_COLOUR = '#d95f02';

/**
 * Draws rows (one array of K probabilities per step read) on the canvas. The x axis runs from step 1 to
 * max(rows.length, options.steps); options.marker (a step) draws a line at that step, labelled options.markerLabel
 * if given; options.stepName names the axis ("row", "pen step"...).
 */
function drawProbabilityChart(canvas, rows, options) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, canvas.clientWidth), height = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const left = 40, right = 22, top = 8, bottom = 30;
  const steps = Math.max(rows.length, options.steps || 1, 2);
  const x = step => left + (step - 1) / (steps - 1) * (width - left - right);
  const y = p => top + (1 - p) * (height - top - bottom);
  const font = getComputedStyle(canvas).fontFamily;

  // Axes: 0, 50 and 100 % across, the steps along the bottom.
  context.font = `11px ${font}`;
  context.fillStyle = '#5c5c5c';
  context.strokeStyle = '#e3e3e3';
  context.lineWidth = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const p of [0, 0.5, 1]) {
    context.beginPath();
    context.moveTo(left, y(p));
    context.lineTo(width - right, y(p));
    context.stroke();
    context.fillText(`${p * 100} %`, left - 4, y(p));
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  const every = niceStep(steps, Math.max(2, Math.floor((width - left - right) / 45)));
  for (let step = 1; step <= steps; step += step === 1 ? every - 1 : every) {
    context.fillText(String(step), x(step), height - bottom + 4);
  }
  context.fillText(`${options.stepName || 'step'} →`, (left + width - right) / 2, height - 13);

  if (options.marker) {
    context.strokeStyle = MARKER_COLOUR;
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(x(options.marker), top);
    context.lineTo(x(options.marker), height - bottom);
    context.stroke();
    if (options.markerLabel) {
      context.fillStyle = MARKER_COLOUR;
      context.textAlign = x(options.marker) > width / 2 ? 'right' : 'left';
      context.textBaseline = 'top';
      context.fillText(` ${options.markerLabel} `, x(options.marker), top);
    }
  }
  if (rows.length === 0) return;

  const last = rows[rows.length - 1];
  let answer = 0;
  for (let k = 1; k < last.length; k++) if (last[k] > last[answer]) answer = k;
  const order = [...last.keys()].filter(k => k !== answer).concat([answer]); // the answer on top
  for (const k of order) {
    context.strokeStyle = k === answer ? '#000' : CLASS_COLOURS[k];
    context.lineWidth = k === answer ? 2.5 : 1.5;
    context.setLineDash(k >= 5 && k !== answer ? [5, 3] : []);
    context.beginPath();
    rows.forEach((row, t) => (t === 0 ? context.moveTo : context.lineTo).call(context, x(t + 1), y(row[k])));
    if (rows.length === 1) context.lineTo(x(1) + 2, y(rows[0][k]));
    context.stroke();
  }
  context.setLineDash([]);
  // The digits whose line ends high enough to tell apart, at the end of their line.
  context.font = `bold 12px ${font}`;
  context.textAlign = 'left';
  context.textBaseline = 'middle';
  const labelled = [];
  for (const k of [answer, ...order.filter(k => k !== answer && last[k] >= 0.1)]) {
    const at = y(last[k]);
    if (labelled.some(other => Math.abs(other - at) < 12)) continue;
    labelled.push(at);
    context.fillStyle = k === answer ? '#000' : CLASS_COLOURS[k];
    context.fillText(String(k), x(rows.length) + 4, at);
  }
}

/** The key of every chart: each digit's line, and the answer's. */
for (const legend of document.querySelectorAll('.legend')) {
  const entries = CLASS_COLOURS.map((colour, digit) => [colour, String(digit), digit >= 5]).concat([['#000', 'the current answer', false]]);
  for (const [colour, text, dashed] of entries) {
    const entry = document.createElement('span');
    const line = document.createElement('i');
    line.style.borderTop = `${text.length > 1 ? 3 : 2}px ${dashed ? 'dashed' : 'solid'} ${colour}`;
    entry.append(line, text);
    legend.append(entry);
  }
}

/** A round number of steps between labels, so that about `count` labels fit. */
function niceStep(steps, count) {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200]) if (steps / step <= count) return step;
  return 500;
}

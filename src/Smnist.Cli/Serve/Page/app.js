// The draw-a-digit page: draw on #pad, and every finished stroke sends the pad to POST api/read; the answer's
// trace is then played back step by step (the image being read, the ten probabilities, the gate heat maps).
'use strict';

const $ = id => document.getElementById(id);
const pad = $('pad');
const padContext = pad.getContext('2d');
const inputCanvas = $('input');
const inputContext = inputCanvas.getContext('2d');
const prediction = $('prediction');
const STROKE_WIDTH = 20;        // on the 280-pixel pad: about two MNIST pixels once the digit is fitted into 20×20
const READING_MS = 1400;        // how long the playback of one reading takes, whatever the number of steps
const UNSURE_BELOW = 0.8;       // a reading whose answer has less than this probability is flagged unsure (docs/teaching.md)
const DECIDED_LATE = 0.9;       // ... and one decided after this fraction of its steps
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const maps = [
  { canvas: $('map-forget'), key: 'forget', diverging: false },
  { canvas: $('map-input'), key: 'input_gate', diverging: false },
  { canvas: $('map-output'), key: 'output', diverging: false },
  { canvas: $('map-cell'), key: 'cell', diverging: true },
];

let model = null;        // GET api/model: the image's width and height, the steps, the classes...
let readAt = null;       // per image pixel, the timestep (1..T) that reads it
let small = null;        // a canvas of the image's size (model.image_width × model.image_height), drawn then scaled up
let requestNumber = 0;   // answers to older requests are dropped
let playback = null;     // the reading being played
let stroke = null;       // the last point of the stroke being drawn

// ---- the pad ----

function clearPad() {
  padContext.fillStyle = '#000';
  padContext.fillRect(0, 0, pad.width, pad.height);
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
}

/** White ink of the given width on a pad: a dot where a stroke starts (from null), else a line from the last point. */
function inkSegment(context, from, to, width) {
  context.strokeStyle = '#fff';
  context.fillStyle = '#fff';
  context.lineWidth = width;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  context.beginPath();
  if (from === null) {
    context.arc(to.x, to.y, width / 2, 0, 2 * Math.PI);
    context.fill();
  } else {
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }
}

function drawTo(point) {
  inkSegment(padContext, stroke, point, STROKE_WIDTH);
  stroke = point;
}

pad.addEventListener('pointerdown', event => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  // The drawing changes: the answer shown, or still on its way, is for the old one.
  requestNumber++;
  stopPlayback();
  delete prediction.dataset.digit;
  stroke = null;
  drawTo(padPoint(event));
});

pad.addEventListener('pointermove', event => {
  if (stroke === null) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) drawTo(padPoint(e));
});

function endStroke() {
  if (stroke === null) return;
  stroke = null;
  $('source').textContent = 'Your drawing.';
  pad.toBlob(blob => send(blob, 'image/png', false), 'image/png');
}
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);

pad.addEventListener('keydown', event => {
  if (event.key === 'Escape' || event.key === 'Delete' || event.key === 'Backspace') {
    event.preventDefault();
    clearAll();
  }
});

/** Shows an image as read (values 0..1) on the pad, so that further strokes add to it. */
function paintOnPad(values) {
  small.getContext('2d').putImageData(greyImage(values, () => 1), 0, 0);
  clearPad();
  padContext.imageSmoothingEnabled = true;
  padContext.drawImage(small, 0, 0, pad.width, pad.height);
}

// ---- buttons ----

function clearAll() {
  requestNumber++;
  stopPlayback();
  clearPad();
  showIdle();
  $('source').textContent = 'Draw one digit, large, in the middle of the pad.';
}

$('clear').addEventListener('click', clearAll);

$('sample').addEventListener('click', async () => {
  if (!model || model.test_images === 0) return;
  const index = Math.floor(Math.random() * model.test_images);
  const answer = await request(`api/sample?index=${index}&gates=true`, undefined);
  if (!answer) return;
  paintOnPad(answer.input);
  $('source').textContent = `Test image ${answer.index}, labelled ${answer.label}.`;
  prediction.dataset.index = String(answer.index);
  play(answer);
});

$('upload').addEventListener('click', () => $('upload-file').click());
$('upload-file').addEventListener('change', event => {
  const file = event.target.files[0];
  event.target.value = '';
  if (!file) return;
  $('source').textContent = `Uploaded: ${file.name}.`;
  send(file, file.type || 'application/octet-stream', true);
});

$('replay').addEventListener('click', () => { if (playback) play(playback.reading); });

// ---- the API ----

async function send(body, type, showOnPad) {
  const answer = await request('api/read?gates=true', { method: 'POST', headers: { 'Content-Type': type }, body });
  if (!answer) return;
  if (showOnPad) paintOnPad(answer.input);
  delete prediction.dataset.index;
  play(answer);
}

/** Fetches JSON; returns null (and shows why) on failure, or when a newer request has been made meanwhile. */
async function request(url, init) {
  const number = ++requestNumber;
  showPending();
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (number === requestNumber) showError(`the server did not answer (${error.message})`);
    return null;
  }
  // An error from something between the page and the server (a proxy, a gateway) may not be JSON.
  const answer = await response.json().catch(() => null);
  if (number !== requestNumber) return null;
  if (!response.ok || answer === null) {
    showError((answer && answer.error) || `the server answered ${response.status} ${response.statusText}`.trim());
    return null;
  }
  return answer;
}

// ---- playing a reading ----

function play(reading) {
  stopPlayback();
  delete prediction.dataset.digit;
  prediction.textContent = '…';
  prediction.classList.add('pending');
  for (const id of ['confidence', 'decided', 'status']) $(id).textContent = '';
  $('replay').disabled = true;
  document.body.classList.add('reading');
  const scale = cellScale(reading);
  playback = { reading, shown: 0, drawnColumns: 0, images: maps.map(map => prepareMap(map, reading)), cellScale: scale, rank: rankOf(unitOrder(reading, scale)), frame: 0 };
  const steps = reading.steps.length;
  drawAxes(steps);
  if (reducedMotion) {
    showStep(steps);
    finish();
    return;
  }
  const start = performance.now();
  const tick = now => {
    const step = Math.max(1, Math.min(steps, 1 + Math.floor((now - start) / (READING_MS / steps))));
    showStep(step);
    if (step < steps) playback.frame = requestAnimationFrame(tick);
    else finish();
  };
  playback.frame = requestAnimationFrame(tick);
}

function stopPlayback() {
  if (playback) cancelAnimationFrame(playback.frame);
}

function showStep(step) {
  const { reading } = playback;
  const steps = reading.steps.length;
  drawInput(reading.input, step);
  const probabilities = reading.steps[step - 1].probabilities;
  drawBars(probabilities);
  prediction.textContent = String(probabilities.indexOf(Math.max(...probabilities))); // the answer so far, greyed
  drawMaps(step);
  placeMarkers(step, steps);
  drawProbabilityChart($('chart'), reading.steps.slice(0, step).map(s => s.probabilities), { steps, marker: step, stepName: unitName() });
  $('step').textContent = `Reading ${unitName()} ${step} of ${steps}`;
  playback.shown = step;
}

function finish() {
  const { reading } = playback;
  const steps = reading.steps.length;
  const confidence = reading.probabilities[reading.digit];
  drawInput(reading.input, steps + 1); // all read: nothing highlighted
  prediction.textContent = String(reading.digit);
  prediction.classList.remove('pending');
  prediction.dataset.digit = String(reading.digit);
  // The rule the page states under "unsure": a low probability, or an answer that changed in the last tenth.
  const why = confidence < UNSURE_BELOW ? `under ${UNSURE_BELOW * 100} %` : reading.decided_at > DECIDED_LATE * steps ? 'decided late' : null;
  $('confidence').textContent = `${(confidence * 100).toFixed(1)} % sure` + (why ? `: unsure (${why})` : '');
  $('confidence').classList.toggle('unsure', why !== null);
  $('decided').textContent = `decided at ${unitName()} ${reading.decided_at} of ${steps}`;
  placeMarkers(null, steps);
  drawProbabilityChart($('chart'), reading.steps.map(s => s.probabilities), { steps, marker: reading.decided_at, markerLabel: 'decided', stepName: unitName() });
  $('step').textContent = `Read all ${steps} ${unitName()}s.`;
  $('replay').disabled = false;
}

function unitName() {
  return !model || model.sequence === 'rows' ? 'row' : model.sequence === 'strokes' ? 'pen step' : 'pixel';
}

function showPending() {
  stopPlayback();
  delete prediction.dataset.digit;
  prediction.textContent = '…';
  prediction.classList.add('pending');
  $('status').textContent = '';
}

function showIdle() {
  delete prediction.dataset.digit;
  delete prediction.dataset.index;
  prediction.textContent = '–';
  prediction.classList.add('pending');
  for (const id of ['confidence', 'decided', 'status']) $(id).textContent = '';
  $('confidence').classList.remove('unsure');
  document.body.classList.remove('reading');
  $('step').innerHTML = '&nbsp;';
  $('replay').disabled = true;
  playback = null;
  inputContext.fillStyle = '#000';
  inputContext.fillRect(0, 0, inputCanvas.width, inputCanvas.height);
  if (model) drawBars(new Array(model.classes).fill(0));
  for (const map of maps) map.canvas.getContext('2d').clearRect(0, 0, map.canvas.width, map.canvas.height);
  placeMarkers(null, 1);
  if (model) drawProbabilityChart($('chart'), [], { steps: model.steps, stepName: unitName() });
}

function showError(message) {
  prediction.textContent = '?';
  $('status').textContent = message;
}

// ---- drawing the reading ----

/** A grey ImageData of the image's size; brightness(pixel) scales each pixel. */
function greyImage(values, brightness) {
  const image = new ImageData(model.image_width, model.image_height);
  for (let p = 0; p < values.length; p++) {
    const v = Math.round(255 * values[p] * brightness(p));
    image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = v;
    image.data[4 * p + 3] = 255;
  }
  return image;
}

/** The image as read: pixels not yet read are dimmed, the ones read at this step outlined. */
function drawInput(values, step) {
  small.getContext('2d').putImageData(greyImage(values, p => (readAt[p] <= step ? 1 : 0.3)), 0, 0);
  const width = model.image_width;
  const scale = inputCanvas.width / width;
  inputContext.imageSmoothingEnabled = false;
  inputContext.drawImage(small, 0, 0, inputCanvas.width, inputCanvas.height);
  inputContext.strokeStyle = '#ff8c1a';
  inputContext.lineWidth = 2;
  inputContext.fillStyle = 'rgba(255, 140, 26, 0.25)';
  for (let p = 0; p < values.length; p++) {
    if (readAt[p] !== step) continue;
    const x = (p % width) * scale, y = Math.floor(p / width) * scale;
    inputContext.fillRect(x, y, scale, scale);
  }
  if (step > model.steps) return;
  if (model.sequence === 'rows') {
    inputContext.strokeRect(1, (step - 1) * scale + 1, inputCanvas.width - 2, scale - 2);
  } else {
    for (let p = 0; p < values.length; p++)
      if (readAt[p] === step) inputContext.strokeRect((p % width) * scale, Math.floor(p / width) * scale, scale, scale);
  }
}

/** Fills the container with one bar per class. */
function buildBars(container, classes) {
  for (let digit = 0; digit < classes; digit++) {
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.innerHTML = '<span class="value"></span><div class="fill"></div><span class="label"></span>';
    bar.querySelector('.label').textContent = String(digit);
    container.appendChild(bar);
  }
}

function drawBars(probabilities, container = $('bars')) {
  let top = 0;
  for (let digit = 1; digit < probabilities.length; digit++) if (probabilities[digit] > probabilities[top]) top = digit;
  probabilities.forEach((p, digit) => {
    const bar = container.children[digit];
    bar.querySelector('.fill').style.height = `${(p * 85).toFixed(1)}%`;
    bar.querySelector('.value').textContent = p >= 0.005 ? `${Math.round(p * 100)}%` : '';
    bar.classList.toggle('top', p > 0 && digit === top);
  });
  container.setAttribute('aria-label', `Probabilities: ${probabilities.map((p, d) => `${d}: ${Math.round(p * 100)}%`).join(', ')}`);
}

function prepareMap(map, reading) {
  const rows = reading[map.key];
  map.canvas.width = rows.length;          // one column per step
  map.canvas.height = rows[0].length;      // one row per unit
  const context = map.canvas.getContext('2d');
  context.clearRect(0, 0, map.canvas.width, map.canvas.height);
  return context.createImageData(map.canvas.width, map.canvas.height);
}

/**
 * The units in the order the heat maps show them: by the step at which each unit's cell state first reaches half
 * its largest size in this reading, so that units switching together sit together; units that barely move go last.
 */
function unitOrder(reading, scale) {
  const cells = reading.cell, units = cells[0].length;
  const switchStep = [];
  for (let unit = 0; unit < units; unit++) {
    let largest = 0;
    for (const row of cells) largest = Math.max(largest, Math.abs(row[unit]));
    const step = largest < 0.1 * scale ? cells.length : cells.findIndex(row => Math.abs(row[unit]) >= largest / 2);
    switchStep.push({ unit, step, sign: Math.sign(cells[cells.length - 1][unit]) });
  }
  switchStep.sort((a, b) => a.step - b.step || a.sign - b.sign || a.unit - b.unit);
  return switchStep.map(s => s.unit);
}

/** rank[unit]: the unit's row in the heat maps. */
function rankOf(order) {
  const rank = new Array(order.length);
  order.forEach((unit, row) => { rank[unit] = row; });
  return rank;
}

/** Step numbers under each heat map. */
function drawAxes(steps) {
  const every = niceStep(steps, 6);
  const ticks = [1];
  for (let t = every; t <= steps; t += every) if (t - ticks[ticks.length - 1] >= every / 2) ticks.push(t);
  for (const axis of document.querySelectorAll('.maps .axis')) {
    axis.replaceChildren(...ticks.map(t => {
      const label = document.createElement('span');
      label.style.left = `${((t - 0.5) / steps * 100).toFixed(2)}%`;
      label.textContent = String(t);
      return label;
    }));
    axis.setAttribute('aria-label', `${unitName()}s 1 to ${steps}`);
  }
}

/** The line over each heat map at the step being read; none when step is null. */
function placeMarkers(step, steps) {
  for (const marker of document.querySelectorAll('.map-marker')) {
    marker.style.display = step ? 'block' : 'none';
    if (step) marker.style.left = `${((step - 0.5) / steps * 100).toFixed(2)}%`;
  }
}

/** The 99th percentile of |c|: a few units' cells grow large, and scaled to them the others would vanish. */
function cellScale(reading) {
  const magnitudes = reading.cell.flat().map(Math.abs).sort((a, b) => a - b);
  return Math.max(1e-6, magnitudes[Math.floor(0.99 * (magnitudes.length - 1))]);
}

/** Fills the heat maps' columns up to this step. */
function drawMaps(step) {
  const { reading, images } = playback;
  maps.forEach((map, m) => {
    const image = images[m];
    const rows = reading[map.key];
    const units = rows[0].length, steps = rows.length;
    for (let t = playback.drawnColumns; t < step; t++) {
      for (let unit = 0; unit < units; unit++) {
        const value = rows[t][unit];
        const [r, g, b] = map.diverging ? diverging(value / playback.cellScale) : viridis(value);
        const at = 4 * (playback.rank[unit] * steps + t);
        image.data[at] = r; image.data[at + 1] = g; image.data[at + 2] = b; image.data[at + 3] = 255;
      }
    }
    map.canvas.getContext('2d').putImageData(image, 0, 0);
  });
  playback.drawnColumns = Math.max(playback.drawnColumns, step);
}

const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function viridis(v) {
  const x = Math.min(1, Math.max(0, v)) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - k;
  return VIRIDIS[k].map((c, i) => Math.round(c + f * (VIRIDIS[k + 1][i] - c)));
}

function diverging(v) {
  const x = Math.min(1, Math.max(-1, v));
  const blue = [33, 102, 172], white = [247, 247, 247], red = [178, 24, 43];
  const [from, to, f] = x < 0 ? [white, blue, -x] : [white, red, x];
  return from.map((c, i) => Math.round(c + f * (to[i] - c)));
}

// ---- start ----

async function start() {
  clearPad();
  try {
    const response = await fetch('api/model');
    model = await response.json().catch(() => null);
    if (!response.ok || model === null) {
      $('model-line').textContent = `The server answered ${response.status} ${response.statusText}`.trim() + (model && model.error ? `: ${model.error}.` : '.');
      model = null;
      return;
    }
  } catch (error) {
    $('model-line').textContent = `The server did not answer (${error.message}).`;
    return;
  }
  small = document.createElement('canvas');
  small.width = model.image_width;
  small.height = model.image_height;
  buildBars($('bars'), model.classes);
  showIdle();
  const pixels = model.image_width * model.image_height;
  readAt = new Array(pixels);
  for (let element = 0; element < pixels; element++) {
    const pixel = model.permutation ? model.permutation[element] : element;
    // A pen path is traced from the whole image before its first step: every pixel counts as read from the start.
    readAt[pixel] = model.sequence === 'strokes' ? 0 : Math.floor(element / model.features) + 1;
  }
  const reads = model.sequence === 'rows' ? `${model.steps} rows of ${model.features} pixels, one row per step`
    : model.sequence === 'pixels' ? `${model.steps} pixels, one per step`
    : model.sequence === 'strokes' ? `the pen path traced from the image, one point per step (at most ${model.steps})`
    : `${model.steps} pixels, one per step, in a fixed shuffled order`;
  if (model.refine_gate) {
    // A UR-LSTM's gate maps: what its cells keep (g) and write (1 - g), as api/read gives them.
    $('map-forget').closest('figure').querySelector('figcaption').innerHTML =
      '<b>effective forget gate g</b>: how much memory is kept. Look for dark patches: there units erase what they held.';
    $('map-input').closest('figure').querySelector('figcaption').innerHTML =
      '<b>1 − g</b>: how much is written, the share the kept memory gives up.';
  }
  $('model-line').textContent = `Model ${model.name}: ${model.layers} ${model.refine_gate ? 'UR-LSTM' : 'LSTM'} layer${model.layers > 1 ? 's' : ''} of ${model.hidden_size} units ` +
    `reading ${reads}; ${model.parameters.toLocaleString('en')} parameters.`;
  $('units').textContent = String(model.hidden_size);
  for (const span of document.querySelectorAll('.step-name')) span.textContent = unitName();
  startLive(model.live);
  if (model.test_images === 0) {
    $('sample').disabled = true;
    $('sample').title = 'The server has no test images.';
  }
}

// After every deferred script has run: start() hands the model to live.js.
document.addEventListener('DOMContentLoaded', start);

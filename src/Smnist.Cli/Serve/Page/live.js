// The live pad: the pen's path is read while it moves. Pointer moves are mapped to the 28×28 grid and resampled
// into the steps of the strokes view (docs/strokes.md): one step per grid pixel the pen enters, a move to a
// neighbouring pixel (dx, dy), end_of_stroke 1 at a stroke's last pixel. Only the new steps go to the server, over
// a WebSocket (api/live), which carries the network's state and answers each step's ten probabilities.
'use strict';

const livePad = $('live-pad');
const livePadContext = livePad.getContext('2d');
const livePrediction = $('live-prediction');
const GRID = 28;                    // the strokes view's grid: MNIST's 28×28 pixels
const CELL = livePad.width / GRID;  // pad pixels per grid pixel
const ORIGIN = { x: GRID / 2, y: GRID / 2 }; // where the pen is before the first step (the encoding's image centre)
const HYSTERESIS = 0.3;             // the pen must pass this far (in grid pixels) into a neighbour to move there: no jitter between two pixels
const BOX = { from: 4, to: 24 };    // MNIST's digits fill a 20×20 box in the middle of the 28×28 image
const LIVE_INK = 12;                // the ink's width on the pad, in pad pixels

const live = {
  maxSteps: 0,       // the most steps the server reads (the model's T_max)
  socket: null,
  steps: [],         // every step sent (or queued) since the pad was cleared: [dx, dy, end_of_stroke, end_of_digit]
  points: [],        // the grid pixel of each step, with whether it starts a stroke
  unsent: 0,         // steps at the end of `steps` not yet handed to the socket
  rows: [],          // the probabilities after each step read
  resets: 0,         // resets sent whose answer has not come back: answers before them are for the old drawing
  pen: null,         // the grid pixel the pen is in during a stroke
  held: null,        // that pixel, not yet sent: whether it ends the stroke is known only at the next move or at pointer-up
  ink: null,         // the last pad point, for drawing the ink
};

function startLive(description) {
  live.maxSteps = description.max_steps;
  buildBars($('live-bars'), 10);
  $('live-model-line').textContent = `A second network, ${description.name} (one LSTM layer of ${description.hidden_size} units, trained on ` +
    'pen paths traced from MNIST), reads your pen while it moves: one step for each grid square the pen enters.';
  clearLive();
}

// ---- the pad ----

function drawLivePad() {
  livePadContext.fillStyle = '#000';
  livePadContext.fillRect(0, 0, livePad.width, livePad.height);
  livePadContext.strokeStyle = '#555';
  livePadContext.lineWidth = 1;
  livePadContext.setLineDash([6, 5]);
  livePadContext.strokeRect(BOX.from * CELL + 0.5, BOX.from * CELL + 0.5, (BOX.to - BOX.from) * CELL, (BOX.to - BOX.from) * CELL);
  livePadContext.setLineDash([]);
}

function inkTo(point) {
  inkSegment(livePadContext, live.ink, point, LIVE_INK);
  live.ink = point;
}

/** The event's place on the pad (pad pixels) and on the grid (grid pixels, fractional). */
function livePoint(event) {
  const box = livePad.getBoundingClientRect();
  const x = (event.clientX - box.left) * livePad.width / box.width, y = (event.clientY - box.top) * livePad.height / box.height;
  const clamp = v => Math.min(GRID - 0.001, Math.max(0, v / CELL));
  return { pad: { x, y }, u: clamp(x), v: clamp(y) };
}

/** Adds one step: the move from the last step's pixel (the centre before the first) to `cell`. */
function addStep(cell, endOfStroke, startsStroke) {
  if (live.steps.length >= live.maxSteps) return;
  const previous = live.points.length ? live.points[live.points.length - 1] : ORIGIN;
  live.steps.push([cell.x - previous.x, cell.y - previous.y, endOfStroke ? 1 : 0, 0]);
  live.points.push({ x: cell.x, y: cell.y, startsStroke });
  live.unsent++;
  if (live.steps.length === live.maxSteps) showLiveStatus(`The pad is full: the network reads at most ${live.maxSteps} steps. Clear it to draw again.`);
}

/** The pen enters a neighbouring pixel: the pixel it leaves is a step that does not end the stroke. */
function enter(cell) {
  addStep(live.held, false, live.held.startsStroke);
  live.held = { x: cell.x, y: cell.y, startsStroke: false };
}

livePad.addEventListener('pointerdown', event => {
  if (event.button !== 0 || live.steps.length >= live.maxSteps) return;
  event.preventDefault();
  livePad.setPointerCapture(event.pointerId);
  const point = livePoint(event);
  live.pen = { x: Math.floor(point.u), y: Math.floor(point.v) };
  live.held = { ...live.pen, startsStroke: true };
  live.ink = null;
  inkTo(point.pad);
  drawLivePath();
});

livePad.addEventListener('pointermove', event => {
  if (live.pen === null) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const point = livePoint(e);
    inkTo(point.pad);
    // A pixel on each axis the pen has clearly left; then every pixel on the straight way there, one step each.
    const pen = live.pen;
    const target = {
      x: Math.abs(point.u - (pen.x + 0.5)) > 0.5 + HYSTERESIS ? Math.floor(point.u) : pen.x,
      y: Math.abs(point.v - (pen.y + 0.5)) > 0.5 + HYSTERESIS ? Math.floor(point.v) : pen.y,
    };
    const moves = Math.max(Math.abs(target.x - pen.x), Math.abs(target.y - pen.y));
    for (let k = 1; k <= moves; k++)
      enter({ x: pen.x + Math.round((target.x - pen.x) * k / moves), y: pen.y + Math.round((target.y - pen.y) * k / moves) });
    live.pen = target;
  }
  sendSteps();
});

function endLiveStroke() {
  if (live.pen === null) return;
  addStep(live.held, true, live.held.startsStroke);
  live.pen = live.held = live.ink = null;
  sendSteps();
}
livePad.addEventListener('pointerup', endLiveStroke);
livePad.addEventListener('pointercancel', endLiveStroke);
livePad.addEventListener('keydown', event => {
  if (event.key === 'Escape' || event.key === 'Delete' || event.key === 'Backspace') {
    event.preventDefault();
    clearLive();
  }
});
$('live-clear').addEventListener('click', clearLive);

function clearLive() {
  live.steps = [];
  live.points = [];
  live.rows = [];
  live.unsent = 0;
  live.pen = live.held = live.ink = null;
  if (live.socket && live.socket.readyState === WebSocket.OPEN) {
    live.resets++;
    live.socket.send('{"reset": true}');
  }
  drawLivePad();
  showLiveStatus('');
  showLiveReading();
}

// ---- the connection ----

/** Hands the steps not yet sent to the socket, opening one if there is none. */
function sendSteps() {
  livePad.dataset.sent = String(live.steps.length - live.unsent);
  if (live.unsent === 0) return;
  if (live.socket === null) {
    openLiveSocket();
    return;
  }
  if (live.socket.readyState !== WebSocket.OPEN) return; // sent once it opens
  live.socket.send(JSON.stringify({ steps: live.steps.slice(live.steps.length - live.unsent) }));
  live.unsent = 0;
  livePad.dataset.sent = String(live.steps.length);
}

/** A new connection starts from a fresh state: the whole drawing so far is sent again. */
function openLiveSocket() {
  const url = new URL('api/live', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  live.socket = socket;
  live.rows = [];
  live.resets = 0;
  live.unsent = live.steps.length;
  socket.addEventListener('open', sendSteps);
  socket.addEventListener('message', event => onLiveAnswer(JSON.parse(event.data)));
  socket.addEventListener('close', event => {
    if (live.socket !== socket) return;
    live.socket = null;
    // Closed by the server (idle, or a limit): the next stroke opens a new connection.
    if (event.reason) showLiveStatus(`The server closed the connection (${event.reason}); the next stroke opens a new one.`);
  });
  socket.addEventListener('error', () => showLiveStatus('The live connection failed; the next stroke tries again.'));
}

function onLiveAnswer(answer) {
  if (answer.error) {
    showLiveStatus(answer.error);
    return;
  }
  if (live.resets > 0) {
    if (!answer.probabilities) live.resets--; // the answer to a reset: what follows is for the new drawing
    return;
  }
  live.rows.push(...answer.probabilities);
  showLiveReading();
}

// ---- showing the reading ----

function showLiveStatus(message) {
  $('live-status').textContent = message;
}

function showLiveReading() {
  const rows = live.rows;
  livePrediction.dataset.steps = String(rows.length);
  if (rows.length === 0) {
    delete livePrediction.dataset.digit;
    livePrediction.textContent = '–';
    livePrediction.classList.add('pending');
    $('live-confidence').textContent = '';
    drawBars(new Array(10).fill(0), $('live-bars'));
  } else {
    const last = rows[rows.length - 1];
    const digit = last.indexOf(Math.max(...last));
    livePrediction.dataset.digit = String(digit);
    livePrediction.textContent = String(digit);
    livePrediction.classList.remove('pending');
    $('live-confidence').textContent = `${(last[digit] * 100).toFixed(1)} % sure` + (last[digit] < UNSURE_BELOW ? ': unsure' : '');
    $('live-confidence').classList.toggle('unsure', last[digit] < UNSURE_BELOW);
    drawBars(last, $('live-bars'));
  }
  $('live-steps').textContent = `${rows.length} step${rows.length === 1 ? '' : 's'} read (at most ${live.maxSteps})`;
  drawProbabilityChart($('live-chart'), rows, { steps: 40, marker: rows.length || null, stepName: 'pen step' });
  drawLivePath();
}

/**
 * The path as the network reads it, on the 28×28 grid: one square per step, coloured by step (dark to light), the
 * steps not yet read hollow, pen lifts dashed, the pixel the pen is in (not yet a step) ringed.
 */
function drawLivePath() {
  const canvas = $('live-path'), context = canvas.getContext('2d');
  const scale = canvas.width / GRID;
  context.fillStyle = '#000';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = '#333';
  context.setLineDash([4, 4]);
  context.strokeRect(BOX.from * scale + 0.5, BOX.from * scale + 0.5, (BOX.to - BOX.from) * scale, (BOX.to - BOX.from) * scale);
  const centre = p => [(p.x + 0.5) * scale, (p.y + 0.5) * scale];
  const count = Math.max(live.points.length, 40);
  live.points.forEach((point, k) => {
    if (k > 0) {
      context.strokeStyle = point.startsStroke ? '#888' : `rgb(${viridis(k / count).join(',')})`;
      context.setLineDash(point.startsStroke ? [3, 3] : []);
      context.lineWidth = point.startsStroke ? 1 : 2;
      context.beginPath();
      context.moveTo(...centre(live.points[k - 1]));
      context.lineTo(...centre(point));
      context.stroke();
    }
  });
  context.setLineDash([]);
  live.points.forEach((point, k) => {
    const colour = `rgb(${viridis(k / count).join(',')})`;
    if (k < live.rows.length) {
      context.fillStyle = colour;
      context.fillRect(point.x * scale + 1, point.y * scale + 1, scale - 2, scale - 2);
    } else {
      context.strokeStyle = colour;
      context.lineWidth = 1;
      context.strokeRect(point.x * scale + 1.5, point.y * scale + 1.5, scale - 3, scale - 3);
    }
  });
  if (live.held) {
    context.strokeStyle = MARKER_COLOUR;
    context.lineWidth = 2;
    context.strokeRect(live.held.x * scale, live.held.y * scale, scale, scale);
  }
}

// Drives the coordinator's web pages in headless Chromium, as a user would, and reports what it saw, one line per
// step: "RESULT <step> <json>". WebPageBrowserTest runs it against a real cluster and judges the results; in the
// middle it holds the stop step ("STREAMING" ... waits for "STOP" on stdin ... "STOPPED" ... waits for "CONTINUE")
// so that the test can look at the nodes' sessions while the answer streams and after it was stopped.
//
// Environment: BASE_URL (http://127.0.0.1:PORT), TOKEN (the API's bearer token), SAMPLES (the demo model's
// samples/ folder), OUT (where the screenshots go), CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import path from 'node:path';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    throw new Error(`set ${name}`);
  }
  return value;
};
const BASE = env('BASE_URL');
const TOKEN = env('TOKEN');
const SAMPLES = env('SAMPLES');
const OUT = env('OUT');
const COUNT = 'How many shapes are in the image?';
const GROUND = 'Please provide the bounding box coordinate of the region this sentence describes: the red circle.';
const STEP_MS = 60000;

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function waitFor(word) {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin ended while waiting for ${word}`);
    if (value.trim() === word) return;
  }
}
const report = (step, result) => console.log(`RESULT ${step} ${JSON.stringify(result)}`);

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const violations = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push('script error: ' + e.message));

  // The API asks for the token: the page's dialog takes it.
  await page.goto(BASE + '/');
  await page.locator('#token-dialog[open]').waitFor();
  await page.fill('#token-input', TOKEN);
  await page.press('#token-input', 'Enter');
  await page.locator('body[data-ready="true"]').waitFor();
  report('models', { model: await page.textContent('#model-name'), error: await visibleError(page) });

  // Keyboard: from the question, Tab reaches Send.
  await page.focus('#question');
  await page.keyboard.press('Tab');
  report('keyboard', { afterQuestion: await page.evaluate(() => document.activeElement.id) });

  // A file that is not a picture is refused with a message.
  await page.setInputFiles('#image-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
  report('unsupported', { error: await visibleError(page) });

  // Counting: the picture, the question, Enter.
  await pick(page, 'sample-count-0.png');
  const count = await askAndWait(page, COUNT);
  report('count', count);

  // Grounding: a new picture, the question, the box over the picture.
  await pick(page, 'sample-ground-1.png');
  const ground = await askAndWait(page, GROUND);
  await page.locator('#boxes .box').first().waitFor();
  const drawn = await page.evaluate(() => {
    const img = document.getElementById('preview-image').getBoundingClientRect();
    const box = document.querySelector('#boxes .box');
    const r = box.getBoundingClientRect();
    const border = parseFloat(getComputedStyle(box).borderLeftWidth);
    return {
      image: { width: img.width, height: img.height },
      // the box's outer edge is where the region's edge is: the border is drawn inside it
      box: { left: r.left - img.left, top: r.top - img.top, width: r.width, height: r.height, border },
      data: { x1: +box.dataset.x1, y1: +box.dataset.y1, x2: +box.dataset.x2, y2: +box.dataset.y2 },
      natural: {
        width: document.getElementById('preview-image').naturalWidth,
        height: document.getElementById('preview-image').naturalHeight,
      },
    };
  });
  report('ground', { ...ground, ...drawn });
  await page.screenshot({ path: path.join(OUT, 'chat-grounding.png') });

  // A second turn on the same picture: the conversation goes on.
  const second = await askAndWait(page, COUNT);
  report('second-turn', { ...second, messages: await page.locator('#messages .message').count() });

  // Stop: a long answer (its steps slowed by the test), stopped once it streams.
  await page.click('#clear');
  await page.fill('#question', GROUND);
  await page.press('#question', 'Enter');
  const streaming = page.locator('#messages .message.assistant.streaming .text');
  await page.waitForFunction(() => {
    const t = document.querySelector('#messages .message.assistant.streaming .text');
    return t && t.textContent.length >= 3;
  });
  console.log('STREAMING ' + JSON.stringify({ text: await streaming.textContent() }));
  await waitFor('STOP');
  await page.click('#stop');
  const stopped = page.locator('#messages .message.assistant[data-state="stopped"]');
  await stopped.waitFor();
  console.log('STOPPED ' + JSON.stringify({ text: await stopped.locator('.text').textContent(),
    sendEnabled: await page.isEnabled('#send'), stopEnabled: await page.isEnabled('#stop') }));
  await waitFor('CONTINUE');

  // A phone-sized screen: nothing wider than it.
  await page.setViewportSize({ width: 390, height: 844 });
  await pick(page, 'sample-count-0.png');
  await askAndWait(page, COUNT);
  report('phone', { scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth) });
  await page.screenshot({ path: path.join(OUT, 'chat-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // The cluster page, same tab (the token is in its sessionStorage), after two polls.
  await page.goto(BASE + '/cluster');
  await page.locator('body[data-ready="true"]').waitFor();
  await page.waitForFunction(() => document.getElementById('rate-tokens').textContent !== '–');
  // A request while the page watches: its tokens and time to first token show up in the rates.
  await page.evaluate(async () => {
    const r = await fetch('/v1/chat/completions', { method: 'POST', headers: { 'Content-Type': 'application/json',
      Authorization: 'Bearer ' + sessionStorage.getItem('convllava.token') },
    body: JSON.stringify({ max_tokens: 8, messages: [{ role: 'user', content: 'How many shapes are in the image?' }] }) });
    if (!r.ok) throw new Error('the request while the cluster page polls failed: HTTP ' + r.status);
  });
  await page.waitForFunction(() => parseFloat(document.getElementById('rate-tokens').textContent) > 0
      && document.getElementById('rate-ttft').textContent.endsWith(' ms'));
  report('cluster', {
    nodes: await page.$$eval('#nodes tbody tr', (rows) => rows.map((r) => ({
      id: r.dataset.nodeId, cells: [...r.cells].map((c) => c.textContent) }))),
    summary: await page.textContent('#summary'),
    coverageRects: await page.locator('#coverage rect').count(),
    tokensPerSecond: await page.textContent('#rate-tokens'),
    firstToken: await page.textContent('#rate-ttft'),
    error: await visibleError(page),
  });
  await page.screenshot({ path: path.join(OUT, 'cluster.png'), fullPage: true });
  report('csp', { violations });
} finally {
  await browser.close();
  lines.return(); // stdin no longer holds the process
}
process.exit(0);

async function pick(page, name) {
  await page.setInputFiles('#image-input', path.join(SAMPLES, name));
  await page.waitForFunction((n) => document.getElementById('preview-image').alt.endsWith(n)
      && document.getElementById('preview-image').complete, name);
}

// Types the question, sends it with Enter, waits for the answer to end; its text, state and finish reason.
async function askAndWait(page, question) {
  const before = await page.locator('#messages .message.assistant').count();
  await page.fill('#question', question);
  await page.press('#question', 'Enter');
  const answer = page.locator('#messages .message.assistant').nth(before);
  await page.waitForFunction((i) => {
    const a = document.querySelectorAll('#messages .message.assistant')[i];
    return (a && a.dataset.state) || !document.getElementById('error').hidden;
  }, before);
  if (await answer.count() === 0) {
    return { answer: null, state: 'failed', error: await visibleError(page) };
  }
  return { answer: await answer.locator('.text').textContent(), state: await answer.getAttribute('data-state'),
    finish: await answer.getAttribute('data-finish'), error: await visibleError(page) };
}

async function visibleError(page) {
  return (await page.isVisible('#error')) ? await page.textContent('#error') : null;
}

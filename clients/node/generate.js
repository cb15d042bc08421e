#!/usr/bin/env node
'use strict';
// Asks a ConvLLaVA cluster a question about an image, streams the answer to stdout as it is decoded, then prints the
// boxes it locates and why it stopped.
//
//   node generate.js --image photo.png --prompt "What is in the picture?" [--target 127.0.0.1:50051]
//       [--token T | CONVLLAVA_TOKEN=T] [--tls-ca ca.pem] [--timeout-s 120] [--max-new-tokens N]

const fs = require('fs');
const { parseArgs } = require('util');
const {
  ConvLlavaClient, codeName, openChannel, question,
} = require('./client');

const USAGE = `usage: node generate.js --prompt P [--image FILE] [--target HOST:PORT] [--token T] [--tls-ca FILE]
                        [--timeout-s S] [--max-new-tokens N]
  --target          the coordinator (default 127.0.0.1:50051)
  --image           image file (PNG, JPEG, ...) the question is about; none: a text-only question
  --prompt          the question
  --token           bearer token sent with the call (default: $CONVLLAVA_TOKEN)
  --tls-ca          PEM file of the authority the coordinator's certificate is checked against; none: plaintext
  --timeout-s       deadline of the whole answer, seconds (default 120)
  --max-new-tokens  most tokens to generate (default 0: the server's default)`;

function usage(problem) {
  process.stderr.write(`error: ${problem}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string', default: '127.0.0.1:50051' },
        image: { type: 'string' },
        prompt: { type: 'string' },
        token: { type: 'string', default: process.env.CONVLLAVA_TOKEN || '' },
        'tls-ca': { type: 'string' },
        'timeout-s': { type: 'string', default: '120' },
        'max-new-tokens': { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.prompt) {
    usage('--prompt is required');
  }
  const timeoutS = Number(values['timeout-s']);
  if (!(timeoutS > 0)) {
    usage(`--timeout-s must be a number > 0, got '${values['timeout-s']}'`);
  }
  const maxNewTokens = Number(values['max-new-tokens']);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    usage(`--max-new-tokens must be an integer >= 0, got '${values['max-new-tokens']}'`);
  }
  return { ...values, timeoutS, maxNewTokens };
}

function readOrExit(file, flag) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    return usage(`cannot read ${flag}: ${e.message}`);
  }
}

async function main() {
  const args = parse(process.argv.slice(2));
  const image = args.image ? readOrExit(args.image, '--image') : null;
  const channel = openChannel(args.target, args['tls-ca'] ? readOrExit(args['tls-ca'], '--tls-ca') : null);
  let streamed = false;
  try {
    const final = await new ConvLlavaClient(channel, args.token).generate(
      question(args.prompt, image, args.maxNewTokens),
      Date.now() + args.timeoutS * 1000,
      (delta) => {
        process.stdout.write(delta.text);
        streamed = streamed || delta.text !== '';
      },
    );
    process.stdout.write('\n');
    for (const b of final.boxes) {
      const normalized = b.normalized.map((v) => v.toFixed(3)).join(', ');
      const pixels = [b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(1)).join(', ');
      process.stdout.write(`box: image ${b.imageIndex} normalized [${normalized}] pixels [${pixels}]\n`);
    }
    const u = final.usage || {};
    process.stdout.write(`finish: ${final.finishReason}, ${u.promptTokens} prompt tokens (${u.imageTokens} image), `
      + `${u.completionTokens} generated, ${Math.round(final.timings ? final.timings.totalMs : 0)} ms\n`);
  } catch (e) {
    if (streamed) {
      process.stdout.write('\n');
    }
    const what = e.code !== undefined ? `${codeName(e.code)} from ${args.target}: ${e.details}` : e.message;
    process.stderr.write(`error: ${what}\n`);
    process.exitCode = 1;
  } finally {
    channel.close();
  }
}

main();

// Asks a ConvLLaVA cluster about an image through its OpenAI-compatible HTTP API, with the official openai package:
// once for the whole answer, once streamed. The bearer token comes from OPENAI_API_KEY (any text when the
// coordinator has no --token-file).
//
//   npm ci
//   OPENAI_API_KEY=$(cat my-token) node ask.mjs --base-url http://127.0.0.1:8080/v1 \
//       --image ../../models/convllava-shapes/samples/sample-count-0.png "How many shapes are in the image?"
//
// --json prints one JSON object (both answers, their finish reasons and usage) instead of text.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:8080/v1' },
    image: { type: 'string' },
    'max-tokens': { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const question = positionals.join(' ') || 'How many shapes are in the image?';
const maxTokens = Number.parseInt(values['max-tokens'], 10);

/** The file as a data URL: the image travels inline, base64-encoded. */
function dataUrl(file) {
  const type = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.bmp': 'image/bmp' };
  return `data:${type[extname(file).toLowerCase()] ?? 'image/png'};base64,${readFileSync(file).toString('base64')}`;
}

const content = [{ type: 'text', text: question }];
if (values.image) {
  content.push({ type: 'image_url', image_url: { url: dataUrl(values.image) } });
}
const messages = [{ role: 'user', content }];
const client = new OpenAI({ baseURL: values['base-url'], apiKey: process.env.OPENAI_API_KEY ?? 'none' });

try {
  const model = (await client.models.list()).data[0].id;

  const whole = await client.chat.completions.create({ model, messages, max_tokens: maxTokens });
  if (!values.json) {
    console.log(`${model}: ${whole.choices[0].message.content}`);
  }

  const stream = await client.chat.completions.create({
    model, messages, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true },
  });
  let streamed = '';
  let finishReason = null;
  let usage = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta?.content) {
      streamed += choice.delta.content;
      if (!values.json) {
        process.stdout.write(choice.delta.content);
      }
    }
    finishReason = choice?.finish_reason ?? finishReason;
    usage = chunk.usage ?? usage;
  }
  if (values.json) {
    console.log(JSON.stringify({
      model,
      answer: whole.choices[0].message.content,
      finish_reason: whole.choices[0].finish_reason,
      usage: whole.usage,
      streamed,
      streamed_finish_reason: finishReason,
      streamed_usage: usage,
    }));
  } else {
    console.log(`\n(streamed: ${finishReason}, ${usage?.completion_tokens} tokens)`);
  }
} catch (e) {
  if (e instanceof OpenAI.APIError) {
    console.error(`error: HTTP ${e.status}: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

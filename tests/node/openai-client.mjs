// Drives WebConsole's /v1 surface with the official OpenAI JavaScript client, unchanged: chat completions (streamed with
// usage, and not streamed), embeddings (float, base64, and the client's default, which asks for base64 and decodes it)
// and the model list.
// stdin: {"url", "apiKey", "chatModel", "embeddingModel"}
// stdout: {"calls": {"<name>": {"ok": true, "result": ...} | {"ok": false, "error": {...}}}} — every call is attempted.
import OpenAI from 'openai';

const config = JSON.parse(await readStdin());
const calls = {};

const client = new OpenAI({
  apiKey: config.apiKey,
  baseURL: `${config.url.replace(/\/$/, '')}/v1`,
  timeout: 180_000,
  maxRetries: 0,
});

async function call(name, action) {
  try {
    calls[name] = { ok: true, result: await action() };
  } catch (error) {
    calls[name] = {
      ok: false,
      error: error instanceof OpenAI.APIError
        ? { name: error.constructor.name, status: error.status, message: error.message, error: error.error, headers: error.headers ? Object.fromEntries(error.headers) : null }
        : { name: error?.name ?? 'Error', message: String(error?.message ?? error) },
    };
  }
  return calls[name];
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const chatRequest = {
  model: config.chatModel,
  messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }],
  max_completion_tokens: 16,
  temperature: 0,
};

await call('chat_stream', async () => {
  const stream = await client.chat.completions.create({ ...chatRequest, stream: true, stream_options: { include_usage: true } });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return {
    content: chunks.flatMap((c) => c.choices ?? []).map((c) => c.delta?.content ?? '').join(''),
    finishReasons: chunks.flatMap((c) => c.choices ?? []).map((c) => c.finish_reason).filter((r) => r != null),
    objects: [...new Set(chunks.map((c) => c.object))],
    ids: [...new Set(chunks.map((c) => c.id))],
    chunkCount: chunks.length,
    usageChunks: chunks.filter((c) => c.usage != null).map((c) => ({ choices: c.choices.length, usage: c.usage })),
    lastChunk: chunks.at(-1) ?? null,
  };
});

await call('chat', async () => {
  const { data, response } = await client.chat.completions.create(chatRequest).withResponse();
  return { completion: data, inputTokens: response.headers.get('x-webconsole-input-tokens'), outputTokens: response.headers.get('x-webconsole-output-tokens') };
});

const inputs = ['The quick brown fox jumps over the lazy dog.', 'Elasticsearch is a distributed search engine.'];
await call('embeddings_float', () => client.embeddings.create({ model: config.embeddingModel, input: inputs, encoding_format: 'float' }));
await call('embeddings_base64', async () => {
  const response = await client.embeddings.create({ model: config.embeddingModel, input: inputs, encoding_format: 'base64' });
  // Decoded here as little-endian float32, what OpenAI sends, so the test can compare with the float answer.
  return {
    ...response,
    decoded: response.data.map((d) => {
      const bytes = Buffer.from(d.embedding, 'base64');
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    }),
  };
});
await call('embeddings_default', async () => {
  const response = await client.embeddings.create({ model: config.embeddingModel, input: inputs[0] });
  return { ...response, data: response.data.map((d) => ({ ...d, embedding: Array.from(d.embedding) })) };
});

await call('models_list', async () => {
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  return models;
});

await call('chat_unknown_model', () => client.chat.completions.create({ ...chatRequest, model: 'no-such-endpoint' }));

process.stdout.write(JSON.stringify({ calls }));

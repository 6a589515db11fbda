// Drives WebConsole with the official Elasticsearch JavaScript client, unchanged, the way an application would: its
// `inference` namespace (put, get, perform inference per task type, streaming, update, delete) and `security.createApiKey`.
// stdin: {"url", "apiKey", "embedding": {"inference_id", "model_id"}, "sparse": {...}, "rerank": {...},
//         "completion": {"inference_id", "config"?, "task_settings"?}, "chat": {"inference_id", "config"?}}
// (an endpoint with a "config" is created by this script with that body; one without must exist already).
// stdout: {"calls": {"<name>": {"ok": true, "result": ...} | {"ok": false, "error": {...}}}} — every call is attempted
// and reported, so one missing route does not hide the others; the test decides what must pass.
import { Client, errors } from '@elastic/elasticsearch';

const config = JSON.parse(await readStdin());
const calls = {};

const client = new Client({
  node: config.url,
  auth: { apiKey: config.apiKey },
  // The first request to a model may build or deploy it.
  requestTimeout: 180_000,
  maxRetries: 0,
});

async function call(name, action) {
  try {
    calls[name] = { ok: true, result: await action() };
  } catch (error) {
    calls[name] = { ok: false, error: describe(error) };
  }
  return calls[name];
}

function describe(error) {
  if (error instanceof errors.ResponseError) {
    return { name: error.name, statusCode: error.statusCode, body: error.body, headers: error.meta?.headers };
  }
  return { name: error?.name ?? 'Error', message: String(error?.message ?? error) };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// Server-sent events as the client hands them over with asStream: the raw body, parsed here the way the contract
// frames it (event: message / data: <json>, ending with data: [DONE]).
async function readEvents(body) {
  let text = '';
  for await (const chunk of body) text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const events = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    let event = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    const joined = data.join('\n');
    let parsed = joined;
    if (joined !== '[DONE]') {
      try { parsed = JSON.parse(joined); } catch { /* reported raw */ }
    }
    events.push({ event, data: parsed });
  }
  return { raw: text, events };
}

async function stream(name, action) {
  return call(name, async () => {
    const response = await action({ asStream: true, meta: true });
    const { raw, events } = await readEvents(response.body);
    return { statusCode: response.statusCode, contentType: response.headers['content-type'], startsWithBom: raw.charCodeAt(0) === 0xfeff, events };
  });
}

const { embedding, sparse, rerank, completion, chat } = config;

// Create: text_embedding with the task type in the path, sparse_embedding with it in the body.
await call('put_text_embedding', () => client.inference.put({
  task_type: 'text_embedding',
  inference_id: embedding.inference_id,
  inference_config: { service: 'elasticsearch', service_settings: { model_id: embedding.model_id, num_allocations: 1, num_threads: 1 } },
}));
await call('put_sparse_embedding', () => client.inference.put({
  inference_id: sparse.inference_id,
  inference_config: { task_type: 'sparse_embedding', service: 'elasticsearch', service_settings: { model_id: sparse.model_id, num_allocations: 1, num_threads: 1 } },
}));
await call('put_rerank', () => client.inference.put({
  task_type: 'rerank',
  inference_id: rerank.inference_id,
  inference_config: { service: 'elasticsearch', service_settings: { model_id: rerank.model_id, num_allocations: 1, num_threads: 1 } },
}));
for (const [name, endpoint, taskType] of [['put_completion', completion, 'completion'], ['put_chat_completion', chat, 'chat_completion']]) {
  if (endpoint?.config) {
    await call(name, () => client.inference.put({ task_type: taskType, inference_id: endpoint.inference_id, inference_config: endpoint.config }));
  }
}

// Read back: all, one by id, one by task type and id, and a missing one (the 404 envelope).
await call('get_all', () => client.inference.get());
await call('get_by_id', () => client.inference.get({ inference_id: embedding.inference_id }));
await call('get_by_task_type', () => client.inference.get({ task_type: 'sparse_embedding', inference_id: sparse.inference_id }));
await call('get_missing', () => client.inference.get({ inference_id: 'no-such-endpoint' }));

// Perform inference, through the generic method and the per-task-type ones.
const texts = ['The quick brown fox jumps over the lazy dog.', 'Elasticsearch is a distributed search engine.', 'Bonjour le monde'];
await call('inference_text_embedding', () => client.inference.inference({ task_type: 'text_embedding', inference_id: embedding.inference_id, input: texts }));
await call('text_embedding', () => client.inference.textEmbedding({ inference_id: embedding.inference_id, input: texts[0], input_type: 'SEARCH' }));
await call('sparse_embedding', () => client.inference.sparseEmbedding({ inference_id: sparse.inference_id, input: texts }));
await call('rerank', () => client.inference.rerank({
  inference_id: rerank.inference_id,
  query: 'search engine',
  input: texts,
  top_n: 2,
  return_documents: true,
}));

const prompt = 'Write one sentence about search engines.';
await call('completion', () => client.inference.completion({ inference_id: completion.inference_id, input: prompt, task_settings: completion.task_settings }));
await stream('stream_completion', (options) => client.inference.streamCompletion({ inference_id: completion.inference_id, input: prompt, task_settings: completion.task_settings }, options));

const chatRequest = { messages: [{ role: 'user', content: 'Say hello.' }], max_completion_tokens: 16, temperature: 0 };
// Non-streamed chat through the generic method (unknown parameters travel in the body).
await call('chat_completion', () => client.inference.inference({ task_type: 'chat_completion', inference_id: chat.inference_id, ...chatRequest }));
await stream('chat_completion_unified', (options) => client.inference.chatCompletionUnified({ inference_id: chat.inference_id, chat_completion_request: chatRequest }, options));

// Update an updatable service setting, then read it back.
await call('update', () => client.inference.update({
  task_type: 'text_embedding',
  inference_id: embedding.inference_id,
  inference_config: { service_settings: { num_allocations: 2 } },
}));
await call('get_after_update', () => client.inference.get({ inference_id: embedding.inference_id }));

// A new API key, used at once by a second client.
const created = await call('create_api_key', () => client.security.createApiKey({ name: 'official-client-test', expiration: '1d' }));
if (created.ok) {
  const second = new Client({ node: config.url, auth: { apiKey: created.result.encoded }, requestTimeout: 180_000, maxRetries: 0 });
  await call('new_key_text_embedding', () => second.inference.textEmbedding({ inference_id: embedding.inference_id, input: texts[1] }));
  await second.close();
}

// Delete: dry run first (nothing removed), then for real, then the endpoint is gone.
await call('delete_dry_run', () => client.inference.delete({ inference_id: rerank.inference_id, dry_run: true }));
await call('delete', () => client.inference.delete({ task_type: 'rerank', inference_id: rerank.inference_id }));
await call('get_after_delete', () => client.inference.get({ inference_id: rerank.inference_id }));

await client.close();
process.stdout.write(JSON.stringify({ calls }));

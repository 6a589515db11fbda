// Drives WebConsole's chat hub with the official @microsoft/signalr client (Node: credentials go in the Authorization
// header). Input (stdin, JSON): { url, apiKey, chat: { inferenceId, maxCompletionTokens }, slow: { inferenceId, cutAfter } }.
// Output (stdout, JSON): one report per call, { ok, ... } or { ok: false, error }.
import * as signalR from "@microsoft/signalr";

const input = JSON.parse(await new Promise(resolve => {
  let text = "";
  process.stdin.on("data", chunk => text += chunk);
  process.stdin.on("end", () => resolve(text));
}));

const connect = async (apiKey) => {
  const builder = new signalR.HubConnectionBuilder().configureLogging(signalR.LogLevel.None);
  const connection = builder.withUrl(`${input.url}/hubs/chat`, apiKey ? { accessTokenFactory: () => apiKey } : {}).build();
  await connection.start();
  return connection;
};

const messages = [{ role: "system", content: "Answer briefly." }, { role: "user", content: "Tell me a story about the sea." }];
const report = {};

// A whole stream: every item with the time it arrived.
try {
  const connection = await connect(input.apiKey);
  const started = performance.now();
  const items = await new Promise((resolve, reject) => {
    const received = [];
    connection.stream("StreamChat", { inferenceId: input.chat.inferenceId, messages, maxCompletionTokens: input.chat.maxCompletionTokens })
      .subscribe({
        next: item => received.push({ ...item, at: performance.now() - started }),
        complete: () => resolve(received),
        error: reject,
      });
  });
  await connection.stop();
  report.stream = { ok: true, items };
} catch (error) {
  report.stream = { ok: false, error: String(error?.message ?? error) };
}

// A stream the client cancels (disposes its subscription) after a few deltas.
try {
  const connection = await connect(input.apiKey);
  const deltas = await new Promise((resolve, reject) => {
    let count = 0;
    const subscription = connection.stream("StreamChat", { inferenceId: input.slow.inferenceId, messages, maxCompletionTokens: 1900 })
      .subscribe({
        next: item => {
          if (item.delta && ++count === input.slow.cutAfter) {
            subscription.dispose();
            resolve(count);
          }
        },
        complete: () => reject(new Error(`the stream completed after ${count} deltas`)),
        error: reject,
      });
  });
  // Give the cancel message time to leave before the connection closes.
  await new Promise(resolve => setTimeout(resolve, 300));
  await connection.stop();
  report.cancel = { ok: true, deltas };
} catch (error) {
  report.cancel = { ok: false, error: String(error?.message ?? error) };
}

// No credentials: the connection is refused.
try {
  const connection = await connect(null);
  await connection.stop();
  report.anonymous = { ok: true };
} catch (error) {
  report.anonymous = { ok: false, error: String(error?.message ?? error) };
}

// A typed hub error: an endpoint that does not exist.
try {
  const connection = await connect(input.apiKey);
  try {
    await new Promise((resolve, reject) => connection.stream("StreamChat", { inferenceId: "no-such-endpoint", messages })
      .subscribe({ next: () => {}, complete: resolve, error: reject }));
    report.missing = { ok: true };
  } finally {
    await connection.stop();
  }
} catch (error) {
  report.missing = { ok: false, error: String(error?.message ?? error) };
}

process.stdout.write(JSON.stringify(report));

// The peer WebConsole is compared against: @huggingface/transformers on onnxruntime-node, over the same generated model
// folder and the same corpus, with the same intra-op threads. Reads a JSON request on stdin, writes JSON on stdout:
//   {"task": "embed",  "model": "/abs/folder", "threads": 2, "texts": [...], "batchSizes": [1, 8, 32], "seconds": 10}
//   {"task": "rerank", "model": "/abs/folder", "threads": 2, "pairs": [[query, document], ...], "batchSizes": [...], "seconds": 10}
// (plus "tokens": [token count of each item]) -> {"runs": [{"batchSize", "items", "seconds", "itemsPerSecond", "tokensPerSecond"}, ...]}
// Items are processed in corpus order (as an application would), batchSize at a time, padded to the longest of each batch.
import path from "node:path";
import { env, pipeline, AutoTokenizer, AutoModelForSequenceClassification } from "@huggingface/transformers";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

env.allowRemoteModels = false;
env.localModelPath = path.dirname(request.model) + "/";
const modelId = path.basename(request.model);
const options = {
  dtype: "fp32",
  device: "cpu",
  session_options: { intraOpNumThreads: request.threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" },
};

let runBatch;
let items;
if (request.task === "embed") {
  const extractor = await pipeline("feature-extraction", modelId, options);
  items = request.texts;
  runBatch = (batch) => extractor(batch, { pooling: "mean", normalize: true });
} else {
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const model = await AutoModelForSequenceClassification.from_pretrained(modelId, options);
  items = request.pairs;
  runBatch = async (batch) => {
    const inputs = tokenizer(batch.map((p) => p[0]), { text_pair: batch.map((p) => p[1]), padding: true, truncation: true });
    const { logits } = await model(inputs);
    return logits.sigmoid();
  };
}

// tokens[i] is item i's token count under the model's tokenizer (counted by the harness), for tokens/s.
const tokens = request.tokens;
const runs = [];
for (const batchSize of request.batchSizes) {
  await runBatch(items.slice(0, batchSize)); // warm-up
  let done = 0;
  let doneTokens = 0;
  let position = 0;
  let passed = false;
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  // At least one whole pass over the corpus, then on until the time is up.
  for (;;) {
    const end = Math.min(position + batchSize, items.length);
    await runBatch(items.slice(position, end));
    done += end - position;
    for (let k = position; k < end; k++) doneTokens += tokens[k];
    position = end;
    if (position >= items.length) {
      position = 0;
      passed = true;
    }
    if (passed && elapsed() >= request.seconds) break;
  }
  const seconds = elapsed();
  runs.push({ batchSize, items: done, seconds, itemsPerSecond: done / seconds, tokensPerSecond: doneTokens / seconds });
}
process.stdout.write(JSON.stringify({ runs }));

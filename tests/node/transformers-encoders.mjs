// Reference results for WebConsole's encoder pipelines: @huggingface/transformers (onnxruntime-node) runs the same
// generated model folder. Reads a JSON request on stdin, writes {"results": [...]} to stdout, one input at a time (no
// padding), so the reference is free of batching effects.
//   {"task": "embed", "model": "/abs/folder", "pooling": "mean"|"cls", "normalize": true, "texts": [...]}
//   {"task": "sparse", "model": ..., "texts": [...]}                 -> {ids, weights: {tokenId: weight}} (SPLADE max-pooling)
//   {"task": "rerank", "model": ..., "query": "...", "documents": [...]} -> {ids, logit, score: sigmoid(logit)}
// Instead of texts (or query/documents), "encodings": [{"ids": [...], "typeIds": [...]}] runs the model on given ids:
// transformers.js truncates by cutting the id list (dropping the final [SEP]), where Python transformers keeps the
// special tokens, so truncated inputs are compared on the host's own ids.
import path from "node:path";
import {
  env, pipeline, AutoTokenizer, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, Tensor, mean_pooling,
} from "@huggingface/transformers";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

env.allowRemoteModels = false;
env.localModelPath = path.dirname(request.model) + "/";
const modelId = path.basename(request.model);
const options = { dtype: "fp32", device: "cpu" };

const tokenizer = await AutoTokenizer.from_pretrained(modelId);
const toTensor = (values) => new Tensor("int64", BigInt64Array.from(values.map(BigInt)), [1, values.length]);
const fromEncoding = (e) => ({
  input_ids: toTensor(e.ids),
  attention_mask: toTensor(e.ids.map(() => 1)),
  token_type_ids: toTensor(e.typeIds),
});
const idsOf = (inputs) => Array.from(inputs.input_ids.data, Number);
const special = new Set(tokenizer.all_special_ids.map(Number));

const results = [];
if (request.task === "embed") {
  if (request.texts) {
    // The feature-extraction pipeline itself, as applications use it.
    const extractor = await pipeline("feature-extraction", modelId, options);
    for (const text of request.texts) {
      const output = await extractor(text, { pooling: request.pooling, normalize: request.normalize });
      const ids = idsOf(tokenizer(text, { truncation: true }));
      results.push({ ids, embedding: Array.from(output.data) });
    }
  } else {
    const model = await AutoModel.from_pretrained(modelId, options);
    for (const encoding of request.encodings) {
      const inputs = fromEncoding(encoding);
      const { last_hidden_state } = await model(inputs);
      let pooled = request.pooling === "cls" ? last_hidden_state.slice(null, 0) : mean_pooling(last_hidden_state, inputs.attention_mask);
      if (request.normalize) pooled = pooled.normalize(2, -1);
      results.push({ ids: encoding.ids, embedding: Array.from(pooled.data) });
    }
  }
} else if (request.task === "sparse") {
  const model = await AutoModelForMaskedLM.from_pretrained(modelId, options);
  const inputsList = request.texts
    ? request.texts.map((text) => tokenizer(text, { truncation: true }))
    : request.encodings.map(fromEncoding);
  for (const inputs of inputsList) {
    const { logits } = await model(inputs);
    const [, length, vocabulary] = logits.dims;
    const mask = Array.from(inputs.attention_mask.data, Number);
    // SPLADE: max over tokens of log(1 + relu(logit)) · mask; log1p(relu(x)) rises with x, so take the max logit first.
    const best = new Float64Array(vocabulary);
    for (let t = 0; t < length; t++) {
      if (mask[t] === 0) continue;
      const row = logits.data.subarray(t * vocabulary, (t + 1) * vocabulary);
      for (let v = 0; v < vocabulary; v++) if (row[v] > best[v]) best[v] = row[v];
    }
    const weights = {};
    for (let v = 0; v < vocabulary; v++) {
      if (best[v] > 0 && !special.has(v)) weights[v] = Math.log1p(best[v]);
    }
    results.push({ ids: idsOf(inputs), weights });
  }
} else if (request.task === "rerank") {
  const model = await AutoModelForSequenceClassification.from_pretrained(modelId, options);
  const inputsList = request.documents
    ? request.documents.map((document) => tokenizer(request.query, { text_pair: document, truncation: true }))
    : request.encodings.map(fromEncoding);
  for (const inputs of inputsList) {
    const { logits } = await model(inputs);
    const logit = logits.data[0];
    results.push({ ids: idsOf(inputs), typeIds: Array.from(inputs.token_type_ids.data, Number), logit, score: 1 / (1 + Math.exp(-logit)) });
  }
} else {
  throw new Error(`unknown task ${request.task}`);
}

process.stdout.write(JSON.stringify({ results }));

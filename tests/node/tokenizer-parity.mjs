// Reference tokenization for the parity tests: reads {lines, pairs, decode} as JSON on stdin and writes, for a
// tokenizer.json (argv[2]) and optional tokenizer_config.json (argv[3]), the ids and tokens of every line (with special
// tokens), of every line without special tokens, of every pair (with token type ids), and the decoded text of id lists.
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const tokenizerJson = JSON.parse(readFileSync(process.argv[2], "utf8"));
const config = process.argv[3] && process.argv[3] !== "-" ? JSON.parse(readFileSync(process.argv[3], "utf8")) : {};
const tokenizer = new Tokenizer(tokenizerJson, config);

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const lines = (request.lines ?? []).map((line) => {
  const e = tokenizer.encode(line);
  return { ids: e.ids, tokens: e.tokens };
});
const plain = (request.plain ?? []).map((line) => tokenizer.encode(line, { add_special_tokens: false }).ids);
const pairs = (request.pairs ?? []).map(([a, b]) => {
  const e = tokenizer.encode(a, { text_pair: b, return_token_type_ids: true });
  return { ids: e.ids, type_ids: e.token_type_ids };
});
const decoded = (request.decode ?? []).map((ids) => (ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true })));
const started = process.hrtime.bigint();
for (const line of request.lines ?? []) tokenizer.encode(line);
const encodeMs = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ lines, plain, pairs, decoded, encodeMs }));

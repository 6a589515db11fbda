// Greedy generation with transformers.js (onnxruntime-node) over a model folder in the Hugging Face export layout.
// Usage: node transformers-generate.mjs <model folder>; stdin: {"cases": [{"messages": [...]} | {"prompt": "..."}, "max_new_tokens": n}]}
// stdout: {"results": [{"rendered": string|null, "prompt_ids": [...], "output_ids": [...], "text": "..."}]}
import path from "node:path";
import { readFileSync } from "node:fs";
import { env, AutoTokenizer, AutoModelForCausalLM, Tensor } from "@huggingface/transformers";

const folder = path.resolve(process.argv[2]);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(folder) + path.sep;
const id = path.basename(folder);

const { cases } = JSON.parse(readFileSync(0, "utf8"));
const tokenizer = await AutoTokenizer.from_pretrained(id);
const model = await AutoModelForCausalLM.from_pretrained(id, { dtype: "fp32", device: "cpu" });

const results = [];
for (const item of cases) {
  let rendered = null;
  let promptIds;
  if (item.messages) {
    rendered = tokenizer.apply_chat_template(item.messages, { add_generation_prompt: true, tokenize: false });
    promptIds = tokenizer.apply_chat_template(item.messages, { add_generation_prompt: true, return_tensor: false, return_dict: false });
  } else {
    promptIds = tokenizer.encode(item.prompt);
  }

  const inputIds = new Tensor("int64", BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]);
  const attentionMask = new Tensor("int64", new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]);
  const output = await model.generate({
    input_ids: inputIds,
    attention_mask: attentionMask,
    max_new_tokens: item.max_new_tokens,
    do_sample: false,
  });
  const all = Array.from(output.data, Number);
  const generated = all.slice(promptIds.length);
  results.push({ rendered, prompt_ids: promptIds, output_ids: generated, text: tokenizer.decode(generated, { skip_special_tokens: true }) });
}

await model.dispose();
process.stdout.write(JSON.stringify({ results }));

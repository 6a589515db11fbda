// Prints the versions of the reference implementations (used to check the harness itself).
import { readFileSync } from "node:fs";
const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
// Importing both proves they load (transformers pulls in onnxruntime-node's native binding).
await import("@huggingface/tokenizers");
await import("@huggingface/transformers");
process.stdout.write(JSON.stringify({ tokenizers: version("@huggingface/tokenizers"), transformers: version("@huggingface/transformers") }));

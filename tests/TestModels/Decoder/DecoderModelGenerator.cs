using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Inference.Onnx;

namespace WebConsole.TestModels.Decoder;

/// <summary>
/// Writes a Llama/Qwen-style decoder in the layout optimum's <c>text-generation-with-past</c> export produces:
/// inputs <c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.{i}.key/value</c>
/// [batch_size, kv_heads, past_sequence_length, head_dim]; outputs <c>logits</c> and <c>present.{i}.key/value</c>.
/// The graph is the real architecture in standard ONNX operators (RMSNorm, rotary embeddings, grouped-query causal
/// attention over past and current tokens, SwiGLU MLP, tied or untied lm_head) with deterministic random weights, so
/// transformers.js and WebConsole run the very same computation.
/// </summary>
public static class DecoderModelGenerator
{
    /// <summary>
    /// Writes config.json, generation_config.json, the tokenizer files (copied from <paramref name="tokenizerFolder"/>,
    /// which holds a real tokenizer.json and tokenizer_config.json) and onnx/model.onnx into <paramref name="folder"/>.
    /// </summary>
    public static void Write(string folder, DecoderModelSpec spec, string tokenizerFolder, DecoderSpecialTokens special)
    {
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        var tokenizerJson = File.ReadAllText(Path.Combine(tokenizerFolder, "tokenizer.json"));
        var vocabularySize = VocabularySize(tokenizerJson);
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizerJson);
        File.Copy(Path.Combine(tokenizerFolder, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"), overwrite: true);
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), SpecialTokensMap(Path.Combine(tokenizerFolder, "tokenizer_config.json")));
        File.WriteAllText(Path.Combine(folder, "config.json"), Config(spec, vocabularySize, special));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), GenerationConfig(special));
        File.WriteAllBytes(Path.Combine(folder, "onnx", "model.onnx"), BuildModel(spec, vocabularySize));
    }

    /// <summary>One more than the largest id of the vocabulary and the added tokens.</summary>
    public static int VocabularySize(string tokenizerJson)
    {
        using var document = JsonDocument.Parse(tokenizerJson);
        var max = -1;
        foreach (var entry in document.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject())
        {
            max = Math.Max(max, entry.Value.GetInt32());
        }

        if (document.RootElement.TryGetProperty("added_tokens", out var added))
        {
            foreach (var token in added.EnumerateArray())
            {
                max = Math.Max(max, token.GetProperty("id").GetInt32());
            }
        }

        return max + 1;
    }

    private static string Config(DecoderModelSpec spec, int vocabularySize, DecoderSpecialTokens special)
    {
        var architecture = spec.ModelType switch
        {
            "qwen3" => "Qwen3ForCausalLM",
            "qwen2" => "Qwen2ForCausalLM",
            _ => "LlamaForCausalLM",
        };
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = spec.ModelType,
            ["hidden_size"] = spec.HiddenSize,
            ["intermediate_size"] = spec.IntermediateSize,
            ["num_hidden_layers"] = spec.Layers,
            ["num_attention_heads"] = spec.Heads,
            ["num_key_value_heads"] = spec.KeyValueHeads,
            ["head_dim"] = spec.HeadDim,
            ["hidden_act"] = "silu",
            ["vocab_size"] = vocabularySize,
            ["max_position_embeddings"] = spec.DeclaredMaxPositions ?? spec.MaxPositions,
            ["rope_theta"] = spec.RopeTheta,
            ["rms_norm_eps"] = spec.RmsNormEpsilon,
            ["tie_word_embeddings"] = spec.TieWordEmbeddings,
            ["attention_bias"] = false,
            ["bos_token_id"] = special.Bos,
            ["eos_token_id"] = special.ConfigEos,
            ["torch_dtype"] = "float32",
            ["use_cache"] = spec.WithPast,
            ["transformers_version"] = "4.51.3",
        };
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string GenerationConfig(DecoderSpecialTokens special)
    {
        var eos = new JsonArray();
        foreach (var id in special.GenerationEos)
        {
            eos.Add(id);
        }

        var config = new JsonObject
        {
            ["bos_token_id"] = special.Bos,
            ["eos_token_id"] = eos,
            ["transformers_version"] = "4.51.3",
        };
        if (special.Pad is { } pad)
        {
            config["pad_token_id"] = pad;
        }

        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string SpecialTokensMap(string tokenizerConfigPath)
    {
        var tokenizerConfig = JsonNode.Parse(File.ReadAllText(tokenizerConfigPath))!.AsObject();
        var map = new JsonObject();
        foreach (var key in new[] { "bos_token", "eos_token", "pad_token", "unk_token", "additional_special_tokens" })
        {
            if (tokenizerConfig[key] is { } value)
            {
                map[key] = value.DeepClone();
            }
        }

        return map.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The ONNX graph of the decoder (exposed so tests can build variants in memory).</summary>
    public static byte[] BuildModel(DecoderModelSpec spec, int vocabularySize)
    {
        var graph = new GraphWriter(spec, vocabularySize);
        return graph.Build();
    }

    private sealed class GraphWriter(DecoderModelSpec spec, int vocabularySize)
    {
        private readonly OnnxModelBuilder _builder = new("decoder", irVersion: 8, opset: 17);
        private readonly DeterministicNormal _random = new(spec.Seed);
        private int _next;

        private int H => spec.HiddenSize;

        private int D => spec.HeadDim;

        private int Groups => spec.Heads / spec.KeyValueHeads;

        public byte[] Build()
        {
            var totalLength = spec.WithPast ? "past_sequence_length + sequence_length" : "sequence_length";
            _builder
                .Input("input_ids", OnnxDataType.Int64, "batch_size", "sequence_length")
                .Input("attention_mask", OnnxDataType.Int64, "batch_size", totalLength)
                .Input("position_ids", OnnxDataType.Int64, "batch_size", "sequence_length");
            if (spec.WithPast)
            {
                for (var layer = 0; layer < spec.Layers; layer++)
                {
                    _builder
                        .Input($"past_key_values.{layer}.key", OnnxDataType.Float, "batch_size", spec.KeyValueHeads, "past_sequence_length", D)
                        .Input($"past_key_values.{layer}.value", OnnxDataType.Float, "batch_size", spec.KeyValueHeads, "past_sequence_length", D);
                }
            }

            _builder.Output("logits", OnnxDataType.Float, "batch_size", "sequence_length", vocabularySize);
            if (spec.WithPast)
            {
                for (var layer = 0; layer < spec.Layers; layer++)
                {
                    _builder
                        .Output($"present.{layer}.key", OnnxDataType.Float, "batch_size", spec.KeyValueHeads, totalLength, D)
                        .Output($"present.{layer}.value", OnnxDataType.Float, "batch_size", spec.KeyValueHeads, totalLength, D);
                }
            }

            var embedding = Weight("model.embed_tokens.weight", [vocabularySize, H], spec.EmbeddingStd);
            var hidden = Node("Gather", [embedding, "input_ids"], [OnnxAttribute.Int("axis", 0)]);
            var mask = AttentionMask();
            var (cos, sin) = Rotary();

            for (var layer = 0; layer < spec.Layers; layer++)
            {
                hidden = DecoderLayer(layer, hidden, mask, cos, sin);
            }

            var normed = RmsNorm(hidden, $"model.norm.weight", H);
            var lmHead = spec.TieWordEmbeddings
                ? Node("Transpose", [embedding], [OnnxAttribute.Ints("perm", 1, 0)])
                : Weight("lm_head.weight", [H, vocabularySize], spec.EmbeddingStd);
            _builder.Node("MatMul", [normed, lmHead], ["logits"]);
            return _builder.Build();
        }

        /// <summary>
        /// Additive mask [batch, 1, 1, sequence, total]: 0 where query i may attend key j (j is not padding and
        /// j &lt;= past + i), a large negative number elsewhere.
        /// </summary>
        private string AttentionMask()
        {
            var total = Scalar(Node("Shape", ["attention_mask"], [OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2)]));
            var sequence = Scalar(Node("Shape", ["input_ids"], [OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2)]));
            var zero = Ints([], 0);
            var one = Ints([], 1);
            var past = Node("Sub", [total, sequence]);
            var keys = Node("Range", [zero, total, one]);
            var queries = Node("Add", [Node("Range", [zero, sequence, one]), past]);
            var causal = Node("LessOrEqual", [keys, Node("Unsqueeze", [queries, Ints([1], 1)])]);
            var notPadding = Node("Cast", ["attention_mask"], [OnnxAttribute.Int("to", (long)OnnxDataType.Bool)]);
            var padding = Node("Unsqueeze", [notPadding, Ints([3], 1, 2, 3)]);
            var allowed = Node("And", [causal, padding]);
            return Node("Where", [allowed, Floats([], 0f), Floats([], -1e9f)]);
        }

        /// <summary>cos and sin [batch, 1, sequence, head_dim] for the position ids (HF's rotate_half layout).</summary>
        private (string Cos, string Sin) Rotary()
        {
            var half = D / 2;
            var cos = new float[spec.MaxPositions * D];
            var sin = new float[spec.MaxPositions * D];
            for (var position = 0; position < spec.MaxPositions; position++)
            {
                for (var i = 0; i < half; i++)
                {
                    var inverseFrequency = 1.0 / Math.Pow(spec.RopeTheta, 2.0 * i / D);
                    var angle = position * inverseFrequency;
                    cos[(position * D) + i] = cos[(position * D) + i + half] = (float)Math.Cos(angle);
                    sin[(position * D) + i] = sin[(position * D) + i + half] = (float)Math.Sin(angle);
                }
            }

            var cosTable = Constant("rotary.cos", [spec.MaxPositions, D], cos);
            var sinTable = Constant("rotary.sin", [spec.MaxPositions, D], sin);
            var axisOne = Ints([1], 1);
            return (
                Node("Unsqueeze", [Node("Gather", [cosTable, "position_ids"], [OnnxAttribute.Int("axis", 0)]), axisOne]),
                Node("Unsqueeze", [Node("Gather", [sinTable, "position_ids"], [OnnxAttribute.Int("axis", 0)]), axisOne]));
        }

        private string DecoderLayer(int layer, string hidden, string mask, string cos, string sin)
        {
            var prefix = $"model.layers.{layer}";
            var normed = RmsNorm(hidden, $"{prefix}.input_layernorm.weight", H);

            var q = Heads(normed, $"{prefix}.self_attn.q_proj.weight", spec.Heads, $"{prefix}.self_attn.q_norm.weight");
            var k = Heads(normed, $"{prefix}.self_attn.k_proj.weight", spec.KeyValueHeads, $"{prefix}.self_attn.k_norm.weight");
            var v = Heads(normed, $"{prefix}.self_attn.v_proj.weight", spec.KeyValueHeads, normWeight: null);
            q = Rope(q, cos, sin);
            k = Rope(k, cos, sin);

            if (spec.WithPast)
            {
                _builder.Node("Concat", [$"past_key_values.{layer}.key", k], [$"present.{layer}.key"], [OnnxAttribute.Int("axis", 2)]);
                _builder.Node("Concat", [$"past_key_values.{layer}.value", v], [$"present.{layer}.value"], [OnnxAttribute.Int("axis", 2)]);
                k = $"present.{layer}.key";
                v = $"present.{layer}.value";
            }

            // Grouped-query attention without copying keys: queries [b, kv, groups, s, d] broadcast against keys
            // [b, kv, 1, t, d]; query head h reads key/value head h / groups, as HF's repeat_kv does.
            var groupedQ = Node("Reshape", [q, Ints([5], 0, spec.KeyValueHeads, Groups, -1, D)]);
            var axisTwo = Ints([1], 2);
            var keysT = Node("Transpose", [Node("Unsqueeze", [k, axisTwo])], [OnnxAttribute.Ints("perm", 0, 1, 2, 4, 3)]);
            var scores = Node("Mul", [Node("MatMul", [groupedQ, keysT]), Floats([], (float)(1.0 / Math.Sqrt(D)))]);
            var probabilities = Node("Softmax", [Node("Add", [scores, mask])], [OnnxAttribute.Int("axis", -1)]);
            var context = Node("MatMul", [probabilities, Node("Unsqueeze", [v, axisTwo])]);
            var merged = Node("Reshape", [context, Ints([4], 0, spec.Heads, -1, D)]);
            var tokensFirst = Node("Transpose", [merged], [OnnxAttribute.Ints("perm", 0, 2, 1, 3)]);
            var flat = Node("Reshape", [tokensFirst, Ints([3], 0, 0, spec.Heads * D)]);
            var attention = Node("MatMul", [flat, Weight($"{prefix}.self_attn.o_proj.weight", [spec.Heads * D, H], 1f / MathF.Sqrt(spec.Heads * D))]);
            hidden = Node("Add", [hidden, attention]);

            var mlpInput = RmsNorm(hidden, $"{prefix}.post_attention_layernorm.weight", H);
            var gate = Node("MatMul", [mlpInput, Weight($"{prefix}.mlp.gate_proj.weight", [H, spec.IntermediateSize], 1f / MathF.Sqrt(H))]);
            var up = Node("MatMul", [mlpInput, Weight($"{prefix}.mlp.up_proj.weight", [H, spec.IntermediateSize], 1f / MathF.Sqrt(H))]);
            var activated = Node("Mul", [Node("Mul", [gate, Node("Sigmoid", [gate])]), up]);
            var down = Node("MatMul", [activated, Weight($"{prefix}.mlp.down_proj.weight", [spec.IntermediateSize, H], 1f / MathF.Sqrt(spec.IntermediateSize))]);
            return Node("Add", [hidden, down]);
        }

        /// <summary>Projects to heads: [b, s, hidden] -> [b, heads, s, head_dim], with Qwen3's per-head RMSNorm.</summary>
        private string Heads(string input, string weightName, int heads, string? normWeight)
        {
            var projected = Node("MatMul", [input, Weight(weightName, [H, heads * D], 1f / MathF.Sqrt(H))]);
            var split = Node("Reshape", [projected, Ints([4], 0, 0, heads, D)]);
            if (normWeight is not null && spec.ModelType == "qwen3")
            {
                split = RmsNorm(split, normWeight, D);
            }

            return Node("Transpose", [split], [OnnxAttribute.Ints("perm", 0, 2, 1, 3)]);
        }

        /// <summary>x·cos + rotate_half(x)·sin, rotate_half as a constant matrix: [x1, x2] -> [-x2, x1].</summary>
        private string Rope(string x, string cos, string sin)
        {
            var half = D / 2;
            var rotation = new float[D * D];
            for (var j = 0; j < half; j++)
            {
                rotation[((j + half) * D) + j] = -1f;
                rotation[(j * D) + j + half] = 1f;
            }

            var rotated = Node("MatMul", [x, Constant(Name("rotate_half"), [D, D], rotation)]);
            return Node("Add", [Node("Mul", [x, cos]), Node("Mul", [rotated, sin])]);
        }

        private string RmsNorm(string x, string weightName, int size)
        {
            var meanSquare = Node("ReduceMean", [Node("Mul", [x, x])], [OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1)]);
            var root = Node("Sqrt", [Node("Add", [meanSquare, Floats([], spec.RmsNormEpsilon)])]);
            var weight = new float[size];
            for (var i = 0; i < size; i++)
            {
                weight[i] = 1f + (0.1f * _random.Next());
            }

            return Node("Mul", [Node("Div", [x, root]), Constant(weightName, [size], weight)]);
        }

        private string Weight(string name, long[] dims, float std)
        {
            var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = std * _random.Next();
            }

            return Constant(name, dims, values);
        }

        private string Constant(string name, long[] dims, float[] values)
        {
            _builder.Initializer(OnnxTensor.RawFloats(name, dims, values));
            return name;
        }

        private string Floats(long[] dims, params float[] values)
        {
            var name = Name("const");
            _builder.Initializer(OnnxTensor.Floats(name, dims, values));
            return name;
        }

        private string Ints(long[] dims, params long[] values)
        {
            var name = Name("const");
            _builder.Initializer(OnnxTensor.Int64s(name, dims, values));
            return name;
        }

        private string Scalar(string oneElement) => Node("Reshape", [oneElement, Ints([0])]);

        private string Node(string op, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute>? attributes = null)
        {
            var output = Name(op);
            _builder.Node(op, inputs, [output], attributes, name: output);
            return output;
        }

        private string Name(string prefix) => $"/{prefix}_{_next++}";
    }

    /// <summary>Standard normal numbers from SplitMix64 and Box-Muller: the same weights on every machine and runtime.</summary>
    private sealed class DeterministicNormal(long seed)
    {
        private ulong _state = unchecked((ulong)seed);
        private float? _spare;

        public float Next()
        {
            if (_spare is { } spare)
            {
                _spare = null;
                return spare;
            }

            var u1 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            var u2 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
            _spare = (float)(radius * Math.Sin(2 * Math.PI * u2));
            return (float)(radius * Math.Cos(2 * Math.PI * u2));
        }

        private ulong NextUInt64()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

/// <summary>Special token ids a generated decoder's config.json and generation_config.json declare.</summary>
/// <param name="Bos">bos_token_id.</param>
/// <param name="ConfigEos">config.json's eos_token_id.</param>
/// <param name="GenerationEos">generation_config.json's eos_token_id list (what generation stops on).</param>
/// <param name="Pad">pad_token_id, if any.</param>
public sealed record DecoderSpecialTokens(int Bos, int ConfigEos, IReadOnlyList<int> GenerationEos, int? Pad);

using WebConsole.Inference.Onnx;

namespace WebConsole.TestModels.Bert;

/// <summary>
/// Writes a BERT ONNX graph with the signature optimum exports (int64 input_ids, attention_mask, token_type_ids of shape
/// [batch_size, sequence_length]; last_hidden_state or logits) and the same computation as transformers' BertModel in
/// eval mode: embeddings (word + position + token type, LayerNorm), self-attention with the additive mask
/// ((1 - mask) · float.MinValue), erf GELU feed-forward, post-LayerNorm; optional masked-LM or classification head.
/// Weights are random from a seed, scaled so attention, pooling and heads all matter to the result.
/// </summary>
public sealed class BertGraphWriter
{
    private const string Batch = "batch_size", Sequence = "sequence_length";

    private readonly BertArchitecture _shape;
    private readonly Random _random;
    private readonly OnnxModelBuilder _model = new(graphName: "main_graph", irVersion: 8, opset: 17);
    private readonly HashSet<string> _constants = new(StringComparer.Ordinal);
    private int _next;

    private BertGraphWriter(BertArchitecture shape, int seed)
    {
        _shape = shape;
        _random = new Random(seed);
    }

    /// <summary>The serialized model.</summary>
    public static byte[] Write(BertArchitecture shape, int seed)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.HiddenSize % shape.AttentionHeads != 0)
        {
            throw new ArgumentException("The hidden size must divide into the attention heads.", nameof(shape));
        }

        return new BertGraphWriter(shape, seed).Build();
    }

    private byte[] Build()
    {
        var h = _shape.HiddenSize;
        _model.Input("input_ids", OnnxDataType.Int64, Batch, Sequence)
            .Input("attention_mask", OnnxDataType.Int64, Batch, Sequence)
            .Input("token_type_ids", OnnxDataType.Int64, Batch, Sequence);

        // Embeddings: positions are the first sequence_length rows of the position table.
        var wordTable = Weight("embeddings.word_embeddings.weight", [_shape.VocabularySize, h], 0.5f);
        var words = Op("Gather", [wordTable, "input_ids"], OnnxAttribute.Int("axis", 0));
        var length = Op("Shape", ["input_ids"], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));
        var positions = Op("Slice", [Weight("embeddings.position_embeddings.weight", [_shape.MaxPositionEmbeddings, h], 0.5f), Ints("zero_1d", [1], 0), length, Ints("zero_1d", [1], 0)]);
        var types = Op("Gather", [Weight("embeddings.token_type_embeddings.weight", [_shape.TypeVocabularySize, h], 0.5f), "token_type_ids"], OnnxAttribute.Int("axis", 0));
        var hidden = LayerNorm("embeddings.LayerNorm", Op("Add", [Op("Add", [words, positions]), types]));

        // The extended attention mask [batch, 1, 1, sequence]: 0 where attended, the lowest float where padded.
        var mask = Op("Cast", ["attention_mask"], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        mask = Op("Unsqueeze", [mask, Ints("mask_axes", [2], 1, 2)]);
        mask = Op("Mul", [Op("Sub", [Scalar("one", 1f), mask]), Scalar("float_min", float.MinValue)]);

        for (var layer = 0; layer < _shape.Layers; layer++)
        {
            hidden = EncoderLayer($"encoder.layer.{layer}", hidden, mask);
        }

        switch (_shape.Head)
        {
            case BertHead.None:
                _model.Node("Identity", [hidden], ["last_hidden_state"]);
                _model.Output("last_hidden_state", OnnxDataType.Float, Batch, Sequence, h);
                break;
            case BertHead.MaskedLanguageModel:
                // cls.predictions: transform (dense, GELU, LayerNorm), then the decoder tied to the word embeddings.
                var transformed = LayerNorm("cls.predictions.transform.LayerNorm", Gelu(Dense("cls.predictions.transform.dense", hidden, h, h, 0.3f)));
                var decoder = Op("Transpose", [wordTable], OnnxAttribute.Ints("perm", 1, 0));
                var bias = Weight("cls.predictions.bias", [_shape.VocabularySize], 0.5f, mean: -6f);
                _model.Node("Add", [Op("MatMul", [transformed, decoder]), bias], ["logits"]);
                _model.Output("logits", OnnxDataType.Float, Batch, Sequence, _shape.VocabularySize);
                break;
            case BertHead.SequenceClassification:
                // The pooler reads the first ([CLS]) token: tanh(dense); the classifier is a dense layer to the labels.
                var first = Op("Gather", [hidden, Ints("first_token", [], 0)], OnnxAttribute.Int("axis", 1));
                var pooled = Op("Tanh", [Dense("pooler.dense", first, h, h, 0.4f)]);
                var scores = Dense("classifier", pooled, h, _shape.Labels, 0.6f);
                _model.Node("Identity", [scores], ["logits"]);
                _model.Output("logits", OnnxDataType.Float, Batch, _shape.Labels);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(_shape), _shape.Head, "Unknown head.");
        }

        return _model.Build();
    }

    private string EncoderLayer(string prefix, string hidden, string mask)
    {
        int h = _shape.HiddenSize, heads = _shape.AttentionHeads, size = _shape.HeadSize;
        var splitHeads = Ints($"{prefix}.split_heads", [4], 0, 0, heads, size);
        string Heads(string x, params long[] perm) => Op("Transpose", [Op("Reshape", [x, splitHeads])], OnnxAttribute.Ints("perm", perm));

        var query = Heads(Dense($"{prefix}.attention.self.query", hidden, h, h, 0.35f), 0, 2, 1, 3);
        var keyT = Heads(Dense($"{prefix}.attention.self.key", hidden, h, h, 0.35f), 0, 2, 3, 1);
        var value = Heads(Dense($"{prefix}.attention.self.value", hidden, h, h, 0.3f), 0, 2, 1, 3);
        var scores = Op("Div", [Op("MatMul", [query, keyT]), Scalar($"{prefix}.scale", MathF.Sqrt(size))]);
        var probabilities = Op("Softmax", [Op("Add", [scores, mask])], OnnxAttribute.Int("axis", -1));
        var context = Op("Transpose", [Op("MatMul", [probabilities, value])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        context = Op("Reshape", [context, Ints($"{prefix}.merge_heads", [3], 0, 0, h)]);
        var attention = Dense($"{prefix}.attention.output.dense", context, h, h, 0.3f);
        var attended = LayerNorm($"{prefix}.attention.output.LayerNorm", Op("Add", [attention, hidden]));

        var intermediate = Gelu(Dense($"{prefix}.intermediate.dense", attended, h, _shape.IntermediateSize, 0.3f));
        var output = Dense($"{prefix}.output.dense", intermediate, _shape.IntermediateSize, h, 0.25f);
        return LayerNorm($"{prefix}.output.LayerNorm", Op("Add", [output, attended]));
    }

    private string Dense(string prefix, string input, int inputs, int outputs, float scale)
    {
        // Exports store Linear weights transposed for MatMul: [in, out].
        var product = Op("MatMul", [input, Weight($"{prefix}.weight", [inputs, outputs], scale)]);
        return Op("Add", [product, Weight($"{prefix}.bias", [outputs], 0.05f)]);
    }

    private string LayerNorm(string prefix, string input) =>
        Op(
            "LayerNormalization",
            [input, Weight($"{prefix}.weight", [_shape.HiddenSize], 0.1f, mean: 1f), Weight($"{prefix}.bias", [_shape.HiddenSize], 0.1f)],
            OnnxAttribute.Int("axis", -1),
            OnnxAttribute.Float("epsilon", _shape.LayerNormEpsilon));

    // transformers' "gelu": x · 0.5 · (1 + erf(x / √2)).
    private string Gelu(string x)
    {
        var erf = Op("Erf", [Op("Div", [x, Scalar("sqrt_two", MathF.Sqrt(2f))])]);
        return Op("Mul", [Op("Mul", [x, Op("Add", [erf, Scalar("one", 1f)])]), Scalar("half", 0.5f)]);
    }

    private string Op(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        var output = $"/{opType}_{_next++}_output_0";
        _model.Node(opType, inputs, [output], attributes, name: $"/{opType}_{_next}");
        return output;
    }

    private string Weight(string name, long[] dims, float scale, float mean = 0f)
    {
        var values = new float[dims.Aggregate(1L, (product, dim) => product * dim)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = mean + (scale * Normal());
        }

        _model.Initializer(OnnxTensor.RawFloats(name, dims, values));
        return name;
    }

    private string Scalar(string name, float value)
    {
        if (_constants.Add(name))
        {
            _model.Initializer(OnnxTensor.Floats(name, [], [value]));
        }

        return name;
    }

    private string Ints(string name, long[] dims, params long[] values)
    {
        if (_constants.Add(name))
        {
            _model.Initializer(OnnxTensor.Int64s(name, dims, values));
        }

        return name;
    }

    // Box–Muller on System.Random with a seed: the same weights on every machine and .NET version.
    private float Normal()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}

using System.Runtime.InteropServices;
using WebConsole.Inference.Onnx;
using static WebConsole.Inference.Starter.DemoChat.DemoChatSettings;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// Writes the demo chat model as an ONNX decoder with optimum's <c>text-generation-with-past</c> signature, so the host's
/// decoder pipeline runs it like any exported causal LM: inputs <c>input_ids</c> [batch, sequence], <c>attention_mask</c>
/// [batch, past + sequence], <c>past_key_values.0.key/value</c> [batch, 2, past, 64]; outputs <c>logits</c>
/// [batch, sequence, vocabulary] and <c>present.0.key/value</c>. One layer, two heads, and the cache is what carries the
/// conversation from step to step:
/// <list type="bullet">
/// <item>head 0 keeps each token's id and whether it belongs to a user or system message (value channels 0 and 1). A
/// step reads the previous token's id from it, the context of the trigram lookup, the ids of the last
/// <see cref="RecentWindow"/> tokens, for the repetition penalty, and the last token's message flag, which the next chunk's
/// tokens inherit until a role marker;</item>
/// <item>head 1 keeps each token's topic vector (value) and salience (key channel 0, raised by
/// <see cref="MessageBonus"/> inside messages). A step attends over every earlier token with the fixed query e0 (the
/// score is the salience) and an ALiBi recency bias, and the attended topic vector adds its low-rank topic scores to the
/// logits: the words of the user's message pull the answer towards related words.</item>
/// </list>
/// The logits of position t: the bigram row of token t (exact successors scattered over a shaped backoff), the trigram
/// row of (token t-1, token t) when the pair is in the table (found by a branchless binary search over sorted keys),
/// plus the topic scores, minus the repetition penalty, with the tokens never produced held at <see cref="Never"/>.
/// </summary>
internal sealed class DemoChatGraph(DemoChatWeights weights)
{
    private readonly OnnxModelBuilder _builder = new("demo_chat", irVersion: 8, opset: 17);
    private readonly int _v = weights.Vocabulary.Count;
    private int _next;

    public byte[] Build()
    {
        const string Total = "past_sequence_length + sequence_length";
        _builder
            .Input("input_ids", OnnxDataType.Int64, "batch_size", "sequence_length")
            .Input("attention_mask", OnnxDataType.Int64, "batch_size", Total)
            .Input("past_key_values.0.key", OnnxDataType.Float, "batch_size", Heads, "past_sequence_length", HeadDim)
            .Input("past_key_values.0.value", OnnxDataType.Float, "batch_size", Heads, "past_sequence_length", HeadDim)
            .Output("logits", OnnxDataType.Float, "batch_size", "sequence_length", _v)
            .Output("present.0.key", OnnxDataType.Float, "batch_size", Heads, Total, HeadDim)
            .Output("present.0.value", OnnxDataType.Float, "batch_size", Heads, Total, HeadDim);

        // Positions: queries are past..total-1, keys 0..total-1.
        var total = Scalar(Node("Shape", ["attention_mask"], [OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2)]));
        var sequence = Scalar(Node("Shape", ["input_ids"], [OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2)]));
        var past = Node("Sub", [total, sequence]);
        var queries = Node("Range", [past, total, Ints([], 1)]);
        var keys = Node("Range", [Ints([], 0), total, Ints([], 1)]);

        var (presentKey, presentValue) = Cache(past);
        var ids = Node("Squeeze", [Gather(Gather(presentValue, Ints([1], 0), axis: 1), Ints([1], 0), axis: 3), Ints([2], 1, 3)]);

        var logits = NGram(ids, queries);
        logits = Node("Add", [logits, Topic(presentKey, presentValue, queries, keys)]);
        logits = Node("Sub", [logits, Repetition(ids, queries, total, past)]);
        _builder.Node("Add", [logits, Floats("demo_chat.output_bias", [_v], weights.OutputBias)], ["logits"]);
        return _builder.Build();
    }

    /// <summary>
    /// The new tokens' keys and values appended to the past. Head 0: key 0, value (id, in-message flag). Head 1: key
    /// (salience + <see cref="MessageBonus"/> · flag)·e0, value the topic vector. The flag says whether a token is part of
    /// a user or system message: the value of the last role marker at or before it (1 after <c>&lt;|user|&gt;</c> or
    /// <c>&lt;|system|&gt;</c>, 0 after <c>&lt;|assistant|&gt;</c> or <c>&lt;|end|&gt;</c>), carried over from the cached
    /// last token when the chunk has no marker yet.
    /// </summary>
    private (string Key, string Value) Cache(string past)
    {
        var ids = "input_ids";
        var e0 = Floats("demo_chat.unit_e0", [HeadDim], Unit(0));
        var e1 = Floats("demo_chat.unit_e1", [HeadDim], Unit(1));

        var opens = Node("Or", [Node("Equal", [ids, Ints([], DemoChatVocabulary.User)]), Node("Equal", [ids, Ints([], DemoChatVocabulary.System)])]);
        var closes = Node("Or", [Node("Equal", [ids, Ints([], DemoChatVocabulary.Assistant)]), Node("Equal", [ids, Ints([], DemoChatVocabulary.End)])]);
        var marker = Node("Or", [opens, closes]);
        var segment = Node("CumSum", [Node("Cast", [marker], [OnnxAttribute.Int("to", (long)OnnxDataType.Int64)]), Ints([], 1)]);

        // last[b, t, j]: j is the last marker at or before t (a marker in t's segment); the flag is that marker's value.
        var positions = Node("Range", [Ints([], 0), Scalar(Node("Shape", [ids], [OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2)])), Ints([], 1)]);
        var notAfter = Node("LessOrEqual", [positions, Node("Unsqueeze", [positions, Ints([1], 1)])]);
        var sameSegment = Node("Equal", [Node("Unsqueeze", [segment, Ints([1], 1)]), Node("Unsqueeze", [segment, Ints([1], 2)])]);
        var last = Node("And", [Node("And", [notAfter, sameSegment]), Node("Unsqueeze", [marker, Ints([1], 1)])]);
        var markerValue = Node("Unsqueeze", [Node("Cast", [opens], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]), Ints([1], -1)]);
        var fromMarker = Node("Squeeze", [Node("MatMul", [Node("Cast", [last], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]), markerValue]), Ints([1], -1)]);

        // Before the chunk's first marker: the flag of the last cached token (0 with no past: a zero row is put in front).
        var firstColumn = Node("Cast", [Node("Slice", [ids, Ints([1], 0), Ints([1], 1), Ints([1], 1)])], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]);
        var zeroRow = Node("Mul", [Node("Unsqueeze", [firstColumn, Ints([2], 2, 3)]), Floats(Name("zeros"), [1, Heads, 1, HeadDim], new float[Heads * HeadDim])]);
        var withZero = Node("Concat", [zeroRow, "past_key_values.0.value"], [OnnxAttribute.Int("axis", 2)]);
        var lastCached = Gather(Gather(Gather(withZero, past, axis: 2), Ints([], 0), axis: 1), Ints([], 1), axis: 1);
        var flag = Node("Where", [Node("Equal", [segment, Ints([], 0)]), Node("Unsqueeze", [lastCached, Ints([1], 1)]), fromMarker]);

        var id = Node("Cast", [ids], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]);
        var idValue = Node("Add", [Node("Mul", [Node("Unsqueeze", [id, Ints([1], -1)]), e0]), Node("Mul", [Node("Unsqueeze", [flag, Ints([1], -1)]), e1])]);
        var noKey = Node("Mul", [idValue, Floats(Name("zero"), [], 0f)]);
        var salience = Node("Add", [Gather(Floats("demo_chat.topic.salience", [_v], weights.Salience), ids), Node("Mul", [flag, Floats(Name("bonus"), [], MessageBonus)])]);
        var topicKey = Node("Mul", [Node("Unsqueeze", [salience, Ints([1], -1)]), e0]);
        var topicValue = Gather(Floats("demo_chat.topic.embeddings", [_v, HeadDim], weights.TopicEmbeddings), ids);

        var key = Node("Concat", [Node("Unsqueeze", [noKey, Ints([1], 1)]), Node("Unsqueeze", [topicKey, Ints([1], 1)])], [OnnxAttribute.Int("axis", 1)]);
        var value = Node("Concat", [Node("Unsqueeze", [idValue, Ints([1], 1)]), Node("Unsqueeze", [topicValue, Ints([1], 1)])], [OnnxAttribute.Int("axis", 1)]);
        _builder.Node("Concat", ["past_key_values.0.key", key], ["present.0.key"], [OnnxAttribute.Int("axis", 2)]);
        _builder.Node("Concat", ["past_key_values.0.value", value], ["present.0.value"], [OnnxAttribute.Int("axis", 2)]);
        return ("present.0.key", "present.0.value");
    }

    private static float[] Unit(int channel)
    {
        var unit = new float[HeadDim];
        unit[channel] = 1;
        return unit;
    }

    /// <summary>Bigram row of the current token, then the trigram row of (previous, current) where the table has the pair.</summary>
    private string NGram(string cachedIds, string queries)
    {
        var bigram = weights.Bigram;
        var classes = Gather(Int64s("demo_chat.bigram.classes", [_v], [.. bigram.Classes.Select(c => (long)c)]), "input_ids");
        var row = Gather(Floats("demo_chat.bigram.lower_order", [2, _v], bigram.Unigram), classes);
        var backoff = Node("Unsqueeze", [Gather(Floats("demo_chat.bigram.backoff", [_v], bigram.Backoff), "input_ids"), Ints([1], -1)]);
        var shapeEmbedding = Gather(Floats("demo_chat.bigram.shape_embeddings", [_v, HeadDim], bigram.ShapeEmbeddings), "input_ids");
        var shape = Node("MatMul", [shapeEmbedding, Floats("demo_chat.bigram.shape_output", [HeadDim, _v], bigram.ShapeOutput)]);
        row = Node("Add", [Node("Add", [row, backoff]), shape]);
        row = Node("ScatterElements", [
            row,
            Gather(Int32s("demo_chat.bigram.successor_ids", [_v, Successors], bigram.Ids), "input_ids"),
            Gather(Floats("demo_chat.bigram.successor_logits", [_v, Successors], bigram.Logits), "input_ids"),
        ], [OnnxAttribute.Int("axis", 2)]);

        // The previous token of each query (the first position, having none, pairs with itself: no such pair is stored).
        var previousPositions = Node("Max", [Node("Sub", [queries, Ints([], 1)]), Ints([], 0)]);
        var previous = Node("Cast", [Gather(cachedIds, previousPositions, axis: 1)], [OnnxAttribute.Int("to", (long)OnnxDataType.Int64)]);
        var pair = Node("Add", [Node("Mul", [previous, Ints([], _v)]), "input_ids"]);

        var trigram = weights.Trigram;
        var table = Int64s("demo_chat.trigram.keys", [trigram.Keys.Length], trigram.Keys);
        var index = LowerBound(table, trigram.Keys.Length - 1, pair);
        var found = Node("Equal", [Gather(table, index), pair]);
        var found3 = Node("Unsqueeze", [found, Ints([1], -1)]);
        var trigramBackoff = Node("Where", [found, Gather(Floats("demo_chat.trigram.backoff", [trigram.Backoff.Length], trigram.Backoff), index), Floats(Name("zero"), [], 0f)]);
        var trigramIds = Node("Where", [found3, Gather(Int32s("demo_chat.trigram.successor_ids", [trigram.Backoff.Length, TrigramSuccessors], trigram.Ids), index), Int32s(Name("pad"), [], [DemoChatVocabulary.Pad])]);
        var trigramLogits = Node("Where", [found3, Gather(Floats("demo_chat.trigram.successor_logits", [trigram.Backoff.Length, TrigramSuccessors], trigram.Logits), index), Floats(Name("never"), [], Never)]);
        row = Node("Add", [row, Node("Unsqueeze", [trigramBackoff, Ints([1], -1)])]);
        return Node("ScatterElements", [row, trigramIds, trigramLogits], [OnnxAttribute.Int("axis", 2)]);
    }

    /// <summary>
    /// How many of the sorted <paramref name="table"/>'s keys are below <paramref name="target"/>: a branchless binary search
    /// in fixed steps (halving powers of two); probes past <paramref name="last"/>, the sentinel, read the sentinel.
    /// </summary>
    private string LowerBound(string table, int last, string target)
    {
        var step = 1L;
        while (step <= last)
        {
            step *= 2;
        }

        var lo = Node("Mul", [target, Ints([], 0)]);
        for (step /= 2; step >= 1; step /= 2)
        {
            var probe = Node("Min", [Node("Add", [lo, Ints([], step - 1)]), Ints([], last)]);
            var below = Node("Cast", [Node("Less", [Gather(table, probe), target])], [OnnxAttribute.Int("to", (long)OnnxDataType.Int64)]);
            lo = Node("Add", [lo, Node("Mul", [below, Ints([], step)])]);
        }

        return lo;
    }

    /// <summary>The topic head: softmax over earlier tokens of salience minus ALiBi distance, times their topic vectors, to logits.</summary>
    private string Topic(string presentKey, string presentValue, string queries, string keys)
    {
        var head = Ints([1], 1);
        var salience = Node("Squeeze", [Gather(Gather(presentKey, head, axis: 1), Ints([1], 0), axis: 3), Ints([2], 1, 3)]);
        var distance = Node("Cast", [Node("Sub", [Node("Unsqueeze", [queries, Ints([1], 1)]), keys])], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]);
        var causal = Node("GreaterOrEqual", [distance, Floats(Name("zero"), [], 0f)]);
        var visible = Node("And", [causal, Node("Unsqueeze", [Node("Cast", ["attention_mask"], [OnnxAttribute.Int("to", (long)OnnxDataType.Bool)]), Ints([1], 1)])]);
        var scores = Node("Add", [Node("Unsqueeze", [salience, Ints([1], 1)]), Node("Mul", [distance, Floats(Name("slope"), [], -TopicDecay)])]);
        scores = Node("Where", [visible, scores, Floats(Name("masked"), [], -1e9f)]);
        var attention = Node("Softmax", [scores], [OnnxAttribute.Int("axis", -1)]);
        var values = Node("Squeeze", [Gather(presentValue, head, axis: 1), Ints([1], 1)]);
        var context = Node("MatMul", [attention, values]);
        return Node("MatMul", [context, Floats("demo_chat.topic.output", [HeadDim, _v], weights.TopicOutput)]);
    }

    /// <summary>
    /// The repetition penalty: for each query, the tokens of the last <see cref="RecentWindow"/> positions (itself included),
    /// weighted exp(-distance / <see cref="RecentDecay"/>), counted per vocabulary entry and scaled by each token's penalty.
    /// Only the window's slice of the cache is read, so the cost does not grow with the conversation.
    /// </summary>
    private string Repetition(string cachedIds, string queries, string total, string past)
    {
        var start = Node("Max", [Node("Sub", [past, Ints([], RecentWindow - 1)]), Ints([], 0)]);
        var window = Node("Slice", [cachedIds, Node("Unsqueeze", [start, Ints([1], 0)]), Node("Unsqueeze", [total, Ints([1], 0)]), Ints([1], 1)]);
        var windowIds = Node("Cast", [window], [OnnxAttribute.Int("to", (long)OnnxDataType.Int64)]);
        var windowMask = Node("Slice", ["attention_mask", Node("Unsqueeze", [start, Ints([1], 0)]), Node("Unsqueeze", [total, Ints([1], 0)]), Ints([1], 1)]);
        var positions = Node("Range", [start, total, Ints([], 1)]);
        var distance = Node("Sub", [Node("Unsqueeze", [queries, Ints([1], 1)]), positions]);
        var inWindow = Node("And", [
            Node("GreaterOrEqual", [distance, Ints([], 0)]),
            Node("Less", [distance, Ints([], RecentWindow)]),
        ]);
        var decay = Node("Exp", [Node("Mul", [Node("Cast", [distance], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]), Floats(Name("decay"), [], -1f / RecentDecay)])]);
        var weight = Node("Where", [inWindow, decay, Floats(Name("zero"), [], 0f)]);
        weight = Node("Mul", [weight, Node("Unsqueeze", [Node("Cast", [windowMask], [OnnxAttribute.Int("to", (long)OnnxDataType.Float)]), Ints([1], 1)])]);
        var oneHot = Node("OneHot", [windowIds, Ints([], _v), Floats(Name("one_hot"), [2], 0f, 1f)], [OnnxAttribute.Int("axis", -1)]);
        var counts = Node("MatMul", [weight, oneHot]);
        return Node("Mul", [counts, Floats("demo_chat.repetition.penalty", [_v], weights.RepeatPenalty)]);
    }

    private string Gather(string data, string indices, long axis = 0) =>
        Node("Gather", [data, indices], [OnnxAttribute.Int("axis", axis)]);

    private string Scalar(string oneElement) => Node("Reshape", [oneElement, Ints([0])]);

    private string Floats(string name, long[] dims, params float[] values)
    {
        _builder.Initializer(values.Length > 16 ? OnnxTensor.RawFloats(name, dims, values) : OnnxTensor.Floats(name, dims, values));
        return name;
    }

    private string Int64s(string name, long[] dims, long[] values)
    {
        _builder.Initializer(OnnxTensor.Raw(name, OnnxDataType.Int64, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    private string Int32s(string name, long[] dims, int[] values)
    {
        _builder.Initializer(OnnxTensor.Raw(name, OnnxDataType.Int32, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    private string Ints(long[] dims, params long[] values)
    {
        var name = Name("const");
        _builder.Initializer(OnnxTensor.Int64s(name, dims, values));
        return name;
    }

    private string Node(string op, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute>? attributes = null)
    {
        var output = Name(op);
        _builder.Node(op, inputs, [output], attributes, name: output);
        return output;
    }

    private string Name(string prefix) => $"/{prefix}_{_next++}";
}

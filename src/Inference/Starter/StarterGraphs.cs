using System.Runtime.InteropServices;
using WebConsole.Inference.Onnx;

namespace WebConsole.Inference.Starter;

/// <summary>
/// The ONNX graphs of the starter models, with the input and output signatures of Hugging Face exports (int64
/// <c>input_ids</c> / <c>attention_mask</c> / <c>token_type_ids</c> of shape [batch, sequence]) so the encoder pipelines
/// serve them unchanged. Every graph starts from a word-vector table looked up by token id (Gather); rows of special
/// tokens and [UNK] are zero.
/// </summary>
internal static class StarterGraphs
{
    private const string Batch = "batch_size", Sequence = "sequence_length";

    /// <summary>
    /// text_embedding: <c>last_hidden_state</c> [batch, sequence, d] = the token's row of <paramref name="table"/> (float16,
    /// [vocabulary, d]), zero where the attention mask is 0. The pipeline's mean pooling then averages the rows.
    /// </summary>
    public static byte[] Embedding(Half[] table, int vocabulary, int dimensions)
    {
        var model = new OnnxModelBuilder(graphName: "starter_embedding")
            .Input("input_ids", OnnxDataType.Int64, Batch, Sequence)
            .Input("attention_mask", OnnxDataType.Int64, Batch, Sequence)
            .Initializer(Float16("word_vectors", [vocabulary, dimensions], table))
            .Initializer(OnnxTensor.Int64s("last_axis", [1], [-1]));
        model.Node("Gather", ["word_vectors", "input_ids"], ["rows16"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Cast", ["rows16"], ["rows"], [ToFloat]);
        model.Node("Cast", ["attention_mask"], ["mask"], [ToFloat]);
        model.Node("Unsqueeze", ["mask", "last_axis"], ["mask3"]);
        model.Node("Mul", ["rows", "mask3"], ["last_hidden_state"]);
        return model.Output("last_hidden_state", OnnxDataType.Float, Batch, Sequence, dimensions).Build();
    }

    /// <summary>
    /// sparse_embedding, already pooled: <c>logits</c> [batch, vocabulary] = for each vocabulary word v, the maximum over
    /// the input's tokens t of min(w(v), w(t)) · ReLU((cos(t, v) − θ) / (1 − θ)). <paramref name="unitVectors"/> are unit
    /// rows (zero for special tokens), <paramref name="weights"/> the per-word weights (zero for special tokens and stop
    /// words). A Scan over the sequence keeps one [batch, vocabulary] running maximum, so memory does not grow with
    /// sequence × vocabulary as a per-token [batch, sequence, vocabulary] output would.
    /// </summary>
    public static byte[] Sparse(float[] unitVectors, float[] weights, int vocabulary, int dimensions, float threshold)
    {
        // The body sees one token of every row per step: its unit vector and its weight.
        var body = new OnnxModelBuilder(graphName: "expand_token")
            .Input("best_in", OnnxDataType.Float, Batch, vocabulary)
            .Input("token_vector", OnnxDataType.Float, Batch, dimensions)
            .Input("token_weight", OnnxDataType.Float, Batch, 1);
        body.Node("MatMul", ["token_vector", "unit_vectors_t"], ["cosine_scaled"]);
        body.Node("Add", ["cosine_scaled", "threshold_bias"], ["shifted"]);
        body.Node("Relu", ["shifted"], ["closeness"]);
        body.Node("Min", ["word_weights", "token_weight"], ["pair_weight"]);
        body.Node("Mul", ["closeness", "pair_weight"], ["expansion"]);
        body.Node("Max", ["best_in", "expansion"], ["best_out"]);
        body.Output("best_out", OnnxDataType.Float, Batch, vocabulary);

        var scale = 1f / (1f - threshold);
        var model = new OnnxModelBuilder(graphName: "starter_sparse")
            .Input("input_ids", OnnxDataType.Int64, Batch, Sequence)
            .Input("attention_mask", OnnxDataType.Int64, Batch, Sequence)
            .Initializer(OnnxTensor.RawFloats("unit_vectors", [vocabulary, dimensions], unitVectors))
            .Initializer(OnnxTensor.RawFloats("word_weights", [vocabulary], weights))
            .Initializer(OnnxTensor.Floats("scale", [], [scale]))
            .Initializer(OnnxTensor.Floats("threshold_bias", [], [-threshold * scale]))
            .Initializer(OnnxTensor.Int64s("last_axis", [1], [-1]))
            .Initializer(OnnxTensor.Int64s("vocabulary_size", [1], [vocabulary]));
        // (cos − θ) / (1 − θ) = (u_t / (1 − θ)) · u_v − θ / (1 − θ): the scale goes onto the token's vector.
        model.Node("Transpose", ["unit_vectors"], ["unit_vectors_t"], [OnnxAttribute.Ints("perm", 1, 0)]);
        model.Node("Gather", ["unit_vectors", "input_ids"], ["token_units"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Mul", ["token_units", "scale"], ["token_vectors"]);

        // Padding contributes nothing: its weight is zeroed by the mask (and its row is zero anyway).
        model.Node("Gather", ["word_weights", "input_ids"], ["token_weights_raw"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Cast", ["attention_mask"], ["mask"], [ToFloat]);
        model.Node("Mul", ["token_weights_raw", "mask"], ["token_weights2"]);
        model.Node("Unsqueeze", ["token_weights2", "last_axis"], ["token_weights"]);

        // The running maximum starts at zero, as SPLADE's max over ReLU outputs does: [batch, vocabulary].
        model.Node("Shape", ["input_ids"], ["batch_size_1d"], [OnnxAttribute.Int("start", 0), OnnxAttribute.Int("end", 1)]);
        model.Node("Concat", ["batch_size_1d", "vocabulary_size"], ["best_shape"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("ConstantOfShape", ["best_shape"], ["best_start"], [OnnxAttribute.Tensor("value", OnnxTensor.Floats("zero", [1], [0f]))]);
        model.Node(
            "Scan",
            ["best_start", "token_vectors", "token_weights"],
            ["logits"],
            [
                OnnxAttribute.Graph("body", body),
                OnnxAttribute.Int("num_scan_inputs", 2),
                OnnxAttribute.Ints("scan_input_axes", 1, 1),
            ]);
        return model.Output("logits", OnnxDataType.Float, Batch, vocabulary).Build();
    }

    /// <summary>
    /// rerank (cross-encoder signature): <c>logits</c> [batch, 1] = scale · (score − shift), where score mixes two
    /// similarities between the query (token type 0) and the document (token type 1): the weighted geometric mean over
    /// query words of their best cosine to any document word (MaxSim, floored at <paramref name="cosineFloor"/>), and the
    /// cosine between the weighted mean vectors of both sides. Padding, special tokens and unknown words take no part.
    /// </summary>
    public static byte[] Rerank(Half[] unitVectors, float[] weights, int vocabulary, int dimensions, RerankCalibration calibration, float cosineFloor)
    {
        var valid = new float[vocabulary];
        for (var id = 0; id < vocabulary; id++)
        {
            valid[id] = weights[id] > 0 ? 1f : 0f;
        }

        var model = new OnnxModelBuilder(graphName: "starter_rerank")
            .Input("input_ids", OnnxDataType.Int64, Batch, Sequence)
            .Input("attention_mask", OnnxDataType.Int64, Batch, Sequence)
            .Input("token_type_ids", OnnxDataType.Int64, Batch, Sequence)
            .Initializer(Float16("unit_vectors", [vocabulary, dimensions], unitVectors))
            .Initializer(OnnxTensor.RawFloats("word_weights", [vocabulary], weights))
            .Initializer(OnnxTensor.RawFloats("is_word", [vocabulary], valid))
            .Initializer(OnnxTensor.Floats("one", [], [1f]))
            .Initializer(OnnxTensor.Floats("half", [], [0.5f]))
            .Initializer(OnnxTensor.Floats("outside", [], [4f]))
            .Initializer(OnnxTensor.Floats("floor", [], [cosineFloor]))
            .Initializer(OnnxTensor.Floats("floor_log", [], [MathF.Log(cosineFloor)]))
            .Initializer(OnnxTensor.Floats("epsilon", [], [1e-6f]))
            .Initializer(OnnxTensor.Floats("tiny", [], [1e-12f]))
            .Initializer(OnnxTensor.Floats("shift", [], [calibration.Shift]))
            .Initializer(OnnxTensor.Floats("scale", [], [calibration.Scale]))
            .Initializer(OnnxTensor.Int64s("axis_1", [1], [1]))
            .Initializer(OnnxTensor.Int64s("axis_last", [1], [-1]));

        model.Node("Gather", ["unit_vectors", "input_ids"], ["vectors16"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Cast", ["vectors16"], ["vectors"], [ToFloat]);
        model.Node("Gather", ["word_weights", "input_ids"], ["weights"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Gather", ["is_word", "input_ids"], ["words"], [OnnxAttribute.Int("axis", 0)]);
        model.Node("Cast", ["attention_mask"], ["mask"], [ToFloat]);
        model.Node("Cast", ["token_type_ids"], ["document_side"], [ToFloat]);
        model.Node("Sub", ["one", "document_side"], ["query_side"]);

        // Query weights [batch, sequence] and the document's word mask.
        model.Node("Mul", ["weights", "mask"], ["masked_weights"]);
        model.Node("Mul", ["masked_weights", "query_side"], ["query_weights"]);
        model.Node("Mul", ["masked_weights", "document_side"], ["document_weights"]);
        model.Node("Mul", ["words", "mask"], ["masked_words"]);
        model.Node("Mul", ["masked_words", "document_side"], ["document_words"]);

        // MaxSim: cosines of all token pairs [batch, sequence, sequence]; columns that are not document words drop by 4
        // (below any cosine), so each row's maximum is its best document word.
        model.Node("Transpose", ["vectors"], ["vectors_t"], [OnnxAttribute.Ints("perm", 0, 2, 1)]);
        model.Node("MatMul", ["vectors", "vectors_t"], ["cosines"]);
        model.Node("Sub", ["document_words", "one"], ["not_document"]);
        model.Node("Mul", ["not_document", "outside"], ["column_penalty2"]);
        model.Node("Unsqueeze", ["column_penalty2", "axis_1"], ["column_penalty"]);
        model.Node("Add", ["cosines", "column_penalty"], ["document_cosines"]);
        model.Node("ReduceMax", ["document_cosines"], ["best"], [OnnxAttribute.Ints("axes", 2), OnnxAttribute.Int("keepdims", 0)]);

        // Weighted geometric mean of the floored best cosines; a query without words scores the floor.
        model.Node("Max", ["best", "floor"], ["best_floored"]);
        model.Node("Log", ["best_floored"], ["best_log"]);
        model.Node("Mul", ["best_log", "query_weights"], ["weighted_log"]);
        model.Node("ReduceSum", ["weighted_log", "axis_1"], ["log_sum"], [OnnxAttribute.Int("keepdims", 0)]);
        model.Node("ReduceSum", ["query_weights", "axis_1"], ["weight_sum"], [OnnxAttribute.Int("keepdims", 0)]);
        model.Node("Mul", ["floor_log", "epsilon"], ["empty_log"]);
        model.Node("Add", ["log_sum", "empty_log"], ["log_total"]);
        model.Node("Add", ["weight_sum", "epsilon"], ["weight_total"]);
        model.Node("Div", ["log_total", "weight_total"], ["mean_log"]);
        model.Node("Exp", ["mean_log"], ["maxsim"]);

        // Cosine of the weighted mean vectors: [batch, 1, sequence] x [batch, sequence, d].
        model.Node("Unsqueeze", ["query_weights", "axis_1"], ["query_weights3"]);
        model.Node("Unsqueeze", ["document_weights", "axis_1"], ["document_weights3"]);
        model.Node("MatMul", ["query_weights3", "vectors"], ["query_mean"]);
        model.Node("MatMul", ["document_weights3", "vectors"], ["document_mean"]);
        model.Node("Mul", ["query_mean", "document_mean"], ["mean_products"]);
        model.Node("ReduceSum", ["mean_products", "axis_last"], ["mean_dot3"], [OnnxAttribute.Int("keepdims", 0)]);
        model.Node("Mul", ["query_mean", "query_mean"], ["query_squares"]);
        model.Node("ReduceSum", ["query_squares", "axis_last"], ["query_norm3"], [OnnxAttribute.Int("keepdims", 0)]);
        model.Node("Mul", ["document_mean", "document_mean"], ["document_squares"]);
        model.Node("ReduceSum", ["document_squares", "axis_last"], ["document_norm3"], [OnnxAttribute.Int("keepdims", 0)]);
        model.Node("Mul", ["query_norm3", "document_norm3"], ["norm_product"]);
        model.Node("Add", ["norm_product", "tiny"], ["norm_product_safe"]);
        model.Node("Sqrt", ["norm_product_safe"], ["norms"]);
        model.Node("Div", ["mean_dot3", "norms"], ["mean_cosine2"]);
        model.Node("ReduceSum", ["mean_cosine2", "axis_1"], ["mean_cosine"], [OnnxAttribute.Int("keepdims", 0)]);

        // score = (maxsim + cosine) / 2, logit = scale · (score − shift): [batch, 1].
        model.Node("Add", ["maxsim", "mean_cosine"], ["score_sum"]);
        model.Node("Mul", ["score_sum", "half"], ["score"]);
        model.Node("Sub", ["score", "shift"], ["centered"]);
        model.Node("Mul", ["centered", "scale"], ["logit"]);
        model.Node("Unsqueeze", ["logit", "axis_1"], ["logits"]);
        return model.Output("logits", OnnxDataType.Float, Batch, 1).Build();
    }

    private static OnnxAttribute ToFloat => OnnxAttribute.Int("to", (long)OnnxDataType.Float);

    private static OnnxTensor Float16(string name, long[] dims, Half[] values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_data is little-endian.");
        }

        return OnnxTensor.Raw(name, OnnxDataType.Float16, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}

/// <summary>How a reranker's similarity score becomes a logit: scale · (score − shift).</summary>
internal readonly record struct RerankCalibration(float Shift, float Scale);

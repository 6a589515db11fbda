using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using WebConsole.Inference.Onnx;

namespace WebConsole.Unit.Inference.Onnx;

// Models written by OnnxModelBuilder, run by the real ONNX Runtime built from the npm supply chain.
public sealed class GeneratedModelTests
{
    [Fact]
    public void Generated_model_runs_on_the_real_runtime_and_gives_the_known_answer()
    {
        // Y = Relu(X·W + B), batch size symbolic.
        var model = new OnnxModelBuilder()
            .Input("X", OnnxDataType.Float, "batch", 3)
            .Initializer(OnnxTensor.Floats("W", [3, 2], [1f, -1f, 0f, 2f, 0.5f, -0.5f]))
            .Initializer(OnnxTensor.RawFloats("B", [2], [0.5f, -1f]))
            .Node("MatMul", ["X", "W"], ["XW"])
            .Node("Add", ["XW", "B"], ["Z"])
            .Node("Relu", ["Z"], ["Y"])
            .Output("Y", OnnxDataType.Float, "batch", 2)
            .Build();

        using var session = new InferenceSession(model);

        // The signature comes from the model, as it will for downloaded exports.
        var (inputName, input) = Assert.Single(session.InputMetadata);
        Assert.Equal("X", inputName);
        Assert.Equal(TensorElementType.Float, input.ElementDataType);
        Assert.Equal([-1, 3], input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        var (outputName, output) = Assert.Single(session.OutputMetadata);
        Assert.Equal("Y", outputName);
        Assert.Equal([-1, 2], output.Dimensions);

        long batch = 2;
        long[] shape = [batch, input.Dimensions[1]];
        float[] x = [1f, 2f, 3f, -1f, 0f, 2f];
        using var xValue = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [inputName], [xValue], [outputName]);

        // Row 0: [1·1 + 2·0 + 3·0.5, 1·-1 + 2·2 + 3·-0.5] + [0.5, -1] = [3, 0.5].
        // Row 1: [-1·1 + 0 + 2·0.5, -1·-1 + 0 + 2·-0.5] + [0.5, -1] = [0.5, -1] → Relu → [0.5, 0].
        var y = Assert.Single(results);
        Assert.Equal([2L, 2L], y.GetTensorTypeAndShape().Shape);
        Assert.Equal([3f, 0.5f, 0.5f, 0f], y.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void Node_attributes_reach_the_runtime()
    {
        // Gemm: Y = alpha · A · Bᵀ + C; without transB or alpha the answer would differ.
        var model = new OnnxModelBuilder()
            .Input("A", OnnxDataType.Float, "batch", 2)
            .Initializer(OnnxTensor.Floats("Bt", [2, 2], [1f, 3f, 2f, 4f]))
            .Initializer(OnnxTensor.Floats("C", [2], [0.5f, -0.5f]))
            .Node("Gemm", ["A", "Bt", "C"], ["Y"], [OnnxAttribute.Float("alpha", 2f), OnnxAttribute.Int("transB", 1)])
            .Output("Y", OnnxDataType.Float, "batch", 2)
            .Build();

        using var session = new InferenceSession(model);
        var a = NamedOnnxValue.CreateFromTensor(session.InputNames[0], new DenseTensor<float>(new[] { 1f, 2f }, [1, 2]));
        using var results = session.Run([a]);

        // Bᵀ = [[1, 2], [3, 4]]: [1·1 + 2·3, 1·2 + 2·4] = [7, 10]; · 2 + [0.5, -0.5] = [14.5, 19.5].
        var y = Assert.Single(results).AsTensor<float>();
        Assert.Equal([1, 2], y.Dimensions.ToArray());
        Assert.Equal([14.5f, 19.5f], y.ToArray());
    }

    [Fact]
    public void Token_id_inputs_with_two_symbolic_dimensions_run()
    {
        // The shape of a transformer's first layer: int64 input_ids [batch, sequence] → embeddings [batch, sequence, 2].
        var model = new OnnxModelBuilder()
            .Input("input_ids", OnnxDataType.Int64, "batch", "sequence")
            .Initializer(OnnxTensor.Floats("embeddings", [4, 2], [0f, 0f, 1f, 1f, 2f, -2f, 3f, 0.25f]))
            .Node("Gather", ["embeddings", "input_ids"], ["hidden"], [OnnxAttribute.Int("axis", 0)])
            .Output("hidden", OnnxDataType.Float, "batch", "sequence", 2)
            .Build();

        using var session = new InferenceSession(model);
        var input = session.InputMetadata["input_ids"];
        Assert.Equal(TensorElementType.Int64, input.ElementDataType);
        Assert.Equal(["batch", "sequence"], input.SymbolicDimensions);
        Assert.Equal([-1, -1, 2], session.OutputMetadata["hidden"].Dimensions);

        using var ids = OrtValue.CreateTensorValueFromMemory(new long[] { 3, 0, 2, 1, 1, 3 }, [2, 3]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input_ids"], [ids], ["hidden"]);

        var hidden = Assert.Single(results);
        Assert.Equal([2L, 3L, 2L], hidden.GetTensorTypeAndShape().Shape);
        Assert.Equal(
            [3f, 0.25f, 0f, 0f, 2f, -2f, 1f, 1f, 1f, 1f, 3f, 0.25f],
            hidden.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void A_tensor_whose_values_do_not_fit_its_shape_is_refused_before_writing()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxTensor.Floats("W", [2, 2], [1f, 2f, 3f]));

        Assert.Contains("needs 4 values", error.Message, StringComparison.Ordinal);
    }
}

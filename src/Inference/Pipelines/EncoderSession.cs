using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>Reads one output of an encoder run: its values (row-major) and its shape.</summary>
public delegate T EncoderOutputReader<out T>(ReadOnlySpan<float> values, ReadOnlySpan<long> shape);

/// <summary>
/// An encoder's ONNX session: pads a batch of tokenized texts to its longest member and feeds exactly the inputs the
/// graph declares (<c>input_ids</c>, and where present <c>attention_mask</c>, <c>token_type_ids</c>,
/// <c>position_ids</c>; int64 or int32), then hands one output to a reader without copying it. Owns the session;
/// thread-safe (ONNX Runtime runs concurrent calls on one session).
/// </summary>
public sealed class EncoderSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly (string Name, EncoderInput Kind, TensorElementType Type)[] _inputs;

    /// <summary>Wraps <paramref name="session"/> (now owned by this object).</summary>
    /// <param name="modelId">The model, for error messages.</param>
    /// <param name="session">The encoder's session.</param>
    /// <param name="padId">The id written into padding positions (the tokenizer's pad token).</param>
    /// <exception cref="ModelUnavailableException">The graph needs an input an encoder does not have.</exception>
    public EncoderSession(string modelId, InferenceSession session, int padId)
    {
        ArgumentNullException.ThrowIfNull(session);
        ModelId = modelId;
        _session = session;
        PadId = padId;
        _inputs = [.. session.InputMetadata.Select(pair => (pair.Key, KindOf(modelId, pair.Key, pair.Value), pair.Value.ElementDataType))];
        if (!_inputs.Any(i => i.Kind == EncoderInput.InputIds))
        {
            throw new ModelUnavailableException(modelId, $"Model '{modelId}' has no input_ids input.");
        }
    }

    private enum EncoderInput
    {
        InputIds,
        AttentionMask,
        TokenTypeIds,
        PositionIds,
    }

    /// <summary>The model id.</summary>
    public string ModelId { get; }

    /// <summary>The id of padding positions.</summary>
    public int PadId { get; }

    /// <summary>The graph's outputs and their dimensions (-1 where symbolic).</summary>
    public IReadOnlyDictionary<string, int[]> Outputs =>
        _session.OutputMetadata.ToDictionary(pair => pair.Key, pair => pair.Value.Dimensions);

    /// <summary>The first of <paramref name="preferred"/> that the graph outputs, else its first output.</summary>
    public string ChooseOutput(params string[] preferred)
    {
        ArgumentNullException.ThrowIfNull(preferred);
        return preferred.FirstOrDefault(_session.OutputMetadata.ContainsKey) ?? _session.OutputNames[0];
    }

    /// <summary>
    /// Runs the batch, padded on the right to its longest member, and reads <paramref name="output"/>.
    /// Cancelling stops the run inside ONNX Runtime.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public T Run<T>(IReadOnlyList<TokenizedText> batch, string output, EncoderOutputReader<T> read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfZero(batch.Count);
        cancellationToken.ThrowIfCancellationRequested();

        var length = batch.Max(text => text.Length);
        long[] shape = [batch.Count, length];
        var values = new List<OrtValue>(_inputs.Length);
        try
        {
            foreach (var (_, kind, type) in _inputs)
            {
                values.Add(CreateInput(batch, length, kind, type, shape));
            }

            using var runOptions = new RunOptions();
            using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
            try
            {
                using var results = _session.Run(runOptions, [.. _inputs.Select(i => i.Name)], values, [output]);
                var result = results[0];
                return read(result.GetTensorDataAsSpan<float>(), result.GetTensorTypeAndShape().Shape);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        Runtime.NativeMemory.Trim();
    }

    private OrtValue CreateInput(IReadOnlyList<TokenizedText> batch, int length, EncoderInput kind, TensorElementType type, long[] shape)
    {
        var data = new long[batch.Count * length];
        for (var row = 0; row < batch.Count; row++)
        {
            var text = batch[row];
            var offset = row * length;
            for (var position = 0; position < length; position++)
            {
                var real = position < text.Length;
                data[offset + position] = kind switch
                {
                    EncoderInput.InputIds => real ? text.Ids[position] : PadId,
                    EncoderInput.AttentionMask => real ? text.AttentionMask[position] : 0,
                    EncoderInput.TokenTypeIds => real ? text.TypeIds[position] : 0,
                    _ => position,
                };
            }
        }

        return type switch
        {
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(data, shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(data, value => (int)value), shape),
            _ => throw new ModelUnavailableException(ModelId, $"Model '{ModelId}': input type {type} is not supported (int64 or int32)."),
        };
    }

    private static EncoderInput KindOf(string modelId, string name, NodeMetadata metadata)
    {
        if (metadata.ElementDataType is not (TensorElementType.Int64 or TensorElementType.Int32))
        {
            throw new ModelUnavailableException(modelId, $"Model '{modelId}': input {name} is {metadata.ElementDataType}, not int64 or int32.");
        }

        return name switch
        {
            "input_ids" => EncoderInput.InputIds,
            "attention_mask" => EncoderInput.AttentionMask,
            "token_type_ids" => EncoderInput.TokenTypeIds,
            "position_ids" => EncoderInput.PositionIds,
            _ => throw new ModelUnavailableException(modelId, $"Model '{modelId}' needs an input the encoder pipelines do not know: {name}."),
        };
    }
}

using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Bench;

/// <summary>
/// The ceiling: the same ONNX graph on ONNX Runtime in this process, with the session options WebConsole uses
/// (intra-op threads = the endpoint's num_threads, one inter-op thread, sequential, all graph optimizations), fed
/// pre-tokenized inputs sorted by length and packed into batches under the server's token budget (longest × size ≤
/// max tokens, at most max size items). No HTTP, no queue, no tokenization, no pooling: the runtime's own speed.
/// </summary>
internal sealed class EncoderCeiling : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string _output;
    private readonly RunOptions _runOptions = new();

    public EncoderCeiling(string onnxPath, int threads)
    {
        using var options = Options(threads);
        _session = new InferenceSession(onnxPath, options);
        _inputNames = [.. _session.InputMetadata.Keys];
        _output = _session.OutputNames[0];
    }

    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    /// <summary>Batches by length under the token budget, as the server's batcher does at saturation.</summary>
    public static List<TokenizedText[]> Pack(IEnumerable<TokenizedText> texts, int maxBatchTokens, int maxBatchSize)
    {
        var batches = new List<TokenizedText[]>();
        var current = new List<TokenizedText>();
        foreach (var text in texts.OrderBy(t => t.Length))
        {
            // Sorted ascending, so this text is the longest of the batch it joins.
            if (current.Count > 0 && ((current.Count + 1) * text.Length > maxBatchTokens || current.Count == maxBatchSize))
            {
                batches.Add([.. current]);
                current.Clear();
            }

            current.Add(text);
        }

        if (current.Count > 0)
        {
            batches.Add([.. current]);
        }

        return batches;
    }

    /// <summary>Runs one padded batch and answers its real (unpadded) tokens.</summary>
    public long Run(IReadOnlyList<TokenizedText> batch)
    {
        var length = batch.Max(t => t.Length);
        long[] shape = [batch.Count, length];
        var values = new List<OrtValue>(_inputNames.Length);
        try
        {
            foreach (var name in _inputNames)
            {
                var data = new long[batch.Count * length];
                for (var row = 0; row < batch.Count; row++)
                {
                    var text = batch[row];
                    for (var i = 0; i < text.Length; i++)
                    {
                        data[(row * length) + i] = name switch
                        {
                            "input_ids" => text.Ids[i],
                            "attention_mask" => text.AttentionMask[i],
                            "token_type_ids" => text.TypeIds[i],
                            _ => i,
                        };
                    }
                }

                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }

            using var results = _session.Run(_runOptions, _inputNames, values, [_output]);
            return batch.Sum(t => (long)t.Length);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Runs the batches over and over for <paramref name="duration"/>; answers tokens/s and items/s.</summary>
    public (double TokensPerSecond, double ItemsPerSecond) Throughput(IReadOnlyList<TokenizedText[]> batches, TimeSpan duration)
    {
        long tokens = 0, items = 0;
        var clock = Stopwatch.StartNew();
        var i = 0;
        do
        {
            var batch = batches[i++ % batches.Count];
            tokens += Run(batch);
            items += batch.Length;
        }
        while (clock.Elapsed < duration || i < batches.Count);

        var seconds = clock.Elapsed.TotalSeconds;
        return (tokens / seconds, items / seconds);
    }

    /// <summary>Median milliseconds of one batch over <paramref name="runs"/> runs.</summary>
    public double LatencyMs(TokenizedText[] batch, int runs)
    {
        var times = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            Run(batch);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return Stats.Median(times);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}

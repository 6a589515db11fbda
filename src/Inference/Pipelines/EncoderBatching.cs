using WebConsole.Inference.Deployments;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>
/// Splits one request's inputs into batches for direct use of a pipeline (without the deployment scheduler): sorted by
/// length, at most <see cref="MaxBatchSize"/> inputs and <see cref="MaxBatchTokens"/> padded tokens each, and padding
/// within <see cref="BatchingOptions.DefaultMaxPaddingRatio"/> of the real tokens; results come back in input order.
/// </summary>
internal static class EncoderBatching
{
    public const int MaxBatchSize = 32;
    public const int MaxBatchTokens = 16_384;

    public static TResult[] Run<TResult>(
        IReadOnlyList<TokenizedText> inputs,
        Func<IReadOnlyList<TokenizedText>, CancellationToken, IReadOnlyList<TResult>> runBatch,
        CancellationToken cancellationToken)
    {
        var results = new TResult[inputs.Count];
        var order = Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
        var start = 0;
        while (start < order.Length)
        {
            // Sorted ascending, so the last member is the longest and sets the padded size.
            var end = start + 1;
            long real = inputs[order[start]].Length;
            while (end < order.Length && end - start < MaxBatchSize)
            {
                var length = inputs[order[end]].Length;
                var padded = (long)(end - start + 1) * length;
                if (padded > MaxBatchTokens || padded - (real + length) > (real + length) * BatchingOptions.DefaultMaxPaddingRatio)
                {
                    break;
                }

                real += length;
                end++;
            }

            var members = order[start..end];
            var batchResults = runBatch([.. members.Select(i => inputs[i])], cancellationToken);
            for (var i = 0; i < members.Length; i++)
            {
                results[members[i]] = batchResults[i];
            }

            start = end;
        }

        return results;
    }
}

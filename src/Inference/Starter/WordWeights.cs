namespace WebConsole.Inference.Starter;

/// <summary>
/// The arithmetic the starter models are made of: word probabilities estimated from frequency ranks (Zipf's law),
/// smooth inverse frequency weights (SIF, Arora et al. 2017: a / (a + p(w))), the common component of weighted word
/// vectors, and unit-length rows.
/// </summary>
internal static class WordWeights
{
    /// <summary>SIF's smoothing: the paper's recommended 1e-3 for probabilities from a large corpus.</summary>
    public const double SifSmoothing = 1e-3;

    /// <summary>Zipf's estimate of the probability of the word at 0-based <paramref name="rank"/> among <paramref name="vocabularySize"/> words.</summary>
    public static double ZipfProbability(int rank, int vocabularySize)
    {
        // p(r) = 1 / (r * H_N), H_N the N-th harmonic number (≈ ln N + γ).
        var harmonic = Math.Log(vocabularySize) + 0.5772156649 + (1.0 / (2.0 * vocabularySize));
        return 1.0 / ((rank + 1.0) * harmonic);
    }

    /// <summary>SIF weights a / (a + p(w)) of the words of <paramref name="vectors"/>, from their ranks: near 0 for "the", near 1 for rare words.</summary>
    public static float[] Sif(WordVectors vectors, double smoothing = SifSmoothing)
    {
        var weights = new float[vectors.Count];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(smoothing / (smoothing + ZipfProbability(vectors.Ranks[i], vectors.SourceSize)));
        }

        return weights;
    }

    /// <summary>
    /// The first (uncentered) principal component of <paramref name="count"/> rows of <paramref name="rows"/>, by power
    /// iteration on their Gram matrix: the direction all averages of these rows share, which SIF removes.
    /// </summary>
    public static float[] CommonComponent(ReadOnlySpan<float> rows, int count, int dimensions, int iterations = 30)
    {
        // The d x d Gram matrix once (d = 100), then iterations cost d^2 each.
        var gram = new double[dimensions * dimensions];
        var row = new double[dimensions];
        for (var r = 0; r < count; r++)
        {
            var source = rows.Slice(r * dimensions, dimensions);
            for (var i = 0; i < dimensions; i++)
            {
                row[i] = source[i];
            }

            for (var i = 0; i < dimensions; i++)
            {
                var ri = row[i];
                if (ri == 0)
                {
                    continue;
                }

                var line = gram.AsSpan(i * dimensions, dimensions);
                for (var j = 0; j < dimensions; j++)
                {
                    line[j] += ri * row[j];
                }
            }
        }

        var vector = new double[dimensions];
        var next = new double[dimensions];
        Array.Fill(vector, 1.0 / Math.Sqrt(dimensions));
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            for (var i = 0; i < dimensions; i++)
            {
                var sum = 0.0;
                for (var j = 0; j < dimensions; j++)
                {
                    sum += gram[(i * dimensions) + j] * vector[j];
                }

                next[i] = sum;
            }

            var norm = Math.Sqrt(next.Sum(v => v * v));
            if (norm == 0)
            {
                break;
            }

            for (var i = 0; i < dimensions; i++)
            {
                vector[i] = next[i] / norm;
            }
        }

        return Array.ConvertAll(vector, v => (float)v);
    }

    /// <summary>Removes from every row its projection on the unit vector <paramref name="component"/>.</summary>
    public static void RemoveComponent(Span<float> rows, int dimensions, ReadOnlySpan<float> component)
    {
        for (var start = 0; start < rows.Length; start += dimensions)
        {
            var row = rows.Slice(start, dimensions);
            var projection = Dot(row, component);
            for (var i = 0; i < dimensions; i++)
            {
                row[i] -= projection * component[i];
            }
        }
    }

    /// <summary>Scales every non-zero row to unit length.</summary>
    public static void NormalizeRows(Span<float> rows, int dimensions)
    {
        for (var start = 0; start < rows.Length; start += dimensions)
        {
            var row = rows.Slice(start, dimensions);
            var norm = MathF.Sqrt(Dot(row, row));
            if (norm > 0)
            {
                for (var i = 0; i < dimensions; i++)
                {
                    row[i] /= norm;
                }
            }
        }
    }

    /// <summary>The dot product of two rows.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}

using System.Numerics;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>A square matrix the factorization only multiplies: by a block of vectors, and transposed.</summary>
internal interface ILinearOperator
{
    /// <summary>Rows (and columns).</summary>
    int Size { get; }

    /// <summary>result (Size x k, row-major) = M · x (Size x k, row-major).</summary>
    void Multiply(float[] x, int k, float[] result);

    /// <summary>result = Mᵀ · x.</summary>
    void MultiplyTransposed(float[] x, int k, float[] result);
}

/// <summary>
/// Randomized truncated SVD (Halko, Martinsson and Tropp): a Gaussian sketch, a few power iterations, and the exact SVD
/// of the small projected matrix. The sketch comes from a fixed seed and every sum runs in a fixed order (rows are split
/// into a fixed number of blocks whatever the core count), so the same input gives the same bytes on every run.
/// </summary>
internal static class TruncatedSvd
{
    /// <summary>
    /// The top <paramref name="rank"/> singular triplets: U (Size x rank), singular values, V (Size x rank), row-major,
    /// so that M ≈ U diag(S) Vᵀ.
    /// </summary>
    public static (float[] U, float[] S, float[] V) Compute(ILinearOperator matrix, int rank, ulong seed, int oversample = 10, int powerIterations = 2)
    {
        var n = matrix.Size;
        var k = Math.Min(n, rank + oversample);
        var random = new SplitMix64(seed);
        var y = new float[n * k];
        var omega = new float[n * k];
        for (var i = 0; i < omega.Length; i++)
        {
            omega[i] = (float)random.NextNormal();
        }

        matrix.Multiply(omega, k, y);
        Orthonormalize(y, n, k);
        var z = new float[n * k];
        for (var iteration = 0; iteration < powerIterations; iteration++)
        {
            matrix.MultiplyTransposed(y, k, z);
            Orthonormalize(z, n, k);
            matrix.Multiply(z, k, y);
            Orthonormalize(y, n, k);
        }

        // B = Qᵀ M is k x n; its transpose Mᵀ Q is what the operator gives. B Bᵀ = W Λ Wᵀ, U = Q W, V = Bᵀ W Λ^(-1/2).
        var bt = z;
        matrix.MultiplyTransposed(y, k, bt);
        var gram = new double[k * k];
        for (var a = 0; a < k; a++)
        {
            for (var b = a; b < k; b++)
            {
                double sum = 0;
                for (var row = 0; row < n; row++)
                {
                    sum += (double)bt[(row * k) + a] * bt[(row * k) + b];
                }

                gram[(a * k) + b] = gram[(b * k) + a] = sum;
            }
        }

        var (values, vectors) = SymmetricEigen(gram, k);
        var order = Enumerable.Range(0, k).OrderByDescending(i => values[i]).ThenBy(i => i).Take(rank).ToArray();
        var u = new float[n * rank];
        var v = new float[n * rank];
        var s = new float[rank];
        for (var c = 0; c < rank; c++)
        {
            var e = order[c];
            var sigma = Math.Sqrt(Math.Max(values[e], 0));
            s[c] = (float)sigma;

            // Signs are made canonical (largest entry of U positive) so a factor never flips between builds.
            double uLargest = 0;
            for (var row = 0; row < n; row++)
            {
                double ur = 0, vr = 0;
                for (var j = 0; j < k; j++)
                {
                    ur += y[(row * k) + j] * vectors[(j * k) + e];
                    vr += bt[(row * k) + j] * vectors[(j * k) + e];
                }

                u[(row * rank) + c] = (float)ur;
                v[(row * rank) + c] = sigma > 1e-12 ? (float)(vr / sigma) : 0f;
                if (Math.Abs(ur) > Math.Abs(uLargest))
                {
                    uLargest = ur;
                }
            }

            if (uLargest < 0)
            {
                for (var row = 0; row < n; row++)
                {
                    u[(row * rank) + c] = -u[(row * rank) + c];
                    v[(row * rank) + c] = -v[(row * rank) + c];
                }
            }
        }

        return (u, s, v);
    }

    /// <summary>Modified Gram-Schmidt on the k columns of a row-major n x k block (in double, written back as float).</summary>
    private static void Orthonormalize(float[] block, int n, int k)
    {
        var columns = new double[k][];
        for (var c = 0; c < k; c++)
        {
            columns[c] = new double[n];
            for (var row = 0; row < n; row++)
            {
                columns[c][row] = block[(row * k) + c];
            }
        }

        for (var c = 0; c < k; c++)
        {
            var column = columns[c];
            for (var previous = 0; previous < c; previous++)
            {
                var dot = Dot(column, columns[previous]);
                var other = columns[previous];
                for (var row = 0; row < n; row++)
                {
                    column[row] -= dot * other[row];
                }
            }

            var norm = Math.Sqrt(Dot(column, column));
            for (var row = 0; row < n; row++)
            {
                column[row] = norm > 1e-20 ? column[row] / norm : 0;
            }
        }

        for (var c = 0; c < k; c++)
        {
            for (var row = 0; row < n; row++)
            {
                block[(row * k) + c] = (float)columns[c][row];
            }
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Cyclic Jacobi eigen-decomposition of a small symmetric matrix: eigenvalues and eigenvectors as columns.</summary>
    private static (double[] Values, double[] Vectors) SymmetricEigen(double[] matrix, int k)
    {
        var a = (double[])matrix.Clone();
        var vectors = new double[k * k];
        for (var i = 0; i < k; i++)
        {
            vectors[(i * k) + i] = 1;
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            double offDiagonal = 0, diagonal = 0;
            for (var p = 0; p < k; p++)
            {
                diagonal += a[(p * k) + p] * a[(p * k) + p];
                for (var q = p + 1; q < k; q++)
                {
                    offDiagonal += a[(p * k) + q] * a[(p * k) + q];
                }
            }

            if (offDiagonal <= 1e-22 * diagonal)
            {
                break;
            }

            for (var p = 0; p < k; p++)
            {
                for (var q = p + 1; q < k; q++)
                {
                    var apq = a[(p * k) + q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }

                    var theta = (a[(q * k) + q] - a[(p * k) + p]) / (2 * apq);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    var c = 1 / Math.Sqrt((t * t) + 1);
                    var s = t * c;
                    for (var r = 0; r < k; r++)
                    {
                        var arp = a[(r * k) + p];
                        var arq = a[(r * k) + q];
                        a[(r * k) + p] = (c * arp) - (s * arq);
                        a[(r * k) + q] = (s * arp) + (c * arq);
                    }

                    for (var r = 0; r < k; r++)
                    {
                        var apr = a[(p * k) + r];
                        var aqr = a[(q * k) + r];
                        a[(p * k) + r] = (c * apr) - (s * aqr);
                        a[(q * k) + r] = (s * apr) + (c * aqr);
                    }

                    for (var r = 0; r < k; r++)
                    {
                        var vrp = vectors[(r * k) + p];
                        var vrq = vectors[(r * k) + q];
                        vectors[(r * k) + p] = (c * vrp) - (s * vrq);
                        vectors[(r * k) + q] = (s * vrp) + (c * vrq);
                    }
                }
            }
        }

        var values = new double[k];
        for (var i = 0; i < k; i++)
        {
            values[i] = a[(i * k) + i];
        }

        return (values, vectors);
    }
}

/// <summary>A dense square matrix, row-major.</summary>
internal sealed class DenseMatrix(int size, float[] values) : ILinearOperator
{
    // A fixed block count (not the core count) keeps the order of every sum, hence the bytes, the same on any machine.
    private const int Blocks = 16;

    public int Size => size;

    public void Multiply(float[] x, int k, float[] result)
    {
        Parallel.For(0, Blocks, block =>
        {
            var (start, end) = BlockRange(block);
            for (var row = start; row < end; row++)
            {
                var target = result.AsSpan(row * k, k);
                target.Clear();
                var weights = values.AsSpan(row * size, size);
                for (var j = 0; j < size; j++)
                {
                    if (weights[j] != 0)
                    {
                        Axpy(weights[j], x.AsSpan(j * k, k), target);
                    }
                }
            }
        });
    }

    public void MultiplyTransposed(float[] x, int k, float[] result)
    {
        var partials = new float[Blocks][];
        Parallel.For(0, Blocks, block =>
        {
            var partial = partials[block] = new float[size * k];
            var (start, end) = BlockRange(block);
            for (var row = start; row < end; row++)
            {
                var source = x.AsSpan(row * k, k);
                var weights = values.AsSpan(row * size, size);
                for (var j = 0; j < size; j++)
                {
                    if (weights[j] != 0)
                    {
                        Axpy(weights[j], source, partial.AsSpan(j * k, k));
                    }
                }
            }
        });

        Sum(partials, result);
    }

    internal static void Sum(float[][] partials, float[] result)
    {
        Array.Clear(result);
        foreach (var partial in partials)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] += partial[i];
            }
        }
    }

    internal static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var scale = new Vector<float>(a);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var sum = new Vector<float>(y[i..]) + (scale * new Vector<float>(x[i..]));
                sum.CopyTo(y[i..]);
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }

    private (int Start, int End) BlockRange(int block) => (block * size / Blocks, (block + 1) * size / Blocks);
}

/// <summary>A sparse square matrix in compressed rows.</summary>
internal sealed class SparseMatrix(int size, int[] rowStarts, int[] columns, float[] values) : ILinearOperator
{
    private const int Blocks = 16;

    public int Size => size;

    public void Multiply(float[] x, int k, float[] result)
    {
        Parallel.For(0, Blocks, block =>
        {
            for (var row = block * size / Blocks; row < (block + 1) * size / Blocks; row++)
            {
                var target = result.AsSpan(row * k, k);
                target.Clear();
                for (var e = rowStarts[row]; e < rowStarts[row + 1]; e++)
                {
                    DenseMatrix.Axpy(values[e], x.AsSpan(columns[e] * k, k), target);
                }
            }
        });
    }

    public void MultiplyTransposed(float[] x, int k, float[] result)
    {
        var partials = new float[Blocks][];
        Parallel.For(0, Blocks, block =>
        {
            var partial = partials[block] = new float[size * k];
            for (var row = block * size / Blocks; row < (block + 1) * size / Blocks; row++)
            {
                var source = x.AsSpan(row * k, k);
                for (var e = rowStarts[row]; e < rowStarts[row + 1]; e++)
                {
                    DenseMatrix.Axpy(values[e], source, partial.AsSpan(columns[e] * k, k));
                }
            }
        });

        DenseMatrix.Sum(partials, result);
    }
}

/// <summary>SplitMix64 with Box-Muller normals: fully specified, so a seed gives the same numbers on every machine.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    public double NextNormal()
    {
        var u1 = NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

